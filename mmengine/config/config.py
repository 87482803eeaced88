"""``Config``: read, merge, override and write configuration files."""
import ast
import copy
import difflib
import os.path as osp
import sys
import tempfile
import warnings
from argparse import ArgumentParser
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Callable, Optional, Tuple, Union

from .config_dict import ConfigDict
from .dict_action import DictAction  # noqa: F401  (reference path)
from .dump import dumps_data, write_text
from .formatter import format_config
from .lazy_loader import LazyConfigLoader, is_lazy_config
from .merge import dict_to_config_dict, merge_a_into_b, substitute_base_vars
from .text_loader import TextConfigLoader, might_import
from .utils import (RESERVED_KEYS, check_file_format, get_cfg_path,
                    get_external_cfg_path, pre_substitute_base_vars,
                    read_text, substitute_env_variables,
                    substitute_predefined_vars)


class Config:
    """A configuration: a mapping of keys to values read from a file.

    Keys are read and written as items (``cfg['model']``) or attributes
    (``cfg.model``); nested mappings are :class:`ConfigDict`.

    Args:
        cfg_dict (dict, optional): the content. Defaults to empty.
        cfg_text (str, optional): the source text; read from ``filename``
            when not given.
        filename (str | Path, optional): the file the config came from.
        env_variables (dict, optional): environment variables substituted
            while reading (``{{$NAME:default}}``).
        format_python_code (bool): accepted for compatibility; ``.py``
            text is always produced by the built-in formatter.

    Examples:
        >>> cfg = Config(dict(a=1, b=dict(b1=[0, 1])))
        >>> cfg.b.b1
        [0, 1]
        >>> cfg = Config.fromfile('configs/resnet50.py')  # doctest: +SKIP
        >>> cfg.dump('work_dir/resnet50.py')  # doctest: +SKIP
    """

    def __init__(self,
                 cfg_dict: Optional[dict] = None,
                 cfg_text: Optional[str] = None,
                 filename: Optional[Union[str, Path]] = None,
                 env_variables: Optional[dict] = None,
                 format_python_code: bool = True):
        if isinstance(filename, Path):
            filename = str(filename)
        if cfg_dict is None:
            cfg_dict = dict()
        elif not isinstance(cfg_dict, dict):
            raise TypeError('cfg_dict must be a dict, but got '
                            f'{type(cfg_dict).__name__}')
        for key in cfg_dict:
            if key in RESERVED_KEYS:
                raise KeyError(f'{key} is reserved for config file')
        if not isinstance(cfg_dict, ConfigDict):
            cfg_dict = ConfigDict(cfg_dict)
        if cfg_text is not None:
            text = cfg_text
        elif filename is not None and osp.isfile(filename):
            with open(filename, encoding='utf-8') as f:
                text = f.read()
        else:
            text = ''
        object.__setattr__(self, '_cfg_dict', cfg_dict)
        object.__setattr__(self, '_filename', filename)
        object.__setattr__(self, '_text', text)
        object.__setattr__(self, '_env_variables', dict(env_variables or {}))
        object.__setattr__(self, '_format_python_code', format_python_code)
        object.__setattr__(self, '_imported_names', set())

    # ------------------------------------------------------------------
    # loading
    @staticmethod
    def fromfile(filename: Union[str, Path],
                 use_predefined_variables: bool = True,
                 import_custom_modules: bool = True,
                 use_environment_variables: bool = True,
                 lazy_import: Optional[bool] = None,
                 format_python_code: bool = True) -> 'Config':
        """Read a ``.py``, ``.json``, ``.yaml`` or ``.yml`` config file.

        Args:
            filename (str | Path): the file; ``'pkg::path'`` names a config
                shipped inside an installed package.
            use_predefined_variables (bool): substitute ``{{fileDirname}}``
                and friends. Defaults to True.
            import_custom_modules (bool): import the modules listed in
                ``custom_imports``. Defaults to True.
            use_environment_variables (bool): substitute
                ``{{$NAME:default}}``. Defaults to True.
            lazy_import (bool, optional): read a ``.py`` file as a
                pure-Python config (True), as a text-style config (False),
                or decide from its content (None, the default).
            format_python_code (bool): kept for compatibility.

        Returns:
            Config: the loaded config.
        """
        if isinstance(filename, Path):
            filename = str(filename)
        if not isinstance(filename, str):
            raise TypeError('Config.fromfile expects a file path (str or '
                            f'Path), but got {type(filename).__name__}')
        if '::' in filename and not osp.exists(filename):
            package, _, rel = filename.partition('::')
            filename = get_external_cfg_path(package, rel)
        check_file_format(filename)
        is_lazy = bool(lazy_import)
        if lazy_import is None and filename.endswith('.py'):
            try:
                is_lazy = Config._is_lazy_import(filename)
            except SyntaxError:
                is_lazy = False  # the text loader reports it with its line
        if is_lazy and filename.endswith('.py'):
            loader = LazyConfigLoader(use_predefined_variables,
                                      use_environment_variables)
            cfg_dict, cfg_text, imported = loader.load(filename)
            env_variables = loader.env_variables
        else:
            cfg_dict, cfg_text, env_variables = Config._file2dict(
                filename, use_predefined_variables,
                use_environment_variables, lazy_import)
            imported = set()
        for key in RESERVED_KEYS:
            if key in cfg_dict:
                raise KeyError(
                    f'{key} is reserved for config file: {filename} defines '
                    f'`{key}`, which would hide Config.{key}; rename it')
        if import_custom_modules and cfg_dict.get('custom_imports', None):
            Config._import_custom_modules(cfg_dict['custom_imports'])
        cfg = Config(
            cfg_dict,
            cfg_text=cfg_text,
            filename=filename,
            env_variables=env_variables,
            format_python_code=format_python_code)
        object.__setattr__(cfg, '_imported_names', imported)
        return cfg

    @staticmethod
    def _import_custom_modules(custom_imports: Any) -> None:
        from mmengine.utils import import_modules_from_strings
        if isinstance(custom_imports, (str, list)):
            custom_imports = dict(imports=custom_imports)
        if not isinstance(custom_imports, dict) or 'imports' not in \
                custom_imports:
            raise TypeError(
                '`custom_imports` must be dict(imports=[...module names...], '
                f'allow_failed_imports=False), but got {custom_imports!r}')
        try:
            import_modules_from_strings(**custom_imports)
        except ImportError as e:
            raise ImportError(
                f'Failed to import custom modules from {custom_imports}: '
                f'{e}. The current sys.path is: {sys.path}; make sure the '
                'modules are importable.') from e

    @staticmethod
    def fromstring(cfg_str: str, file_format: str) -> 'Config':
        """Build a config from the text of a config file.

        Args:
            cfg_str (str): the config text.
            file_format (str): ``'.py'``, ``'.json'``, ``'.yaml'`` or
                ``'.yml'``.
        """
        if file_format not in ('.py', '.json', '.yaml', '.yml'):
            raise OSError(f'Unsupported config format {file_format!r}: only '
                          '.py, .json, .yaml and .yml are supported')
        if file_format != '.py' and 'dict(' in cfg_str:
            warnings.warn('Please check "file_format", the file format may '
                          'be .py')
        with tempfile.TemporaryDirectory() as tmp:
            path = osp.join(tmp, 'config' + file_format)
            with open(path, 'w', encoding='utf-8') as f:
                f.write(cfg_str)
            return Config.fromfile(path)

    @staticmethod
    def _file2dict(
            filename: Union[str, Path],
            use_predefined_variables: bool = True,
            use_environment_variables: bool = True,
            lazy_import: Optional[bool] = None) -> Tuple[dict, str, dict]:
        """Read a text-style config and its bases.

        Returns:
            tuple: ``(cfg_dict, cfg_text, env_variables)``.
        """
        filename = str(filename)
        return TextConfigLoader(use_predefined_variables,
                                use_environment_variables,
                                lazy_import).load(filename)

    @staticmethod
    def _get_cfg_path(cfg_path: str,
                      filename: str) -> Tuple[str, Optional[str]]:
        """Resolve a ``_base_`` entry to ``(path, scope)``; the scope is the
        package name of ``'pkg::path'`` entries, else None."""
        return get_cfg_path(cfg_path, filename)

    @staticmethod
    def _is_lazy_import(filename: Union[str, Path]) -> bool:
        """Whether ``filename`` is a pure-Python config (``with
        read_base()``, relative or non-standard-library imports)."""
        filename = str(filename)
        if not filename.endswith('.py'):
            return False
        text = read_text(filename)
        if not might_import(text):
            return False
        return is_lazy_config(ast.parse(text, filename))

    @staticmethod
    def _validate_py_syntax(filename: Union[str, Path]) -> None:
        """Raise ``SyntaxError`` (with file and line) if ``filename`` is not
        valid Python."""
        filename = str(filename)
        text = read_text(filename)
        try:
            ast.parse(text, filename)
        except SyntaxError as e:
            raise SyntaxError('There are syntax errors in config file '
                              f'{filename}, line {e.lineno}: {e.msg}') from e

    @staticmethod
    def _substitute_predefined_vars(filename: Union[str, Path],
                                    temp_config_name: Union[str, Path]):
        """Write ``filename`` to ``temp_config_name`` with predefined
        variables substituted."""
        _rewrite_file(
            filename, temp_config_name, lambda text:
            (substitute_predefined_vars(text, str(filename)), None))

    @staticmethod
    def _substitute_env_variables(filename: Union[str, Path],
                                  temp_config_name: Union[str, Path]) -> dict:
        """Write ``filename`` to ``temp_config_name`` with ``{{$NAME:def}}``
        substituted; return the variables used."""
        return _rewrite_file(
            filename, temp_config_name,
            lambda text: substitute_env_variables(text, str(filename)))

    @staticmethod
    def _pre_substitute_base_vars(filename: Union[str, Path],
                                  temp_config_name: Union[str, Path]) -> dict:
        """Write ``filename`` to ``temp_config_name`` with each
        ``{{_base_.x}}`` replaced by a placeholder string; return
        ``{placeholder: 'x'}``."""
        return _rewrite_file(filename, temp_config_name,
                             pre_substitute_base_vars)

    @staticmethod
    def _substitute_base_vars(cfg: Any,
                              base_var_dict: dict,
                              base_cfg: dict,
                              filename: Optional[str] = None) -> Any:
        """Replace placeholder strings in ``cfg`` by (copies of) the base
        values they stand for."""
        return substitute_base_vars(cfg, base_var_dict, base_cfg, filename)

    @staticmethod
    def _merge_a_into_b(a: dict,
                        b: Any,
                        allow_list_keys: bool = False) -> Any:
        """Merge dict ``a`` into ``b`` (see :func:`merge.merge_a_into_b`)."""
        return merge_a_into_b(a, b, allow_list_keys)

    @staticmethod
    def _dict_to_config_dict(cfg: Any,
                             scope: Optional[str] = None,
                             has_scope: bool = True) -> Any:
        """Convert dicts (also inside lists/tuples) to ``ConfigDict``; with
        ``scope``, outermost dicts with a ``type`` get ``_scope_``."""
        return dict_to_config_dict(cfg, scope, has_scope)

    # ------------------------------------------------------------------
    # overrides
    def merge_from_dict(self,
                        options: dict,
                        allow_list_keys: bool = True) -> None:
        """Merge a dict of (possibly dotted) keys into the config.

        Args:
            options (dict): e.g. ``{'model.backbone.depth': 101,
                'train_dataloader.dataset.pipeline.0.scale': 512}``.
            allow_list_keys (bool): whether integer path parts address list
                items. Defaults to True.

        Examples:
            >>> cfg = Config(dict(model=dict(backbone=dict(type='ResNet'))))
            >>> cfg.merge_from_dict({'model.backbone.type': 'ResNeXt'})
            >>> cfg.model.backbone.type
            'ResNeXt'
        """
        if not isinstance(options, dict):
            raise TypeError('merge_from_dict expects a dict of (dotted) keys '
                            "to values, e.g. {'optimizer.lr': 0.1}, but got "
                            f'{type(options).__name__}')
        option_cfg_dict: dict = {}
        for full_key, value in options.items():
            d = option_cfg_dict
            keys = str(full_key).split('.')
            for sub_key in keys[:-1]:
                d = d.setdefault(sub_key, {})
                if not isinstance(d, dict):
                    raise KeyError(
                        f'option {full_key!r} conflicts with another option '
                        f'that sets {sub_key!r} to a non-dict value')
            d[keys[-1]] = value
        merged = Config._merge_a_into_b(
            option_cfg_dict, self._cfg_dict, allow_list_keys=allow_list_keys)
        object.__setattr__(self, '_cfg_dict', merged)

    @staticmethod
    def auto_argparser(description: Optional[str] = None):
        """Parser with one option per config key, for the config given as
        the first command-line argument.

        Returns:
            tuple: ``(parser, cfg)``.
        """
        partial_parser = ArgumentParser(description=description)
        partial_parser.add_argument('config', help='config file path')
        cfg_file = partial_parser.parse_known_args()[0].config
        cfg = Config.fromfile(cfg_file)
        parser = ArgumentParser(description=description)
        parser.add_argument('config', help='config file path')
        _add_args(parser, cfg)
        return parser, cfg

    # ------------------------------------------------------------------
    # properties
    @property
    def filename(self) -> Optional[str]:
        """The file the config was read from (as given), or None."""
        return self._filename

    @property
    def text(self) -> str:
        """Source text of the config file (and of its bases)."""
        return self._text

    @property
    def env_variables(self) -> dict:
        """Environment variables substituted while reading."""
        return self._env_variables

    @property
    def pretty_text(self) -> str:
        """The config as formatted Python source (what ``dump`` writes to
        a ``.py`` file)."""
        return format_config(self._to_formattable())

    def _to_formattable(self) -> dict:
        cfg = self._cfg_dict._to_lazy_dict()
        for name in self._imported_names:
            cfg.pop(name, None)
        return cfg

    def to_dict(self, keep_imported: bool = False) -> dict:
        """The config as plain nested dicts.

        Lazily imported objects become their dotted names. Names bound by
        imports of a pure-Python config are left out unless
        ``keep_imported``.
        """
        cfg = self._cfg_dict.to_dict()
        if not keep_imported:
            for name in self._imported_names:
                cfg.pop(name, None)
        return cfg

    # ------------------------------------------------------------------
    # writing
    def dump(self, file: Optional[Union[str, Path]] = None) -> Optional[str]:
        """Write the config; the format follows the file extension.

        Args:
            file (str | Path, optional): ``.py``, ``.json``, ``.yaml`` or
                ``.yml`` path. Without it the text is returned, in the
                format of the file the config came from (Python for
                configs built from dicts).
        """
        if file is None:
            fmt = 'py'
            if self.filename:
                fmt = osp.splitext(self.filename)[1][1:] or 'py'
            return self._dumps(fmt)
        file = str(file)
        text = self._dumps(osp.splitext(file)[1][1:])
        if '://' in file:
            from mmengine.fileio import put_text
            put_text(text, file)
        else:
            write_text(file, text)
        return None

    def _dumps(self, fmt: str) -> str:
        if fmt == 'py':
            return self.pretty_text
        return dumps_data(self.to_dict(), fmt)

    @staticmethod
    def diff(cfg1: Union[str, 'Config'], cfg2: Union[str, 'Config']) -> str:
        """Unified diff of two configs (file names or ``Config``), written
        with sorted keys so that only content differences show."""
        if isinstance(cfg1, (str, Path)):
            cfg1 = Config.fromfile(cfg1)
        if isinstance(cfg2, (str, Path)):
            cfg2 = Config.fromfile(cfg2)
        text1 = format_config(cfg1._to_formattable(), sort_keys=True)
        text2 = format_config(cfg2._to_formattable(), sort_keys=True)
        lines = difflib.unified_diff(text1.split('\n'), text2.split('\n'))
        return ''.join(line + '\n' for line in lines) + '\n'

    # ------------------------------------------------------------------
    # mapping protocol
    def __repr__(self) -> str:
        return f'Config (path: {self.filename}): {self._cfg_dict.__repr__()}'

    def __len__(self) -> int:
        return len(self._cfg_dict)

    def __iter__(self):
        return iter(self._cfg_dict)

    def __contains__(self, key: Any) -> bool:
        return key in self._cfg_dict

    def __getattr__(self, name: str) -> Any:
        if name.startswith('__') and name.endswith('__') or \
                name == '_cfg_dict':
            raise AttributeError(name)
        return getattr(self._cfg_dict, name)

    def __getitem__(self, name: Any) -> Any:
        return self._cfg_dict.__getitem__(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in RESERVED_KEYS:
            raise KeyError(f'{name} is reserved for config file')
        self._cfg_dict.__setattr__(name, value)

    def __setitem__(self, name: Any, value: Any) -> None:
        if name in RESERVED_KEYS:
            raise KeyError(f'{name} is reserved for config file')
        self._cfg_dict.__setitem__(name, value)

    def __delattr__(self, name: str) -> None:
        self._cfg_dict.__delattr__(name)

    def __delitem__(self, name: Any) -> None:
        self._cfg_dict.__delitem__(name)

    def __getstate__(self) -> dict:
        return dict(self.__dict__)

    def __setstate__(self, state: dict) -> None:
        for key, value in state.items():
            object.__setattr__(self, key, value)

    def __copy__(self) -> 'Config':
        other = Config.__new__(type(self))
        other.__dict__.update(self.__dict__)
        object.__setattr__(other, '_cfg_dict', self._cfg_dict.copy())
        return other

    copy = __copy__

    def __deepcopy__(self, memo: dict) -> 'Config':
        other = Config.__new__(type(self))
        memo[id(self)] = other
        for key, value in self.__dict__.items():
            object.__setattr__(other, key, copy.deepcopy(value, memo))
        return other


def _rewrite_file(src: Union[str, Path], dst: Union[str, Path],
                  transform: Callable[[str], Tuple[str, Any]]) -> Any:
    """Write ``transform(text of src)[0]`` to ``dst``; return the second
    item (what the substitution collected)."""
    text, collected = transform(read_text(str(src)))
    with open(dst, 'w', encoding='utf-8') as f:
        f.write(text)
    return collected


def _add_args(parser: ArgumentParser, cfg: Any, prefix: str = '') -> None:
    """Add one ``--key`` option per config value (recursing into dicts)."""
    for key, value in cfg.items():
        name = f'--{prefix}{key}'
        if isinstance(value, bool):
            parser.add_argument(name, action='store_true')
        elif isinstance(value, str):
            parser.add_argument(name)
        elif isinstance(value, int):
            parser.add_argument(name, type=int)
        elif isinstance(value, float):
            parser.add_argument(name, type=float)
        elif isinstance(value, dict):
            _add_args(parser, value, f'{prefix}{key}.')
        elif isinstance(value, Iterable) and value:
            parser.add_argument(name, type=type(next(iter(value))), nargs='+')
        else:
            warnings.warn(f'cannot add an option for config key {prefix}{key} '
                          f'of type {type(value).__name__}')
