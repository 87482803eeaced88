"""Builders that turn a config dict into an object through a ``Registry``."""
import importlib.util
import inspect
import sys
from typing import Any, Optional, Union

from mmengine.utils import ManagerMeta, ManagerMixin

from ._log import debug_logger
from .default_scope import DefaultScope, _overrides
from .registry import Registry, RegistryKeyError

# Longest config text quoted in an error note; a full Runner config would
# bury the message.
_MAX_CFG_REPR = 500


def _is_config(cfg: Any) -> bool:
    """Whether ``cfg`` is a ``mmengine.config.Config``.

    Looked up in ``sys.modules`` rather than imported: if mmengine.config was
    never imported, no Config object can exist.
    """
    config_cls = getattr(sys.modules.get('mmengine.config'), 'Config', None)
    return config_cls is not None and isinstance(cfg, config_cls)


def _as_dict(cfg: Any, what: str) -> dict:
    """Shallow copy of a dict / ConfigDict / Config as a plain dict."""
    if isinstance(cfg, dict):  # ConfigDict is a dict
        return dict(cfg)
    if _is_config(cfg):
        return dict(cfg.items())
    raise TypeError(
        f'{what} should be a dict, ConfigDict or Config, but got {type(cfg)}')


def _cfg_repr(cfg: Any) -> str:
    try:
        text = repr(dict(cfg.items()) if hasattr(cfg, 'items') else cfg)
    except Exception:  # a broken __repr__ must not hide the real error
        text = object.__repr__(cfg)
    if len(text) > _MAX_CFG_REPR:
        text = text[:_MAX_CFG_REPR] + ' ...'
    return text


def _add_note(error: BaseException, note: str) -> None:
    # PEP 678 notes keep the original type and traceback (Python >= 3.11).
    add_note = getattr(error, 'add_note', None)
    if add_note is not None:
        add_note(note)


def _resolve_type(obj_type: Any, registry: Registry, cfg: Any):
    """Return ``(callable, registry it came from)`` for a cfg's ``type``."""
    if isinstance(obj_type, str):
        obj_cls, origin = registry._get_with_origin(obj_type)
        if obj_cls is None:
            raise RegistryKeyError(registry.describe_missing(obj_type))
        return obj_cls, origin
    if callable(obj_type):
        return obj_type, None
    raise TypeError(
        f'type must be a str or valid type, but got {type(obj_type)}')


def _log_get(logger, obj_cls: Any, origin: Optional[Registry]) -> None:
    # Logged before the constructor runs, so that in nested builds the
    # lines read top-down and a failing constructor is preceded by its class.
    if origin is not None:
        name = getattr(obj_cls, '__name__', None) or obj_cls
        logger.debug(f'Get class `{name}` from "{origin.name}" '
                     f'registry in "{origin.scope}"')


def _log_built(logger, obj_cls: Any, obj_type: Any) -> None:
    name = getattr(obj_cls, '__name__', None)
    if name is not None and getattr(obj_cls, '__module__', None):
        logger.debug(f'An `{name}` instance is built from registry, its '
                     f'implementation can be found in {obj_cls.__module__}')
    else:
        logger.debug(f'An instance is built from registry by `{obj_type}`, '
                     'a partial function or other callable without a '
                     'module; its implementation cannot be located')


def _check_args(cfg: Any, registry: Any, default_args: Any) -> dict:
    if not isinstance(registry, Registry):
        raise TypeError('registry must be a mmengine.Registry object, but got '
                        f'{type(registry)}')
    args = dict(cfg) if isinstance(cfg, dict) else _as_dict(cfg, 'cfg')
    if default_args is not None:
        for key, value in _as_dict(default_args, 'default_args').items():
            args.setdefault(key, value)
    if 'type' not in args:
        raise RegistryKeyError(
            '`cfg` or `default_args` must contain the key "type" (the '
            f'registered name or class to build in the "{registry.name}" '
            f'registry), but got cfg {_cfg_repr(cfg)} and default_args '
            f'{_cfg_repr(default_args)}')
    return args


