"""Merging of config dicts: ``_base_`` inheritance, ``_delete_``,
``merge_from_dict`` and ``{{_base_.x}}`` substitution."""
import copy
from typing import Any, Optional

from .config_dict import ConfigDict
from .utils import DELETE_KEY, ConfigParsingError, get_by_path


def _strip_delete(value: Any) -> Any:
    """Copy of ``value`` without ``_delete_`` markers in its dicts."""
    if isinstance(value, dict):
        new = ConfigDict()
        for k, v in dict.items(value):
            if k != DELETE_KEY:
                dict.__setitem__(new, k, _strip_delete(v))
        return new
    if type(value) in (list, tuple):
        return type(value)(_strip_delete(v) for v in value)
    return value


def _has_delete(value: Any) -> bool:
    if isinstance(value, dict):
        return DELETE_KEY in value or any(
            _has_delete(v) for v in dict.values(value))
    if type(value) in (list, tuple):
        return any(_has_delete(v) for v in value)
    return False


def merge_a_into_b(a: dict,
                   b: Any,
                   allow_list_keys: bool = False) -> Any:
    """Merge dict ``a`` into ``b`` (a copy of it is returned).

    Nested dicts merge key by key unless ``a``'s dict has
    ``_delete_=True``; other values of ``a`` replace those of ``b``.
    With ``allow_list_keys``, digit keys of ``a`` address list items.

    Raises:
        TypeError: a dict in ``a`` meets a non-dict value in ``b``.
        KeyError: a list index is out of range.
    """
    if isinstance(b, dict):
        b = b.copy() if isinstance(b, ConfigDict) else ConfigDict(b)
    else:
        b = list(b) if isinstance(b, list) else b
    for k, v in dict.items(a):
        if k == DELETE_KEY:
            continue
        if (allow_list_keys and isinstance(b, list) and isinstance(k, str)
                and k.isdigit()):
            index = int(k)
            if index >= len(b):
                raise KeyError(f'Index {index} exceeds the length of list '
                               f'{b}')
            if isinstance(v, dict):
                b[index] = merge_a_into_b(v, b[index], allow_list_keys)
            else:
                b[index] = v
            continue
        if isinstance(b, list):
            raise TypeError(
                f'cannot merge key {k!r} into the list {b}: use integer '
                'keys with allow_list_keys=True')
        if isinstance(v, dict):
            delete = bool(v.get(DELETE_KEY, False))
            if k in b and not delete:
                allowed = (dict, list) if allow_list_keys else dict
                old = dict.__getitem__(b, k)
                if isinstance(old, list) and not allow_list_keys and all(
                        isinstance(i, str) and i.isdigit() for i in v):
                    raise TypeError(
                        f'{k}={v}: {k} is a list, and integer keys address '
                        'its items only with allow_list_keys=True (e.g. '
                        f'merge_from_dict({{"{k}.0.x": 1}}, '
                        'allow_list_keys=True))')
                if not isinstance(old, allowed):
                    raise TypeError(
                        f'{k}={v} in child config cannot inherit from '
                        f'base because {k} is a dict in the child config '
                        f'but is of type {type(old)} in base config. You '
                        f'may set `{DELETE_KEY}=True` to ignore the base '
                        'config.')
                b[k] = merge_a_into_b(v, old, allow_list_keys)
            else:
                b[k] = _strip_delete(v) if _has_delete(v) else v
        else:
            b[k] = _strip_delete(v) if _has_delete(v) else v
    return b


def dict_to_config_dict(cfg: Any,
                        scope: Optional[str] = None,
                        has_scope: bool = True) -> Any:
    """Convert dicts (also inside lists/tuples) to ``ConfigDict``.

    With ``scope``, the outermost dicts that have a ``type`` key get
    ``_scope_=scope`` unless they already name a scope.
    """
    if isinstance(cfg, dict):
        if not isinstance(cfg, ConfigDict):
            cfg = ConfigDict(cfg)
        if has_scope and scope is not None and 'type' in cfg:
            has_scope = False
            if dict.get(cfg, '_scope_') is None:
                dict.__setitem__(cfg, '_scope_', scope)
        elif has_scope and 'type' in cfg:
            has_scope = False
        for key, value in dict.items(cfg):
            dict.__setitem__(cfg, key,
                             dict_to_config_dict(value, scope, has_scope))
        return cfg
    if type(cfg) in (list, tuple):
        return type(cfg)(dict_to_config_dict(v, scope, has_scope) for v in cfg)
    return cfg


def substitute_base_vars(cfg: Any,
                         base_var_dict: dict,
                         base_cfg: dict,
                         filename: Optional[str] = None) -> Any:
    """Replace placeholder strings in ``cfg`` by (copies of) the base
    values they stand for.

    Raises:
        KeyError: a reference names a key the bases do not define.
        ConfigParsingError: a ``{{_base_.x}}`` reference was used inside an
            expression (``{{_base_.x}} + 1``) rather than as a whole value.
    """
    if isinstance(cfg, str):
        if cfg in base_var_dict:
            return copy.deepcopy(
                get_by_path(base_cfg, base_var_dict[cfg], filename))
        for placeholder, path in base_var_dict.items():
            if placeholder in cfg:
                where = f' in {filename}' if filename else ''
                raise ConfigParsingError(
                    f'{{{{_base_.{path}}}}}{where} is used inside an '
                    'expression; a {{_base_.xxx}} reference must be a whole '
                    f'value. Use the Python form `_base_.{path}` in '
                    'expressions instead')
        return cfg
    if isinstance(cfg, dict):
        cfg = cfg.copy()
        for key, value in dict.items(cfg):
            dict.__setitem__(
                cfg, key,
                substitute_base_vars(value, base_var_dict, base_cfg,
                                     filename))
        return cfg
    if type(cfg) in (list, tuple):
        return type(cfg)(
            substitute_base_vars(v, base_var_dict, base_cfg, filename)
            for v in cfg)
    return cfg
