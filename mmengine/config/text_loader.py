"""Loader of text-style configs: ``.py`` files that inherit with
``_base_``, and ``.json``/``.yaml`` files."""
import ast
import json
import os.path as osp
import re
import types
import warnings
from typing import Any, Dict, List, Optional, Tuple

from .config_dict import ConfigDict
from .lazy_loader import (find_base_assign, is_lazy_config,
                          top_level_statements)
from .merge import dict_to_config_dict, merge_a_into_b, substitute_base_vars
from .utils import (BASE_KEY, CONFIG_MODULE, DEPRECATION_KEY,
                    ConfigParsingError, check_file_format, get_cfg_path,
                    is_config_value, pre_substitute_base_vars,
                    read_config_text, reraise_with_location, yaml_tools)


def load_data(text: str, filename: str, ext: str) -> dict:
    """Parse a JSON/YAML config text; errors name the file and line."""
    if ext == '.json':
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigParsingError(
                f'invalid JSON in config file {filename}, line {e.lineno}, '
                f'column {e.colno}: {e.msg}') from e
    else:
        yaml, loader, _ = yaml_tools()
        try:
            data = yaml.load(text, Loader=loader)
        except yaml.YAMLError as e:
            mark = getattr(e, 'problem_mark', None)
            where = f', line {mark.line + 1}' if mark is not None else ''
            raise ConfigParsingError(
                f'invalid YAML in config file {filename}{where}: {e}') from e
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigParsingError(
            f'config file {filename} must contain a mapping of keys to '
            f'values at the top level, but it holds a '
            f'{type(data).__name__}')
    return data


class _PyConfigCode:
    """A text-style ``.py`` config, compiled once.

    Attributes:
        code: the module code, without the ``_base_ = ...`` statement.
        base_files (list[str]): the ``_base_`` entries.
        import_names (set[str]): names bound by module-level imports.
        is_lazy (bool): whether the file is a pure-Python config.
    """

    def __init__(self, text: str, filename: str):
        self.import_names: set = set()
        if might_import(text):
            self._from_ast(text, filename)
        else:
            self._from_text(text, filename)

    def _from_ast(self, text: str, filename: str) -> None:
        try:
            tree = ast.parse(text, filename)
        except SyntaxError as e:
            reraise_with_location(e, filename)
        self.is_lazy = is_lazy_config(tree)
        node = find_base_assign(tree)
        self.base_files = _base_files(node, filename)
        if node is not None:
            tree.body.remove(node)
        for stmt in top_level_statements(tree.body):
            if isinstance(stmt, ast.Import):
                self.import_names.update(
                    a.asname or a.name.split('.')[0] for a in stmt.names)
            elif isinstance(stmt, ast.ImportFrom):
                self.import_names.update(a.asname or a.name
                                         for a in stmt.names)
        self.code = self._compile(tree, filename)

    def _from_text(self, text: str, filename: str) -> None:
        # No imports: the file cannot be a pure-Python config, and the
        # ``_base_`` statement can be cut from the text, which is much
        # cheaper than a round trip through ``ast``.
        self.is_lazy = False
        self.base_files = []
        match = _BASE_ASSIGN_RE.search(text)
        if match is not None:
            lines = text[match.start():].split('\n')
            tree = None
            for n in range(1, len(lines) + 1):
                try:
                    tree = ast.parse('\n'.join(lines[:n]))
                except SyntaxError:
                    continue
                break
            if tree is None or len(tree.body) != 1:
                # the statement shares its lines with others
                # (``_base_ = 'a.py'; x = 1``), is not a statement at all
                # (``dict(\n_base_=1)``) or has a syntax error: cutting
                # lines would lose code, so let ``ast`` find it
                self._from_ast(text, filename)
                return
            node = tree.body[0]
            node.lineno = text.count('\n', 0, match.start()) + 1
            self.base_files = _base_files(node, filename)
            # blank the statement but keep the line numbers of the rest
            text = (text[:match.start()] + '\n' * (n - 1) +
                    text[match.start() + len('\n'.join(lines[:n])):])
        self.code = self._compile(text, filename)

    @staticmethod
    def _compile(source: Any, filename: str) -> types.CodeType:
        try:
            return compile(source, filename, 'exec')
        except SyntaxError as e:
            reraise_with_location(e, filename)


def might_import(text: str) -> bool:
    """Whether ``text`` may contain import statements, ``read_base`` or
    string literals that could hide a ``_base_ =`` line."""
    return bool(_IMPORT_RE.search(text)) or 'read_base' in text or \
        '"""' in text or "'''" in text


_IMPORT_RE = re.compile(r'^[ \t]*(import|from)[ \t\\(]', re.MULTILINE)
_BASE_ASSIGN_RE = re.compile(r'^' + BASE_KEY + r'[ \t]*=(?!=)', re.MULTILINE)


def _base_files(node: Optional[ast.stmt], filename: str) -> List[str]:
    """The paths of a ``_base_ = ...`` statement."""
    if node is None:
        return []
    try:
        value = ast.literal_eval(node.value)  # type: ignore[attr-defined]
    except (ValueError, AttributeError, SyntaxError):
        value = None
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(
            isinstance(v, str) for v in value):
        return list(value)
    raise ConfigParsingError(
        f'{filename}, line {node.lineno}: `_base_` must be a literal path '
        'string or a list of path strings')