def _instantiate(args: dict, registry: Registry, cfg: Any) -> Any:
    obj_type = args.pop('type')
    # Fast path for the common case, a plain name registered in the
    # registry itself; anything else goes through the full lookup.
    obj_cls = None
    if type(obj_type) is str and registry._imported:
        obj_cls = registry._module_dict.get(obj_type)
        origin = registry
    if obj_cls is None:
        obj_cls, origin = _resolve_type(obj_type, registry, cfg)
    # Asked once per build (it is on the hot path); a constructor that turns
    # DEBUG logging on only affects later builds.
    logger = debug_logger()
    if logger is not None:
        _log_get(logger, obj_cls, origin)
    try:
        # ManagerMixin classes (Visualizer, MessageHub ...) are global named
        # instances: create them through get_instance so that
        # get_current_instance() finds them.
        if isinstance(obj_cls, ManagerMeta) and issubclass(
                obj_cls, ManagerMixin):
            obj = obj_cls.get_instance(**args)
        else:
            obj = obj_cls(**args)
    except Exception as e:
        _add_note(
            e, f'while building `{getattr(obj_cls, "__name__", obj_cls)}` '
            f'from the "{registry.name}" registry (scope "{registry.scope}") '
            f'with config {_cfg_repr(cfg)}')
        raise
    if logger is not None:
        _log_built(logger, obj_cls, obj_type)
    return obj


def build_from_cfg(cfg: Any,
                   registry: Registry,
                   default_args: Optional[Any] = None) -> Any:
    """Build an object from a config dict.

    ``cfg['type']`` is a registered name (optionally ``'<scope>.'``-prefixed)
    or the class/function itself; the other keys are keyword arguments. For a
    function the call result is returned. ``_scope_`` makes the build, and
    every build nested in it, run with that scope as the default scope.

    Args:
        cfg (dict | ConfigDict | Config): Config with a ``type`` key (or
            ``default_args`` supplying one). Not modified.
        registry (Registry): Registry to look ``type`` up in.
        default_args (dict | ConfigDict | Config, optional): Arguments used
            for keys that ``cfg`` does not set.

    Returns:
        The built object.

    Raises:
        TypeError: ``cfg``/``default_args``/``registry``/``type`` of the
            wrong type.
        KeyError: no ``type``, or ``type`` not found (the message lists the
            scopes searched, the import locations and close names).
        Exception: whatever the constructor raises, with a note naming the
            class and the config.

    Examples:
        >>> build_from_cfg(dict(type='ResNet', depth=50), MODELS)
    """
    args = _check_args(cfg, registry, default_args)
    scope = args.pop('_scope_', None)
    if scope is None:
        # Fast path: no scope switch, so no context manager to enter.
        if DefaultScope._instance_dict or _overrides.stack:
            registry = registry._registry_for_current_scope()
        return _instantiate(args, registry, cfg)
    with registry.switch_scope_and_registry(scope) as scoped_registry:
        return _instantiate(args, scoped_registry, cfg)


def build_model_from_cfg(cfg: Union[dict, list, Any],
                         registry: Registry,
                         default_args: Optional[Any] = None) -> Any:
    """Build a model; a list of configs builds a ``Sequential`` of them.

    Args:
        cfg (dict | list[dict]): Model config(s).
        registry (Registry): The model registry.
        default_args (dict, optional): Default arguments of every build.
    """
    if not isinstance(cfg, list):
        return build_from_cfg(cfg, registry, default_args)
    modules = [build_from_cfg(c, registry, default_args) for c in cfg]
    # mmengine.model.Sequential (a BaseModule) is the intended container.
    # While mmengine.model is not part of this installation, fall back to
    # torch's; if it exists, import errors inside it must surface.
    if importlib.util.find_spec('mmengine.model') is not None:
        from mmengine.model import Sequential
    else:
        from torch.nn import Sequential
    return Sequential(*modules)


