"""Loader of pure-Python ("new-style") configs.

A pure-Python config is an ordinary Python module::

    from mmengine.config import read_base
    from torch.optim import SGD

    with read_base():
        from .._base_.default_runtime import *
        from .._base_.schedules import param_scheduler as sched

    optim_wrapper = dict(optimizer=dict(type=SGD, lr=0.01))

It is executed after a small AST rewrite:

* ``from <config module> import ...`` inside ``with read_base():`` (and any
  relative ``from .x import y``) loads that config file and binds the
  requested keys (``*`` binds all of them);
* ``import x`` / ``from x import y`` of a non-standard-library module binds
  :class:`~mmengine.config.lazy.LazyObject` placeholders instead of
  importing, so the config loads without importing torch, and the objects
  are imported when the config is built;
* standard-library imports (``import os.path as osp``, ``from math import
  pi``) run as usual, on every supported Python version.

Only module-level statements are rewritten; code inside functions runs as
written.
"""
import ast
import contextlib
import importlib.util
import os.path as osp
from typing import Dict, Iterator, List, Optional, Set, Tuple

from .config_dict import ConfigDict
from .lazy import LazyObject
from .utils import (BASE_KEY, CONFIG_MODULE, ConfigParsingError,
                    is_builtin_module, is_config_value, read_config_text,
                    reraise_with_location)

_BIND = '__mmengine_bind__'


@contextlib.contextmanager
def read_base() -> Iterator[None]:
    """Mark the imports of base configs in a pure-Python config.

    ``Config.fromfile`` rewrites the body of ``with read_base():`` so that
    each ``from .base_config import *`` merges the keys of that config into
    the current one. Run outside of ``Config.fromfile`` it does nothing.
    """
    yield


