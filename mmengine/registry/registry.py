"""``Registry``: a named, scoped, hierarchical map from names to callables."""
import importlib
import logging
import sys
import threading
from collections.abc import Sequence
from contextlib import contextmanager
from typing import (Any, Callable, Dict, Generator, Iterator, List, Optional,
                    Tuple, Union)

from mmengine.utils import get_object_from_string

from ._log import debug_logger, log
from .default_scope import DefaultScope, current_scope_name

# Downstream libraries whose old versions register their modules through
# ``<scope>.utils.register_all_modules`` instead of ``locations``; kept so
# their child registries still fill themselves on first lookup.
_DOWNSTREAM_PACKAGES = {
    'mmcls': 'mmcls', 'mmpretrain': 'mmpretrain', 'mmdet': 'mmdet',
    'mmdet3d': 'mmdet3d', 'mmseg': 'mmsegmentation', 'mmaction': 'mmaction2',
    'mmtrack': 'mmtrack', 'mmpose': 'mmpose', 'mmedit': 'mmedit',
    'mmagic': 'mmagic', 'mmocr': 'mmocr', 'mmgen': 'mmgen',
    'mmfewshot': 'mmfewshot', 'mmrazor': 'mmrazor', 'mmflow': 'mmflow',
    'mmhuman3d': 'mmhuman3d', 'mmrotate': 'mmrotate',
    'mmselfsup': 'mmselfsup', 'mmyolo': 'mmyolo',
}

# Scopes whose ``<scope>.registry`` module was already tried (imported or
# failed), so a missing downstream package costs one import attempt, not one
# per build.
_tried_scope_imports: set = set()


class RegistryArgumentError(TypeError, AssertionError):
    """A ``Registry`` constructor argument has the wrong type or value.

    It is also an ``AssertionError`` because the original engine checked these
    with ``assert`` and existing code and tests catch that type.
    """


