"""Text substitutions, path resolution and error helpers of the config
loader."""
import functools
import os
import os.path as osp
import re
import sys
import traceback
import types
import uuid
from typing import Any, Dict, Optional, Tuple

BASE_KEY = '_base_'
DELETE_KEY = '_delete_'
DEPRECATION_KEY = '_deprecation_'
RESERVED_KEYS = ('filename', 'text', 'pretty_text', 'env_variables')
SUPPORTED_EXTS = ('.py', '.json', '.yaml', '.yml')
# ``__name__`` of the namespace ``.py`` configs are executed in
CONFIG_MODULE = '__config__'


class ConfigParsingError(RuntimeError):
    """A config file cannot be read (bad syntax, mixed config styles...)."""


# --- predefined variables {{fileDirname}} ... ---------------------------
_PREDEFINED_RE = re.compile(
    r'\{\{\s*(fileDirname|fileBasename|fileBasenameNoExtension|fileExtname)'
    r'\s*\}\}')


def substitute_predefined_vars(text: str, filename: str) -> str:
    """Replace ``{{fileDirname}}``, ``{{fileBasename}}``,
    ``{{fileBasenameNoExtension}}`` and ``{{fileExtname}}`` in ``text``.

    ``fileDirname`` is the absolute directory of ``filename``, written with
    ``/`` separators.
    """
    if '{{' not in text:
        return text
    basename = osp.basename(filename)
    values = dict(
        fileDirname=osp.dirname(osp.abspath(filename)).replace('\\', '/'),
        fileBasename=basename,
        fileBasenameNoExtension=osp.splitext(basename)[0],
        fileExtname=osp.splitext(filename)[1])
    return _PREDEFINED_RE.sub(lambda m: values[m.group(1)], text)


# --- environment variables {{$NAME:default}} ------------------------------
_ENV_RE = re.compile(
    r'\{\{\s*([\'"]?)\s*\$(\w+)\s*(?::\s*(.*?))?\s*\1\s*\}\}')


def substitute_env_variables(text: str,
                             filename: str = '') -> Tuple[str, Dict[str, str]]:
    """Replace ``{{$NAME:default}}`` (optionally quoted inside the braces,
    ``{{'$NAME:default'}}``) by the value of environment variable ``NAME``;
    ``{{$NAME}}`` needs the variable to be set.

    Returns:
        tuple: the new text and ``{NAME: value used}``.

    Raises:
        KeyError: ``NAME`` is unset and has no (or an empty) default.
    """
    env_variables: Dict[str, str] = {}
    if '{{' not in text:
        return text, env_variables

    def replace(match):
        name, default = match.group(2), match.group(3)
        value = os.environ.get(name)
        if value is None:
            if not default:  # ``{{$NAME}}`` or ``{{$NAME:}}``
                where = f' in {filename}' if filename else ''
                raise KeyError(
                    f'`{name}` cannot be found in `os.environ` (used by '
                    f'{match.group(0)!r}{where}). Please set `{name}` in the '
                    'environment or give a default value, e.g. '
                    f'{{{{${name}:default}}}}')
            value = default
        env_variables[name] = value
        return value

    return _ENV_RE.sub(replace, text), env_variables


# --- {{_base_.xxx}} references -------------------------------------------
# Quotes around the braces (``'{{_base_.x}}'``, handy to keep YAML valid)
# belong to the reference: the quoted form is replaced by the value too.
_BASE_REF_RE = re.compile(r'([\'"]?)\{\{\s*' + BASE_KEY +
                          r'\.([\w\.]+)\s*\}\}\1')


def pre_substitute_base_vars(text: str) -> Tuple[str, Dict[str, str]]:
    """Replace each ``{{_base_.a.b}}`` (or quoted ``'{{_base_.a.b}}'``) by a
    unique quoted placeholder.

    Returns:
        tuple: the new text and ``{placeholder: 'a.b'}``; the placeholders
        are swapped for the base values after parsing
        (:func:`substitute_base_vars`).
    """
    base_var_dict: Dict[str, str] = {}
    if '{{' not in text:
        return text, base_var_dict

    def replace(match):
        path = match.group(2)
        key = f'_{path.replace(".", "_")}_{uuid.uuid4().hex.lower()[:8]}'
        base_var_dict[key] = path
        return f'"{key}"'

    return _BASE_REF_RE.sub(replace, text), base_var_dict


def get_by_path(base_cfg: dict, path: str, filename: Optional[str] = None):
    """Value at dotted ``path`` (``'model.backbone.depth'``, list indices
    allowed) of ``base_cfg``; ``KeyError`` naming the missing part."""
    value = base_cfg
    done = []
    for part in path.split('.'):
        try:
            if isinstance(value, (list, tuple)):
                value = value[int(part)]
            else:
                value = dict.__getitem__(value, part)
        except (KeyError, IndexError, ValueError, TypeError):
            where = f' of {filename}' if filename else ''
            raise KeyError(
                f'{{{{_base_.{path}}}}}{where} refers to a missing base '
                f'variable: {".".join(done + [part])!r} is not defined in the '
                'base config(s)') from None
        done.append(part)
    return value


# --- files ---------------------------------------------------------------
def check_file_format(filename: str) -> str:
    """Extension of ``filename``; ``OSError`` if it is not a config type."""
    ext = osp.splitext(filename)[1]
    if ext not in SUPPORTED_EXTS:
        raise OSError(f'Unsupported config file type {ext!r} of {filename}: '
                      'only .py, .json, .yaml and .yml configs are supported')
    return ext