def build_runner_from_cfg(cfg: Any, registry: Registry) -> Any:
    """Build a runner with ``RunnerClass.from_cfg(cfg)``.

    The class is ``cfg['runner_type']`` (a registered name or a class),
    ``'Runner'`` by default; the whole config is passed to ``from_cfg``.

    Args:
        cfg (dict | ConfigDict | Config): The full runner config.
        registry (Registry): The runner registry.
    """
    if not isinstance(registry, Registry):
        raise TypeError('registry must be a mmengine.Registry object, but got '
                        f'{type(registry)}')
    if not (isinstance(cfg, dict) or _is_config(cfg)):
        raise TypeError('cfg should be a dict, ConfigDict or Config, but got '
                        f'{type(cfg)}')
    args = cfg.copy()
    scope = args.pop('_scope_', None)
    with registry.switch_scope_and_registry(scope) as scoped_registry:
        runner_type = args.get('runner_type', 'Runner')
        if isinstance(runner_type, str):
            runner_cls, origin = _resolve_type(runner_type, scoped_registry,
                                               cfg)
        elif inspect.isclass(runner_type):
            runner_cls, origin = runner_type, None
        else:
            raise TypeError('runner_type must be a str or a class, but got '
                            f'{type(runner_type)}')
        logger = debug_logger()
        if logger is not None:
            _log_get(logger, runner_cls, origin)
        try:
            runner = runner_cls.from_cfg(args)
        except Exception as e:
            _add_note(e, f'while building runner `{runner_cls.__name__}` '
                      f'from the "{scoped_registry.name}" registry')
            raise
        # asked again: the runner usually creates the DEBUG logger itself
        logger = debug_logger()
        if logger is not None:
            _log_built(logger, runner_cls, runner_type)
        return runner


def build_scheduler_from_cfg(cfg: Any,
                             registry: Registry,
                             default_args: Optional[Any] = None) -> Any:
    """Build a parameter scheduler, converting epochs to iterations if asked.

    With ``convert_to_iter_based=True`` the scheduler class's
    ``build_iter_from_epoch(**args)`` is used; it needs ``epoch_length``
    (the runner passes ``len(train_dataloader)`` in ``default_args``) and an
    epoch-based config (``by_epoch`` true). Otherwise ``epoch_length`` is
    dropped and the scheduler is built normally.

    Args:
        cfg (dict | ConfigDict | Config): Scheduler config.
        registry (Registry): The scheduler registry.
        default_args (dict, optional): e.g. ``optimizer`` and
            ``epoch_length``.
    """
    args = _check_args(cfg, registry, default_args)
    scope = args.pop('_scope_', None)
    with registry.switch_scope_and_registry(scope) as scoped_registry:
        convert_to_iter = args.pop('convert_to_iter_based', False)
        if not convert_to_iter:
            args.pop('epoch_length', None)
            return _instantiate(args, scoped_registry, cfg)
        if 'epoch_length' not in args or args['epoch_length'] is None:
            raise ValueError(
                'convert_to_iter_based=True needs `epoch_length` (the number '
                'of iterations per epoch) to convert the epoch-based '
                f'scheduler to iteration-based; got config {_cfg_repr(cfg)}')
        if not args.get('by_epoch', True):
            raise ValueError(
                'Only an epoch-based parameter scheduler (by_epoch=True) can '
                'be converted to iteration-based, but got by_epoch=False in '
                f'{_cfg_repr(cfg)}')
        scheduler_type = args.pop('type')
        scheduler_cls, origin = _resolve_type(scheduler_type, scoped_registry,
                                              cfg)
        if not hasattr(scheduler_cls, 'build_iter_from_epoch'):
            raise TypeError(
                f'{getattr(scheduler_cls, "__name__", scheduler_cls)} has no '
                '`build_iter_from_epoch` classmethod, so it cannot be used '
                'with convert_to_iter_based=True')
        logger = debug_logger()
        if logger is not None:
            _log_get(logger, scheduler_cls, origin)
        try:
            scheduler = scheduler_cls.build_iter_from_epoch(**args)
        except Exception as e:
            _add_note(e, f'while building `{scheduler_cls.__name__}` with '
                      f'convert_to_iter_based=True from config '
                      f'{_cfg_repr(cfg)}')
            raise
        if logger is not None:
            _log_built(logger, scheduler_cls, scheduler_type)
        return scheduler