def top_level_statements(body: List[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, including those nested in if/try/with
    blocks, but not the bodies of functions or classes."""
    for node in body:
        yield node
        if isinstance(node, (ast.If, ast.For, ast.While, ast.With)):
            yield from top_level_statements(node.body)
            yield from top_level_statements(getattr(node, 'orelse', []))
        elif isinstance(node, ast.Try):
            yield from top_level_statements(node.body)
            for handler in node.handlers:
                yield from top_level_statements(handler.body)
            yield from top_level_statements(node.orelse)
            yield from top_level_statements(node.finalbody)


def _is_read_base(node: ast.stmt) -> bool:
    if not isinstance(node, ast.With) or len(node.items) != 1:
        return False
    expr = node.items[0].context_expr
    return (isinstance(expr, ast.Call) and (
        isinstance(expr.func, ast.Name) and expr.func.id == 'read_base'
        or isinstance(expr.func, ast.Attribute)
        and expr.func.attr == 'read_base'))


def find_base_assign(tree: ast.Module) -> Optional[ast.Assign]:
    """The module-level ``_base_ = ...`` statement of a config, if any."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == BASE_KEY
                for t in node.targets):
            return node
    return None


def is_lazy_config(tree: ast.Module) -> bool:
    """Whether a parsed ``.py`` config is a pure-Python config.

    A config that assigns ``_base_`` is a text-style config. Otherwise it is
    pure-Python when it uses ``with read_base()``, a relative import, or
    imports a module outside the standard library.
    """
    if find_base_assign(tree) is not None:
        return False
    for node in top_level_statements(tree.body):
        if _is_read_base(node):
            return True
        if isinstance(node, ast.ImportFrom):
            if node.level:
                return True
            if node.module == 'mmengine' and all(
                    a.name == 'Config' for a in node.names):
                continue
            if not is_builtin_module(node.module or ''):
                return True
        elif isinstance(node, ast.Import):
            if any(not is_builtin_module(a.name) for a in node.names):
                return True
    return False


class _Rewriter:
    """Replaces module-level imports by calls binding prepared values."""

    def __init__(self, filename: str, loader: 'LazyConfigLoader'):
        self.filename = filename
        self.loader = loader
        self.bindings: List[Dict[str, object]] = []
        self.imported_names: Set[str] = set()  # lazily imported names
        self.real_import_names: Set[str] = set()  # std-lib imports

    def _where(self, node: ast.AST) -> str:
        return f'{self.filename}, line {node.lineno}'

    def _bind_stmt(self, node: ast.stmt, values: Dict[str, object]):
        self.bindings.append(values)
        call = ast.Expr(
            ast.Call(
                func=ast.Name(_BIND, ast.Load()),
                args=[ast.Constant(len(self.bindings) - 1)],
                keywords=[]))
        return ast.fix_missing_locations(ast.copy_location(call, node))

    def rewrite(self, body: List[ast.stmt]) -> List[ast.stmt]:
        new_body: List[ast.stmt] = []
        for node in body:
            if _is_read_base(node):
                for stmt in node.body:
                    if not isinstance(stmt, ast.ImportFrom):
                        raise ConfigParsingError(
                            f'{self._where(stmt)}: only `from <config> '
                            'import ...` statements may appear inside '
                            '`with read_base():`')
                    new_body.append(self._base_import(stmt))
            elif isinstance(node, ast.ImportFrom) and node.level:
                new_body.append(self._base_import(node))
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ''
                if is_builtin_module(module):
                    self.real_import_names.update(
                        a.asname or a.name for a in node.names)
                    new_body.append(node)
                    continue
                values = {}
                for alias in node.names:
                    if alias.name == '*':
                        raise ConfigParsingError(
                            f'{self._where(node)}: `from {module} import *` '
                            'is not allowed in a pure-Python config outside '
                            '`with read_base():`; import the names you use')
                    name = alias.asname or alias.name
                    values[name] = LazyObject(module, alias.name,
                                              self._where(node))
                    self.imported_names.add(name)
                new_body.append(self._bind_stmt(node, values))
            elif isinstance(node, ast.Import):
                keep, values = [], {}
                for alias in node.names:
                    if is_builtin_module(alias.name):
                        keep.append(alias)
                        self.real_import_names.add(
                            alias.asname or alias.name.split('.')[0])
                        continue
                    if alias.asname:
                        name, module = alias.asname, alias.name
                    else:  # ``import a.b`` binds ``a``
                        name = module = alias.name.split('.')[0]
                    values[name] = LazyObject(module, None, self._where(node))
                    self.imported_names.add(name)
                if keep:
                    new_body.append(
                        ast.copy_location(ast.Import(names=keep), node))
                if values:
                    new_body.append(self._bind_stmt(node, values))
            elif isinstance(node, (ast.If, ast.For, ast.While, ast.With)):
                node.body = self.rewrite(node.body)
                node.orelse = self.rewrite(getattr(node, 'orelse', []))
                new_body.append(node)
            elif isinstance(node, ast.Try):
                node.body = self.rewrite(node.body)
                for handler in node.handlers:
                    handler.body = self.rewrite(handler.body)
                node.orelse = self.rewrite(node.orelse)
                node.finalbody = self.rewrite(node.finalbody)
                new_body.append(node)
            else:
                new_body.append(node)
        return new_body

    def _base_import(self, node: ast.ImportFrom) -> ast.stmt:
        """Load the base config named by ``node`` and bind its keys."""
        where = self._where(node)
        if node.module is None:
            # ``from . import base`` binds whole configs
            values = {}
            for alias in node.names:
                path = self._module_path(alias.name, node.level, where)
                values[alias.asname or alias.name] = self.loader.load_base(
                    path, where)[0]
            return self._bind_stmt(node, values)
        path = self._module_path(node.module, node.level, where)
        base, base_imported = self.loader.load_base(path, where)
        values = {}
        for alias in node.names:
            if alias.name == '*':
                # the keys of the base, not the names it imported itself
                values.update((k, v) for k, v in dict.items(base)
                              if k not in base_imported)
                continue
            if alias.name not in base:
                raise ImportError(
                    f'cannot import name {alias.name!r} from the base '
                    f'config {path} ({where})')
            values[alias.asname or alias.name] = dict.__getitem__(
                base, alias.name)
        return self._bind_stmt(node, values)

    def _module_path(self, module: str, level: int, where: str) -> str:
        """File of the config module ``module`` imported at ``level``."""
        parts = module.split('.')
        if level:
            root = osp.dirname(osp.abspath(self.filename))
            for _ in range(level - 1):
                root = osp.dirname(root)
            path = osp.join(root, *parts)
        else:
            try:
                spec = importlib.util.find_spec(parts[0])
            except (ImportError, ValueError):
                spec = None
            if spec is None or not spec.submodule_search_locations:
                raise ImportError(
                    f'cannot find the package {parts[0]!r} of the base '
                    f'config {module} ({where})')
            root = list(spec.submodule_search_locations)[0]
            path = osp.join(root, *parts[1:])
        if osp.isfile(path + '.py'):
            return path + '.py'
        if osp.isfile(osp.join(path, '__init__.py')):
            return osp.join(path, '__init__.py')
        raise ImportError(f'the base config {"." * level}{module} imported '
                          f'at {where} does not exist: {path}.py not found')


class LazyConfigLoader:
    """Loads one pure-Python config file and, recursively, its bases."""

    def __init__(self,
                 use_predefined_variables: bool = True,
                 use_environment_variables: bool = True):
        self.use_predefined_variables = use_predefined_variables
        self.use_environment_variables = use_environment_variables
        self.env_variables: Dict[str, str] = {}
        self._stack: List[str] = []

    def load_base(self, path: str,
                  where: str) -> Tuple[ConfigDict, Set[str]]:
        """Load a base config imported at ``where``; return its dict and
        the names it imported."""
        if osp.abspath(path) in self._stack:
            chain = ' -> '.join(self._stack + [osp.abspath(path)])
            raise ConfigParsingError(f'circular base config import: {chain}')
        cfg, _, imported = self.load(path)
        return cfg, imported

    def load(self, filename: str) -> Tuple[ConfigDict, str, Set[str]]:
        """Execute ``filename``; return (cfg dict, text, imported names)."""
        raw_text, text, env = read_config_text(
            filename, self.use_predefined_variables,
            self.use_environment_variables)
        self.env_variables.update(env)
        try:
            tree = ast.parse(text, filename)
        except SyntaxError as e:
            reraise_with_location(e, filename)
        base_assign = find_base_assign(tree)
        if base_assign is not None:
            how = ('imported as a pure-Python base' if self._stack else
                   'loaded as a pure-Python config (lazy_import=True)')
            raise ConfigParsingError(
                f'{filename}, line {base_assign.lineno}: `_base_ = ...` '
                'inheritance cannot be mixed with pure-Python configs that '
                f'use `with read_base():`; this config is {how}, so inherit '
                'with `with read_base(): from .base import *` instead of '
                '`_base_ =` (or load it with lazy_import=False)')

        self._stack.append(osp.abspath(filename))
        try:
            rewriter = _Rewriter(filename, self)
            tree.body = rewriter.rewrite(tree.body)
        finally:
            self._stack.pop()

        namespace: dict = {'__file__': filename, '__name__': CONFIG_MODULE}

        def bind(index: int) -> None:
            namespace.update(rewriter.bindings[index])

        namespace[_BIND] = bind
        try:
            exec(compile(tree, filename, 'exec'), namespace)
        except Exception as e:
            reraise_with_location(e, filename)

        cfg = ConfigDict()
        for key, value in namespace.items():
            if key.startswith('__') or key in rewriter.real_import_names:
                continue
            if key not in rewriter.imported_names and \
                    not is_config_value(value):
                continue
            cfg[key] = value
        imported = {
            name
            for name in rewriter.imported_names
            if name in cfg and isinstance(dict.__getitem__(cfg, name),
                                          LazyObject)
        }
        return cfg, raw_text, imported