def read_text(filename: str) -> str:
    """Read a config file as UTF-8, ``FileNotFoundError`` if missing."""
    if not osp.isfile(filename):
        if osp.isdir(filename):
            raise IsADirectoryError(
                f'config file "{filename}" is a directory, not a file')
        raise FileNotFoundError(f'config file "{filename}" does not exist')
    with open(filename, encoding='utf-8') as f:
        return f.read()


def read_config_text(filename: str, use_predefined_variables: bool,
                     use_environment_variables: bool
                     ) -> Tuple[str, str, Dict[str, str]]:
    """Read a config file and apply the text substitutions shared by both
    loaders: predefined variables, then environment variables.

    Returns:
        tuple: ``(raw text, substituted text, {NAME: value used})``.
    """
    raw_text = text = read_text(filename)
    if use_predefined_variables:
        text = substitute_predefined_vars(text, filename)
    env_variables: Dict[str, str] = {}
    if use_environment_variables:
        text, env_variables = substitute_env_variables(text, filename)
    return raw_text, text, env_variables


def get_external_cfg_path(package: str, cfg_path: str) -> str:
    """Path of ``cfg_path`` inside the configs shipped with ``package``.

    Configs are looked up in ``<package>/.mim/configs`` (the MMEngine
    install convention) and then in ``<package>/configs``.
    """
    from mmengine.utils import get_installed_path, is_installed
    if not is_installed(package):
        raise ModuleNotFoundError(
            f'{package} is not installed, so the config {package}::'
            f'{cfg_path} cannot be found; please install {package} first')
    package_path = get_installed_path(package)
    tried = []
    for root in (osp.join(package_path, '.mim', 'configs'),
                 osp.join(package_path, 'configs')):
        candidate = osp.join(root, cfg_path)
        if osp.isfile(candidate):
            return candidate
        tried.append(candidate)
    raise FileNotFoundError(
        f'config {package}::{cfg_path} not found: tried ' + ', '.join(tried))


def get_cfg_path(cfg_path: str,
                 filename: str) -> Tuple[str, Optional[str]]:
    """Resolve a ``_base_`` entry.

    Returns:
        tuple: the file path and the scope (the package name for
        ``'pkg::path'`` entries, otherwise None).
    """
    if '::' in cfg_path:
        package, _, rel = cfg_path.partition('::')
        return get_external_cfg_path(package, rel), package
    return osp.normpath(osp.join(osp.dirname(str(filename)),
                                 cfg_path)), None


@functools.lru_cache(maxsize=None)
def yaml_tools():
    """``(yaml module, safe loader, safe dumper)`` that also handle tuples
    (as ``!!python/tuple``); yaml is imported only when needed, and the
    classes are made once."""
    import yaml

    class _Loader(yaml.SafeLoader):
        """Safe loader that also reads ``!!python/tuple`` (written by
        ``Config.dump`` for tuples)."""

    _Loader.add_constructor(
        'tag:yaml.org,2002:python/tuple',
        lambda loader, node: tuple(loader.construct_sequence(node)))

    class _Dumper(yaml.SafeDumper):
        """Safe dumper that writes tuples as ``!!python/tuple``."""

    _Dumper.add_representer(
        tuple, lambda dumper, data: dumper.represent_sequence(
            'tag:yaml.org,2002:python/tuple', data))
    return yaml, _Loader, _Dumper


# --- modules -------------------------------------------------------------
def is_builtin_module(module_name: str) -> bool:
    """Whether ``module_name`` belongs to the standard library (or is
    ``mmengine.config`` itself); such imports run normally in configs."""
    if module_name == 'mmengine.config' or \
            module_name.startswith('mmengine.config.'):
        return True
    top = module_name.split('.')[0]
    return top in sys.stdlib_module_names or top in sys.builtin_module_names


def is_config_value(value: Any) -> bool:
    """Whether a module-level name of a ``.py`` config holds a config value.

    Modules, and functions or classes defined by the config file itself
    (``def``/``class`` run in the config's namespace ``__config__``), are
    helpers, not values. A class or function merely *assigned* to a name
    (``cast = int``) is a value and is kept.
    """
    if isinstance(value, types.ModuleType):
        return False
    if isinstance(value, (types.FunctionType, type)):
        return getattr(value, '__module__', None) != CONFIG_MODULE
    return True


# --- errors --------------------------------------------------------------
def config_error_location(exc: BaseException, filename: str) -> Optional[int]:
    """Line number in ``filename`` where ``exc`` was raised, if any."""
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        return exc.lineno
    lineno = None
    for frame, line in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == filename:
            lineno = line
    return lineno


def reraise_with_location(exc: Exception, filename: str) -> None:
    """Re-raise ``exc`` (same type when possible) with a message naming the
    config file and line where it happened."""
    lineno = config_error_location(exc, filename)
    where = f'{filename}, line {lineno}' if lineno else filename
    if isinstance(exc, SyntaxError):
        raise SyntaxError(f'invalid syntax in config file {where}: '
                          f'{exc.msg}') from exc
    message = f'error in config file {where}: {type(exc).__name__}: {exc}'
    try:
        new = type(exc)(message)
    except Exception:
        new = None
    if new is None or str(new) != message and not isinstance(exc, KeyError):
        exc.add_note(message)
        raise exc
    raise new from exc
