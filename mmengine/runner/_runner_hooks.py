"""Hook registration and dispatch for the Runner.

Dispatch is the only per-iteration work the Runner adds, so it is cheap:
for each hook point the list of hooks that actually implement it (override
the no-op of ``Hook``) is computed once and cached; hooks that do nothing
at a point are never called there.
"""
import copy
from typing import Any, Dict, List, Optional, Tuple, Union

from mmengine.registry import HOOKS

__all__ = ['HookMixin']

_DEFAULT_HOOKS = (
    ('runtime_info', dict(type='RuntimeInfoHook')),
    ('timer', dict(type='IterTimerHook')),
    ('sampler_seed', dict(type='DistSamplerSeedHook')),
    ('logger', dict(type='LoggerHook')),
    ('param_scheduler', dict(type='ParamSchedulerHook')),
    ('checkpoint', dict(type='CheckpointHook', interval=1)),
)


def _hook_base() -> type:
    from mmengine.hooks import Hook
    return Hook


def _private_methods(base: type) -> Tuple[str, ...]:
    """Names of the helper methods the public points of ``Hook`` delegate
    to (``_before_iter`` and the like)."""
    return tuple(
        name for name, value in vars(base).items()
        if name.startswith('_') and not name.startswith('__')
        and callable(value))


def _implements(hook: Any, fn_name: str, base: type,
                private: Tuple[str, ...]) -> bool:
    """Whether calling ``hook.<fn_name>`` can do anything."""
    if fn_name in getattr(hook, '__dict__', {}):
        return True  # set on the instance (e.g. a mock)
    method = getattr(type(hook), fn_name, None)
    if method is None:
        return hasattr(hook, fn_name)  # dynamic attribute
    if not isinstance(hook, base):
        return True
    default = base.__dict__.get(fn_name)
    if default is None or method is not default:
        return True
    # A hook may override the shared helper instead of the public point.
    cls = type(hook)
    return any(getattr(cls, name) is not base.__dict__[name]
               for name in private)