class TextConfigLoader:
    """Loads a text-style config (``.py`` with ``_base_``, ``.json``,
    ``.yaml``) and its bases."""

    def __init__(self, use_predefined_variables: bool,
                 use_environment_variables: bool, lazy_import: Optional[bool]):
        self.use_predefined_variables = use_predefined_variables
        self.use_environment_variables = use_environment_variables
        self.lazy_import = lazy_import
        self.stack: List[str] = []

    def load(self,
             filename: str,
             referrer: Optional[Tuple[str, str]] = None
             ) -> Tuple[ConfigDict, str, dict]:
        """Load ``filename``; ``referrer`` is ``(child file, _base_ entry)``
        when it is loaded as a base."""
        ext = check_file_format(filename)
        raw_text, text, env_variables = read_config_text(
            filename, self.use_predefined_variables,
            self.use_environment_variables)
        text, base_var_dict = pre_substitute_base_vars(text)

        code = None
        if ext == '.py':
            code = _PyConfigCode(text, filename)
            if code.is_lazy and referrer is not None and \
                    self.lazy_import is None:
                child, base = referrer
                raise ConfigParsingError(
                    f'{child} inherits {base!r} with `_base_ = ...`, but '
                    f'{filename} is a pure-Python config (it uses `with '
                    'read_base()` or imports modules outside the standard '
                    'library). Text-style and pure-Python configs cannot be '
                    'mixed: inherit it with `with read_base(): from .base '
                    'import *`, or pass `lazy_import=False` to load it as '
                    'text.')
            base_files = code.base_files
        else:
            data = load_data(text, filename, ext)
            base_files = data.pop(BASE_KEY, [])
            if isinstance(base_files, str):
                base_files = [base_files]
            if not isinstance(base_files, list) or not all(
                    isinstance(b, str) for b in base_files):
                raise ConfigParsingError(
                    f'`_base_` of {filename} must be a path string or a '
                    f'list of path strings, but got {base_files!r}')

        base_cfg, base_texts = self._load_bases(base_files, filename,
                                                env_variables)
        if code is not None:
            cfg = self._exec(code, filename, base_cfg, bool(base_files))
        else:
            cfg = data
        if base_var_dict:
            try:
                cfg = substitute_base_vars(cfg, base_var_dict, base_cfg,
                                           filename)
            except KeyError as e:
                if base_files:
                    raise
                raise KeyError(
                    f'{e.args[0]}: {filename} does not inherit any config; '
                    'add `_base_ = [...]` naming the config that defines it'
                ) from None
        cfg = merge_a_into_b(cfg, base_cfg)
        if DEPRECATION_KEY in cfg:
            info = dict.pop(cfg, DEPRECATION_KEY)
            msg = f'The config file {filename} will be deprecated in the ' \
                'future.'
            if isinstance(info, dict) and info.get('expected'):
                msg += f' Please use {info["expected"]} instead.'
            if isinstance(info, dict) and info.get('reference'):
                msg += ' More information can be found at ' \
                    f'{info["reference"]}'
            warnings.warn(msg, DeprecationWarning)
        base_texts.append(f'{filename}\n{raw_text}')
        return cfg, '\n'.join(base_texts), env_variables

    def _load_bases(self, base_files: List[str], filename: str,
                    env_variables: dict) -> Tuple[ConfigDict, List[str]]:
        base_cfg = ConfigDict()
        owner: Dict[Any, str] = {}
        texts: List[str] = []
        here = osp.abspath(filename)
        for base in base_files:
            path, scope = get_cfg_path(base, filename)
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'base config {base!r} of {filename} does not exist '
                    f'(looked for {path})')
            if osp.abspath(path) in self.stack + [here]:
                chain = ' -> '.join(self.stack + [here, osp.abspath(path)])
                raise ConfigParsingError(
                    f'circular _base_ inheritance: {chain}')
            self.stack.append(here)
            try:
                sub_cfg, sub_text, sub_env = self.load(path, (filename, base))
            finally:
                self.stack.pop()
            if scope is not None:
                for key, value in dict.items(sub_cfg):
                    dict.__setitem__(
                        sub_cfg, key,
                        dict_to_config_dict(value, scope=scope))
            for key in dict.keys(sub_cfg):
                if key in owner:
                    raise KeyError(
                        f'Duplicate key {key!r} is defined in both base '
                        f'configs {owner[key]} and {path} of {filename}; a '
                        'top-level key may come from one base only (define '
                        'it in one base, or override it in the child)')
                owner[key] = path
            dict.update(base_cfg, dict.items(sub_cfg))
            env_variables.update(sub_env)
            texts.append(sub_text)
        return base_cfg, texts

    @staticmethod
    def _exec(code: _PyConfigCode, filename: str, base_cfg: ConfigDict,
              has_base: bool) -> dict:
        namespace: dict = {'__file__': filename, '__name__': CONFIG_MODULE}
        if has_base:
            namespace[BASE_KEY] = base_cfg
        try:
            exec(code.code, namespace)
        except Exception as e:
            reraise_with_location(e, filename)
        if not has_base and BASE_KEY in namespace:
            # e.g. ``_base_: list = [...]``: not a statement we read bases
            # from, and silently ignoring it would drop the inheritance
            raise ConfigParsingError(
                f'{filename} binds `_base_` in a way that is not read as '
                'inheritance; write it as a plain module-level statement '
                "`_base_ = './base.py'` or `_base_ = ['./a.py', './b.py']`")
        cfg = {}
        for key, value in namespace.items():
            if (key.startswith('__') or key == BASE_KEY
                    or key in code.import_names
                    or not is_config_value(value)):
                continue
            cfg[key] = value
        return cfg