class RegistryKeyError(KeyError):
    """A ``KeyError`` of the registry: a name is missing or taken.

    Its text is shown as written; a plain ``KeyError`` shows ``repr()`` of
    its message, escaping the quotes of the names and configs it quotes.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if len(self.args) == 1 else \
            super().__str__()


def _import_scope_registry(scope: str) -> None:
    """Import ``<scope>.registry`` once, to attach a downstream tree."""
    if scope in _tried_scope_imports:
        return
    # Marked as tried only afterwards: a thread that comes here while
    # another is importing also calls import_module, which waits for that
    # import to finish instead of letting the lookup see a missing tree.
    try:
        importlib.import_module(f'{scope}.registry')
    except ImportError as e:
        if scope not in _tried_scope_imports:
            if scope in _DOWNSTREAM_PACKAGES:
                log(f'{scope} is not installed and its modules will not be '
                    f'registered. To use modules defined in {scope}, install '
                    f'it with `pip install {_DOWNSTREAM_PACKAGES[scope]}`. '
                    f'({e})', logging.WARNING)
            else:
                log(f'Could not import "{scope}.registry" ({e}).',
                    logging.DEBUG)
    finally:
        _tried_scope_imports.add(scope)


class Registry:
    """A registry maps strings to classes or functions, and builds them.

    Registries form trees: a downstream library creates a child of one of
    MMEngine's root registries (``Registry('model', parent=MODELS,
    scope='mmdet')``). Unprefixed names are looked up in the registry itself
    and then its ancestors; ``'<scope>.Name'`` selects the registry of that
    scope among the children, the root and the root's children.

    Args:
        name (str): Registry name, used in messages (e.g. ``'hook'``).
        build_func (callable, optional): Builder called as
            ``build_func(cfg, *args, **kwargs, registry=self)``. Defaults to
            the parent's builder, or :func:`build_from_cfg` for a root.
        parent (Registry, optional): Parent registry.
        scope (str, optional): Scope of the registry, normally the package
            that owns it. Defaults to the top-level package of the module
            calling ``Registry(...)``.
        locations (list[str], optional): Modules that register this
            registry's members. They are imported once, on the first lookup,
            so building works without importing them by hand.

    Examples:
        >>> MODELS = Registry('models')
        >>> @MODELS.register_module()
        ... class ResNet:
        ...     def __init__(self, depth):
        ...         self.depth = depth
        >>> MODELS.build(dict(type='ResNet', depth=50)).depth
        50
    """

    def __init__(self,
                 name: str,
                 build_func: Optional[Callable] = None,
                 parent: Optional['Registry'] = None,
                 scope: Optional[str] = None,
                 locations: Optional[List[str]] = None):
        from .build_functions import build_from_cfg

        if not isinstance(name, str):
            raise RegistryArgumentError(
                f'name should be a str, but got {type(name)}')
        if scope is not None and not isinstance(scope, str):
            raise RegistryArgumentError(
                f'scope should be None or a str, but got {type(scope)}')
        if parent is not None and not isinstance(parent, Registry):
            raise RegistryArgumentError(
                f'parent should be None or a Registry, but got {type(parent)}')
        if locations is None:
            locations = []
        if isinstance(locations, str) or not all(
                isinstance(loc, str) for loc in locations):
            raise RegistryArgumentError(
                'locations should be a list of module paths (str), but got '
                f'{locations!r}')
        if build_func is not None and not callable(build_func):
            raise RegistryArgumentError(
                f'build_func should be callable, but got {type(build_func)}')

        self._name = name
        self._module_dict: Dict[str, Any] = {}
        self._children: Dict[str, 'Registry'] = {}
        self._locations = list(locations)
        self._imported = False
        self._importing = False
        self._import_lock = threading.RLock()
        # location -> error text, for locations that could not be imported
        self._location_errors: Dict[str, str] = {}
        # scopes already warned about as missing from this tree
        self._warned_scopes: set = set()
        # On a root: scope -> the registry _search_child found for it (the
        # lookup of every build under a default scope). Cleared whenever a
        # registry joins the tree, which is the only way the answer changes.
        self._scope_index: Dict[str, 'Registry'] = {}
        self._scope = self._infer_scope_of_caller() if scope is None \
            else scope

        self._parent = parent
        if parent is not None:
            parent._add_child(self)

        if build_func is None:
            build_func = parent.build_func if parent is not None \
                else build_from_cfg
        self.build_func = build_func

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state['_import_lock']  # a lock cannot be pickled or copied
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._import_lock = threading.RLock()

    # ------------------------------------------------------------------
    # basic properties
    @property
    def name(self) -> str:
        """Human-readable registry name."""
        return self._name

    @property
    def scope(self) -> str:
        """Scope (package) of this registry."""
        return self._scope

    @property
    def module_dict(self) -> Dict[str, Any]:
        """Registered name -> class or function, in registration order."""
        return self._module_dict

    @property
    def children(self) -> Dict[str, 'Registry']:
        """Child registries keyed by their scope."""
        return self._children

    @property
    def parent(self) -> Optional['Registry']:
        """Parent registry, or ``None`` for a root."""
        return self._parent

    @property
    def root(self) -> 'Registry':
        """The root of this registry's tree."""
        return self._get_root_registry()

    @property
    def locations(self) -> List[str]:
        """Modules imported on first lookup to fill this registry."""
        return list(self._locations)

    def __len__(self) -> int:
        return len(self._module_dict)

    def __contains__(self, key: Any) -> bool:
        # Only the registry tree counts: the dotted-path import fallback of
        # ``get`` would make e.g. ``'os.path' in REG`` true.
        return isinstance(key, str) and self._lookup(key)[0] is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._module_dict)

    def __repr__(self) -> str:
        # rich is only needed to show a registry, never to use one.
        import io

        from rich.console import Console
        from rich.table import Table

        table = Table(title=f'Registry of {self._name}')
        table.add_column('Names', justify='left', style='cyan')
        table.add_column('Objects', justify='left', style='green')
        for name, obj in sorted(self._module_dict.items()):
            table.add_row(name, str(obj))
        console = Console(
            file=io.StringIO(), width=120, color_system=None,
            force_terminal=False)
        with console.capture() as capture:
            console.print(table, end='')
        return capture.get()

    # ------------------------------------------------------------------
    # scope helpers
    @staticmethod
    def infer_scope() -> str:
        """Return the top-level package of the module calling the caller.

        ``Registry.__init__`` uses this so that a registry created inside
        ``mmdet/registry.py`` gets the scope ``'mmdet'``.
        """
        frame = sys._getframe(1)
        if frame.f_back is not None:  # called at module level: the module
            frame = frame.f_back
        return frame.f_globals.get('__name__', '__main__').split('.')[0]

    def _infer_scope_of_caller(self) -> str:
        # Skip the __init__ frames of this object (subclasses may override
        # __init__ and call super()), then take the caller's package.
        frame = sys._getframe(1)
        while frame.f_back is not None and frame.f_locals.get(
                'self') is self:
            frame = frame.f_back
        return frame.f_globals.get('__name__', '__main__').split('.')[0]

    @staticmethod
    def split_scope_key(key: str) -> Tuple[Optional[str], str]:
        """Split ``'scope.Name'`` into ``('scope', 'Name')``.

        Only the first dot separates the scope: ``'a.b.C'`` gives
        ``('a', 'b.C')``; a key without a dot gives ``(None, key)``.
        """
        index = key.find('.')
        if index == -1:
            return None, key
        return key[:index], key[index + 1:]

    def _get_root_registry(self) -> 'Registry':
        root = self
        while root._parent is not None:
            root = root._parent
        return root

    def _search_child(self, scope: str) -> Optional['Registry']:
        """Find the registry with ``scope`` in this subtree (self included)."""
        if self._scope == scope:
            return self
        for child in self._children.values():
            found = child._search_child(scope)
            if found is not None:
                return found
        return None

    def _add_child(self, registry: 'Registry') -> None:
        if not isinstance(registry, Registry):
            raise RegistryArgumentError(
                f'a child registry must be a Registry, got {type(registry)}')
        if registry.scope in self._children:
            existing = self._children[registry.scope]
            raise RegistryArgumentError(
                f'scope "{registry.scope}" exists in the "{self._name}" '
                f'registry: it already has the child "{existing.name}" with '
                'that scope; give the new registry another scope')
        self._children[registry.scope] = registry
        self._get_root_registry()._scope_index.clear()

    def _registry_for_current_scope(self) -> 'Registry':
        """The registry in this tree that matches the current default scope.

        Falls back to ``self`` (with a warning, once per scope) when the tree
        has no registry of that scope.
        """
        scope_name = current_scope_name()
        if scope_name is None or scope_name == self._scope:
            return self
        root = self._get_root_registry()
        registry = root._scope_index.get(scope_name)
        if registry is not None:
            return registry
        registry = root._search_child(scope_name)
        if registry is None and scope_name not in _tried_scope_imports:
            _import_scope_registry(scope_name)
            registry = root._search_child(scope_name)
        if registry is None:
            if scope_name not in self._warned_scopes:
                self._warned_scopes.add(scope_name)
                log(f'Failed to search registry with scope "{scope_name}" in '
                    f'the "{root.name}" registry tree. As a workaround, the '
                    f'current "{self._name}" registry in "{self._scope}" is '
                    'used to build instances. Check whether '
                    f'"{scope_name}" is a correct scope, or whether its '
                    'registry is initialized.', logging.WARNING)
            return self
        root._scope_index[scope_name] = registry
        return registry

    @contextmanager
    def switch_scope_and_registry(
            self, scope: Optional[str]) -> Generator['Registry', None, None]:
        """Make ``scope`` the default scope and yield its registry.

        Within the block, ``DefaultScope`` reports ``scope`` (so nested
        builds use it too). The yielded registry is the one of the current
        default scope in this tree, or ``self`` if there is none. ``None``
        keeps the current default scope.

        Args:
            scope (str, optional): Target scope.
        """
        with DefaultScope.overwrite_default_scope(scope):
            yield self._registry_for_current_scope()

    # ------------------------------------------------------------------
    # lazy imports
    def import_from_location(self) -> None:
        """Import this registry's ``locations`` (once).

        A location that cannot be imported is logged as a warning and
        remembered; lookups then continue with what is registered, and the
        ``KeyError`` of a failed build names the location and the error.
        Other errors raised while importing a location propagate.
        """
        if self._imported:
            return
        # Other threads wait here until the import is complete, so none of
        # them looks up a half-filled registry. The lock is re-entrant: a
        # location that looks something up in this registry while being
        # imported sees what is registered so far (``_importing``).
        with self._import_lock:
            if self._imported or self._importing:
                return
            self._importing = True
            try:
                self._import_locations()
            finally:
                self._importing = False
                self._imported = True

    def _import_locations(self) -> None:
        if not self._locations and self._scope in _DOWNSTREAM_PACKAGES:
            self._register_all_modules_of_scope()
        for location in self._locations:
            try:
                importlib.import_module(location)
            except ImportError as e:
                self._location_errors[location] = f'{type(e).__name__}: {e}'
                log(f'Failed to import "{location}", a location of the '
                    f'"{self._name}" registry in "{self._scope}": {e}. '
                    'Modules it registers will not be found.',
                    logging.WARNING)
            except Exception as e:
                # A bug in the location module: raise it now, and keep it for
                # the KeyError of later lookups (the import is not retried,
                # since re-running a half-executed module would re-register).
                self._location_errors[location] = f'{type(e).__name__}: {e}'
                raise
            else:
                log(f"Modules of {self._scope}'s {self._name} registry have "
                    f'been automatically imported from {location}',
                    logging.DEBUG)

    def _register_all_modules_of_scope(self) -> None:
        # Old downstream packages expose ``<scope>.utils.register_all_modules``
        # instead of declaring ``locations``.
        try:
            module = importlib.import_module(f'{self._scope}.utils')
        except ImportError as e:
            self._location_errors[f'{self._scope}.utils'] = str(e)
            log(f'{self._scope} is not installed and its modules will not be '
                'registered. To use modules defined in it, install it with '
                f'`pip install {_DOWNSTREAM_PACKAGES[self._scope]}`.',
                logging.WARNING)
            return
        register_all = getattr(module, 'register_all_modules', None)
        if register_all is not None:
            register_all(False)

    # ------------------------------------------------------------------
    # lookup
    def get(self, key: str) -> Optional[Any]:
        """Return the class or function registered as ``key``, or ``None``.

        ``key`` may carry a scope prefix (``'mmdet.RetinaNet'``). Without one
        the registry and then its ancestors are searched. A dotted key that
        is not found in the tree is tried as an import path
        (``'torch.optim.SGD'``).

        Args:
            key (str): Name, optionally ``'<scope>.'``-prefixed.
        """
        obj, registry = self._get_with_origin(key)
        if obj is not None:
            logger = debug_logger()
            if logger is not None:
                logger.debug(
                    f'Get class `{getattr(obj, "__name__", str(obj))}` from '
                    f'"{registry.name}" registry in "{registry.scope}"')
        return obj

    def _get_with_origin(self, key: str) -> Tuple[Optional[Any], 'Registry']:
        """Like ``get`` without logging; also returns where it was found."""
        if not isinstance(key, str):
            raise TypeError(
                f'key of the "{self._name}" registry must be a str, but got '
                f'{type(key)}')
        obj, registry = self._lookup(key)
        if obj is None and '.' in key:
            # A dotted path to any importable object, e.g. 'torch.nn.ReLU'.
            # Undotted keys are not tried: they could only name a top-level
            # module, never something to build.
            obj, registry = get_object_from_string(key), self
        return obj, registry

    def _lookup(self, key: str) -> Tuple[Optional[Any], 'Registry']:
        """Search the registry tree only (no import fallback, no logging)."""
        if not self._imported:
            self.import_from_location()
        scope, real_key = self.split_scope_key(key)
        if scope is not None and key in self._module_dict:
            # registered under a dotted name; the exact name wins (as in
            # the fast path of build_from_cfg)
            return self._module_dict[key], self
        if scope is None or scope == self._scope:
            obj = self._module_dict.get(real_key)
            if obj is not None:
                return obj, self
            if scope is None:
                return self._lookup_in_ancestors(real_key)
            return None, self
        # A scope prefix: one of our children, the root, or a root child
        # (a sibling, uncle ... of ours).
        if scope in self._children:
            return self._children[scope]._lookup(real_key)
        root = self._get_root_registry()
        if root is not self and (scope == root._scope
                                 or scope in root._children):
            return root._lookup(key)
        if scope not in _tried_scope_imports:
            # Maybe a downstream package whose registries are not imported
            # yet; importing ``<scope>.registry`` attaches them to the tree.
            _import_scope_registry(scope)
            if scope in self._children or (
                    root is not self and
                (scope == root._scope or scope in root._children)):
                return self._lookup(key)
        # Not a scope of this tree: the whole key is a plain name (spec 02
        # §4), registered literally in an ancestor (in ``self`` it was
        # checked above).
        return self._lookup_in_ancestors(key)

    def _lookup_in_ancestors(self, name: str) -> Tuple[Optional[Any],
                                                        'Registry']:
        """Find ``name`` in the parent, grandparent ... (not in ``self``)."""
        parent = self._parent
        while parent is not None:
            if not parent._imported:
                parent.import_from_location()
            obj = parent._module_dict.get(name)
            if obj is not None:
                return obj, parent
            parent = parent._parent
        return None, self

    def _iter_tree(self) -> Iterator['Registry']:
        yield self
        for child in self._children.values():
            yield from child._iter_tree()

    def describe_missing(self, key: str) -> str:
        """Explain why ``key`` is not found: the scopes searched, the import
        locations tried (and their errors) and the closest known names."""
        from ._missing import describe_missing
        return describe_missing(self, key)

    # ------------------------------------------------------------------
    # build
    def build(self, cfg: Any, *args, **kwargs) -> Any:
        """Build an object from ``cfg`` with this registry's ``build_func``.

        Equivalent to ``self.build_func(cfg, *args, **kwargs, registry=self)``.
        """
        return self.build_func(cfg, *args, **kwargs, registry=self)

    # ------------------------------------------------------------------
    # registration
    def _register_module(self,
                         module: Any,
                         module_name: Optional[Union[str, Sequence]] = None,
                         force: bool = False) -> None:
        if not callable(module):
            raise TypeError(f'module must be Callable, but got {type(module)}')
        if module_name is None:
            module_name = getattr(module, '__name__', None)
            if module_name is None:
                raise TypeError(
                    f'{module!r} has no __name__; register it with an '
                    'explicit name: register_module(name=..., module=...)')
        names = [module_name] if isinstance(module_name, str) \
            else list(module_name)
        # All names are checked before any is added: a taken alias must not
        # leave the others registered.
        taken = [] if force else [n for n in names if n in self._module_dict]
        if taken:
            existing = self._module_dict[taken[0]]
            where = getattr(existing, '__module__', None) or '?'
            qualname = getattr(existing, '__qualname__', repr(existing))
            raise RegistryKeyError(
                f'{taken[0]} is already registered in {self._name} at '
                f'{where} (existing: {where}.{qualname}); pass force=True '
                'to replace it')
        for name in names:
            self._module_dict[name] = module

    def register_module(
            self,
            name: Optional[Union[str, Sequence[str]]] = None,
            force: bool = False,
            module: Optional[Any] = None) -> Any:
        """Register a class or function, as a decorator or directly.

        Args:
            name (str | Sequence[str], optional): Name(s) to register under.
                Defaults to ``module.__name__``.
            force (bool): Replace an existing entry of the same name instead
                of raising ``KeyError``. Defaults to False.
            module (callable, optional): The object to register. When given,
                it is registered now and returned; otherwise a decorator is
                returned.

        Examples:
            >>> @MODELS.register_module()
            ... class ResNet: ...
            >>> @MODELS.register_module(name=['Net', 'Alias'])
            ... class Net: ...
            >>> MODELS.register_module(module=ResNet, name='R', force=True)
        """
        if not isinstance(force, bool):
            raise TypeError(f'force must be a boolean, but got {type(force)}')
        if not (name is None or isinstance(name, str) or
                (isinstance(name, Sequence)
                 and all(isinstance(n, str) for n in name))):
            raise TypeError(
                'name must be None, an instance of str, or a sequence of str, '
                f'but got {type(name)}')

        if module is not None:
            self._register_module(module=module, module_name=name,
                                  force=force)
            return module

        def _register(module: Any) -> Any:
            self._register_module(module=module, module_name=name,
                                  force=force)
            return module

        return _register