class HookMixin:
    """Hook management part of :class:`Runner`."""

    _hooks: List[Any]

    def register_hook(self,
                      hook: Union[Any, Dict],
                      priority: Optional[Union[int, str, Any]] = None) -> None:
        """Register a hook, keeping ``self._hooks`` sorted by priority.

        Hooks of equal priority keep their registration order.

        Args:
            hook (Hook | dict): Hook or config (its ``priority`` key is
                honoured).
            priority (int | str | Priority, optional): Overrides the hook's
                priority.
        """
        from .priority import get_priority
        Hook = _hook_base()
        if not isinstance(hook, (Hook, dict)):
            raise TypeError(
                f'hook should be an instance of Hook or dict, but got {hook}')
        _priority = None
        if isinstance(hook, dict):
            hook = copy.copy(hook)
            _priority = hook.pop('priority', None)
            hook_obj = HOOKS.build(hook)
        else:
            hook_obj = hook
        if priority is not None:
            hook_obj.priority = priority
        elif _priority is not None:
            hook_obj.priority = _priority
        level = get_priority(hook_obj.priority)
        index = 0
        for i in range(len(self._hooks) - 1, -1, -1):
            if level >= get_priority(self._hooks[i].priority):
                index = i + 1
                break
        self._hooks.insert(index, hook_obj)

    def register_default_hooks(
            self, hooks: Optional[Dict[str, Union[Any, Dict]]] = None) -> None:
        """Register the default hooks, updated by ``hooks``.

        Defaults: ``runtime_info`` (RuntimeInfoHook), ``timer``
        (IterTimerHook), ``sampler_seed`` (DistSamplerSeedHook), ``logger``
        (LoggerHook), ``param_scheduler`` (ParamSchedulerHook),
        ``checkpoint`` (CheckpointHook, interval=1). A value in ``hooks``
        replaces the default of that name (None removes it); new names add
        hooks.

        Args:
            hooks (dict, optional): ``name -> hook or cfg or None``.
        """
        default_hooks: Dict[str, Any] = {
            name: dict(cfg)
            for name, cfg in _DEFAULT_HOOKS
        }
        if hooks is not None:
            if not isinstance(hooks, dict):
                raise TypeError('default_hooks should be a dict of name -> '
                                f'hook or config, but got {type(hooks)}')
            default_hooks.update(hooks)
        for hook in default_hooks.values():
            if hook is not None:
                self.register_hook(hook)

    def register_custom_hooks(self, hooks: List[Union[Any, Dict]]) -> None:
        """Register each hook of ``hooks``.

        Args:
            hooks (list[Hook | dict]): Hooks or configs.
        """
        if not isinstance(hooks, (list, tuple)):
            raise TypeError('custom_hooks should be a list of hooks or '
                            f'configs, but got {type(hooks)}')
        for hook in hooks:
            self.register_hook(hook)

    def register_hooks(
            self,
            default_hooks: Optional[Dict[str, Union[Any, Dict]]] = None,
            custom_hooks: Optional[List[Union[Any, Dict]]] = None) -> None:
        """Register the default hooks and then the custom hooks.

        Args:
            default_hooks (dict, optional): See
                :meth:`register_default_hooks`.
            custom_hooks (list, optional): See :meth:`register_custom_hooks`.
        """
        self.register_default_hooks(default_hooks)
        if custom_hooks is not None:
            self.register_custom_hooks(custom_hooks)

    def _hooks_for(self, fn_name: str) -> List[Any]:
        """Hooks implementing ``fn_name``, cached per point.

        The cache remembers the ``self._hooks`` list object and its length,
        so registering a hook (the list grows) or assigning a new list
        invalidates it.
        """
        hooks = self._hooks
        cache = self.__dict__.get('_hook_cache')
        if cache is None or cache[0] is not hooks or cache[1] != len(hooks):
            Hook = _hook_base()
            cache = (hooks, len(hooks), {}, Hook, _private_methods(Hook))
            self.__dict__['_hook_cache'] = cache
        table = cache[2]
        found = table.get(fn_name)
        if found is None:
            found = tuple(h for h in hooks
                          if _implements(h, fn_name, cache[3], cache[4]))
            table[fn_name] = found
        return found  # type: ignore

    def call_hook(self, fn_name: str, **kwargs) -> None:
        """Call ``fn_name(self, **kwargs)`` of every hook implementing it, in
        priority order (hooks lacking the method are skipped, so loops can
        define new hook points).

        Args:
            fn_name (str): The hook point, e.g. ``'after_train_iter'``.
            **kwargs: Arguments of the point.
        """
        # Called a few times per iteration: the cache check is inlined.
        hooks = self._hooks
        cache = self.__dict__.get('_hook_cache')
        if cache is not None and cache[0] is hooks and cache[1] == len(hooks):
            found = cache[2].get(fn_name)
            if found is None:
                found = self._hooks_for(fn_name)
        else:
            found = self._hooks_for(fn_name)
        for hook in found:
            try:
                getattr(hook, fn_name)(self, **kwargs)
            except TypeError as e:
                raise TypeError(f'{e} in {hook}') from e

    # The docs call it call_hooks.
    call_hooks = call_hook

    def get_hooks_info(self) -> str:
        """A table of the hooks triggered at each stage, by priority."""
        from .priority import Priority
        Hook = _hook_base()
        stages = getattr(Hook, 'stages', None)
        private = _private_methods(Hook)
        if stages is None:
            stages = tuple(
                name for name in vars(Hook)
                if name.startswith(('before_', 'after_')))
        stage_infos: Dict[str, List[str]] = {stage: [] for stage in stages}
        for hook in self._hooks:
            try:
                priority = Priority(hook.priority).name
            except ValueError:
                priority = hook.priority
            info = f'({priority:<12}) {type(hook).__name__:<35}'
            if hasattr(hook, 'get_triggered_stages'):
                triggered = hook.get_triggered_stages()
            else:
                triggered = [
                    s for s in stages if _implements(hook, s, Hook, private)
                ]
            for stage in triggered:
                stage_infos.setdefault(stage, []).append(info)
        blocks = []
        for stage, infos in stage_infos.items():
            if infos:
                blocks.append(f'{stage}:\n' + '\n'.join(infos) +
                              '\n -------------------- ')
        return '\n'.join(blocks)
