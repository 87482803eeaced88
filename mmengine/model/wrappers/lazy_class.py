"""Stand-ins for classes whose defining module is expensive to import.

``MMFullyShardedDataParallel`` subclasses torch's FSDP, and importing
``torch.distributed.fsdp`` costs about half a second; ``import mmengine.model``
must not pay that when FSDP is not used. The stand-in made here is exported
and registered under the real name; it behaves like the real class:

- calling it builds an instance of the real class;
- ``isinstance`` / ``issubclass`` checks are answered by the real class (and
  are False, without importing anything, while the real module is not
  loaded: no instance can exist then);
- subclassing it subclasses the real class;
- other (non-dunder) attributes are read from the real class.
"""
import importlib
import sys
import types
from typing import Any, Optional

__all__ = ['lazy_class']


class _LazyClassMeta(type):

    _lazy_module: str
    _lazy_name: str

    def __new__(mcs, name, bases, namespace, **kwargs):
        if '_lazy_module' in namespace:  # the stand-in itself
            return super().__new__(mcs, name, bases, namespace, **kwargs)
        # A user class deriving from the stand-in: derive from the real class.
        real_bases = tuple(
            b._lazy_target() if isinstance(b, _LazyClassMeta) else b
            for b in bases)
        return types.new_class(name, real_bases, kwargs,
                               lambda ns: ns.update(namespace))

    def _lazy_target(cls) -> type:
        module = importlib.import_module(cls._lazy_module)
        return getattr(module, cls._lazy_name)

    def _lazy_loaded(cls) -> Optional[type]:
        module = sys.modules.get(cls._lazy_module)
        target = getattr(module, cls._lazy_name, None)
        return target if isinstance(target, type) else None

    def __call__(cls, *args, **kwargs) -> Any:
        return cls._lazy_target()(*args, **kwargs)

    def __instancecheck__(cls, obj: Any) -> bool:
        target = cls._lazy_loaded()
        return target is not None and isinstance(obj, target)

    def __subclasscheck__(cls, sub: type) -> bool:
        if sub is cls:
            return True
        target = cls._lazy_loaded()
        return target is not None and issubclass(sub, target)

    def __getattr__(cls, name: str) -> Any:
        if name.startswith('__'):
            raise AttributeError(name)
        return getattr(cls._lazy_target(), name)


def lazy_class(module: str, name: str, doc: str = '') -> type:
    """Create a stand-in for class ``name`` of ``module`` (see module doc).

    Args:
        module (str): Import path of the module defining the real class.
        name (str): Name of the class in that module.
        doc (str): Docstring of the stand-in.
    """
    namespace = dict(
        _lazy_module=module,
        _lazy_name=name,
        __doc__=doc,
        __module__=module.rsplit('.', 1)[0])
    return _LazyClassMeta(name, (), namespace)
