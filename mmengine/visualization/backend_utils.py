"""Conversions shared by the visualization backends.

Backends receive tensors, NumPy values and ``Config`` objects; files and
tracker clients want plain Python numbers, JSON-able data and config text.
Nothing here imports a tracker client or matplotlib.
"""
import importlib
import os
import os.path as osp
from typing import Any, List, Sequence

__all__ = [
    'to_scalar', 'to_json_value', 'plain_scalars', 'config_to_dict',
    'config_to_text', 'flatten_dict', 'to_param_like', 'artifact_files',
    'import_client'
]

_NOT_A_SCALAR = object()


def _single_item(value: Any) -> Any:
    """``value.item()`` for one-element arrays / tensors / NumPy scalars;
    ``_NOT_A_SCALAR`` otherwise."""
    numel = None
    if hasattr(value, 'numel') and callable(value.numel):  # torch.Tensor
        try:
            numel = value.numel()
        except TypeError:
            numel = None
    elif hasattr(value, 'size') and hasattr(value, 'dtype'):  # NumPy
        numel = value.size
    if numel != 1 or not hasattr(value, 'item'):
        return _NOT_A_SCALAR
    item = value.item()
    if isinstance(item, (int, float, bool)):
        return item
    return _NOT_A_SCALAR


def _describe(value: Any) -> str:
    shape = getattr(value, 'shape', None)
    if shape is not None:
        return f'{type(value).__name__} of shape {tuple(shape)}'
    return type(value).__name__


def to_scalar(name: str, value: Any) -> Any:
    """Convert a one-element number-like ``value`` to a Python number.

    Accepts ``int``, ``float``, ``bool``, NumPy scalars / arrays and torch
    tensors with exactly one element.

    Raises:
        TypeError: naming ``name`` when ``value`` is not a single number.
    """
    if type(value) in (int, float, bool):
        return value
    item = _single_item(value)
    if item is not _NOT_A_SCALAR:
        return item
    raise TypeError(
        f'scalar {name!r} must be an int, float, 0-d / one-element '
        f'np.ndarray or torch.Tensor, but got {_describe(value)}')


def to_json_value(name: str, value: Any) -> Any:
    """Convert ``value`` into something ``json.dumps`` can write.

    Numbers, strings, booleans and None pass through; tensors and NumPy
    values become Python numbers (one element) or nested lists; lists,
    tuples and dicts are converted recursively.

    Raises:
        TypeError: naming ``name`` for any other type.
    """
    if value is None or type(value) in (bool, int, float, str):
        return value
    item = _single_item(value)
    if item is not _NOT_A_SCALAR and getattr(value, 'ndim', 0) == 0:
        return item
    if hasattr(value, 'tolist') and (hasattr(value, 'dtype')):
        # tensor (moved to CPU by tolist) or ndarray of any shape
        if hasattr(value, 'detach'):
            value = value.detach().cpu()
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [to_json_value(name, v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json_value(f'{name}.{k}', v)
                for k, v in value.items()}
    raise TypeError(
        f'value of {name!r} cannot be written as JSON: expected a number, '
        f'str, bool, None, np.ndarray, torch.Tensor or a list / dict of '
        f'them, but got {type(value).__name__}')


def plain_scalars(scalar_dict: dict, who: str = 'add_scalars') -> dict:
    """Tensors / NumPy values -> Python values (clients want plain data).

    Raises:
        TypeError: naming ``who`` when ``scalar_dict`` is not a dict, or the
            key whose value cannot be converted.
    """
    if not isinstance(scalar_dict, dict):
        raise TypeError(
            f'{who} expects a dict, got {type(scalar_dict).__name__}')
    return {
        key: to_json_value(str(key), value)
        for key, value in scalar_dict.items()
    }


def config_to_dict(config: Any, who: str = 'add_config') -> dict:
    """A ``Config`` / dict as plain nested dicts.

    Raises:
        TypeError: naming ``who`` for anything else.
    """
    if hasattr(config, 'to_dict'):
        return config.to_dict()
    if isinstance(config, dict):
        return dict(config)
    raise TypeError(f'{who} expects a mmengine Config or a dict, but got '
                    f'{type(config).__name__}')


def config_to_text(config: Any, who: str = 'add_config') -> str:
    """Python source of ``config`` (a ``Config`` or a plain dict).

    Raises:
        TypeError: naming ``who`` for anything else.
    """
    if hasattr(config, 'pretty_text'):
        return config.pretty_text
    from mmengine.config import Config
    return Config(config_to_dict(config, who)).pretty_text


def flatten_dict(d: dict, parent_key: str = '', sep: str = '.') -> dict:
    """``{'a': {'b': 1}}`` -> ``{'a.b': 1}`` (tracker params are flat)."""
    items: dict = {}
    for key, value in d.items():
        new_key = f'{parent_key}{sep}{key}' if parent_key else str(key)
        if isinstance(value, dict):
            items.update(flatten_dict(value, new_key, sep))
        else:
            items[new_key] = value
    return items


def to_param_like(value: Any) -> Any:
    """Keep what tracker params accept (numbers, str, bool, None, lists and
    dicts of them); everything else as ``str``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [to_param_like(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_param_like(v) for k, v in value.items()}
    return str(value)


def artifact_files(cfg: Any, suffixes: Sequence[str]) -> List[str]:
    """Files under the config's ``work_dir`` whose name ends with one of
    ``suffixes`` (what trackers upload as artifacts at the end)."""
    work_dir = None
    if cfg is not None:
        work_dir = cfg.get('work_dir') if hasattr(cfg, 'get') else None
    if not work_dir or not osp.isdir(work_dir):
        return []
    found = []
    for root, _, files in os.walk(work_dir):
        for name in files:
            if name.endswith(tuple(suffixes)):
                found.append(osp.join(root, name))
    return sorted(found)


def import_client(module: str, backend: str, pip_name: str) -> Any:
    """Import a tracker client module, or say how to install it.

    Raises:
        ImportError: naming ``backend`` and ``pip install <pip_name>``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(
            f'{backend} needs the {pip_name!r} package, which is not '
            f'installed. Install it with: pip install {pip_name}') from e
