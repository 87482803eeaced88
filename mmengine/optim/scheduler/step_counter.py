"""Counting ``optimizer.step()`` calls, to warn when a parameter scheduler
steps before its optimizer (the value of the first step would be lost)."""
import copy
import weakref
from typing import Any, Callable, Optional

__all__: list = []

# Attribute set on the optimizer (or OptimWrapper) counting ``step()`` calls
# since the last scheduler was built; used only to warn about a wrong order.
_STEP_COUNT_ATTR = '_param_scheduler_step_count'


class _CountedStep:
    """Replacement of ``optimizer.step`` that counts its calls.

    Holds the optimizer weakly (no reference cycle), survives
    ``copy.deepcopy`` of the optimizer (it rebinds to the copy) and pickling.
    """
    _counted_by_param_scheduler = True

    def __init__(self, owner: Any, func: Optional[Callable],
                 step: Optional[Callable]):
        self._owner = weakref.ref(owner)
        self._func = func  # unbound function, called with the owner
        self._step = step  # any other callable, called as is
        name = getattr(func or step, '__name__', 'step')
        self.__name__ = name
        self.__doc__ = getattr(func or step, '__doc__', None)

    @classmethod
    def wrap(cls, owner: Any) -> None:
        step = owner.step
        if getattr(step, '_counted_by_param_scheduler', False):
            return
        if getattr(step, '__self__', None) is owner and hasattr(
                step, '__func__'):
            counted = cls(owner, step.__func__, None)
        else:
            counted = cls(owner, None, step)
        owner.step = counted

    def __call__(self, *args, **kwargs):
        owner = self._owner()
        if owner is not None:
            setattr(owner, _STEP_COUNT_ATTR,
                    getattr(owner, _STEP_COUNT_ATTR, 0) + 1)
        if self._func is not None:
            return self._func(owner, *args, **kwargs)
        return self._step(*args, **kwargs)

    def __deepcopy__(self, memo: dict) -> '_CountedStep':
        owner = self._owner()
        new_owner = memo.get(id(owner), owner)
        step = copy.deepcopy(self._step, memo)
        return _CountedStep(new_owner, self._func, step)

    def __reduce__(self):
        return _rebuild_counted_step, (self._owner(), self._func, self._step)


def _rebuild_counted_step(owner: Any, func: Optional[Callable],
                          step: Optional[Callable]) -> _CountedStep:
    return _CountedStep(owner, func, step)
