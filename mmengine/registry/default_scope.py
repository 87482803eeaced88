"""``DefaultScope``: the process-wide scope that registries build in."""
import itertools
import threading
from contextlib import contextmanager
from typing import Generator, List, Optional

from mmengine.utils import ManagerMixin

# Creation order of every DefaultScope object (registered or temporary), so
# that the newest one wins whether it is global or a thread's override.
_creation_counter = itertools.count()


class _Overrides(threading.local):
    """Per-thread stack of the scopes set by ``overwrite_default_scope``.

    ``_scope_`` switches are a property of one build call, so they are kept
    per thread: two threads building with different ``_scope_`` values at
    the same time must not see each other's scope.
    """

    def __init__(self) -> None:
        self.stack: List['DefaultScope'] = []


_overrides = _Overrides()


class DefaultScope(ManagerMixin):
    """Global record of the current default scope (e.g. ``'mmdet'``).

    Registries read ``DefaultScope.get_current_instance().scope_name`` before a
    build and switch to the registry of that scope in their tree, so a config
    written for a downstream library resolves unprefixed types in that library
    first, then in its ancestors (MMEngine).

    Instances made with ``get_instance`` are process-wide (the Runner creates
    one from its ``default_scope``). ``overwrite_default_scope`` (used for
    ``_scope_`` in configs) only affects the calling thread.

    Args:
        name (str): Name of the instance (see ``ManagerMixin``).
        scope_name (str): The scope, usually a package name such as
            ``'mmdet'``.

    Examples:
        >>> DefaultScope.get_instance('my_experiment', scope_name='mmdet')
        >>> DefaultScope.get_current_instance().scope_name
        'mmdet'
        >>> with DefaultScope.overwrite_default_scope('mmpretrain'):
        ...     DefaultScope.get_current_instance().scope_name
        'mmpretrain'
    """

    def __init__(self, name: str, scope_name: str):
        super().__init__(name)
        if not isinstance(scope_name, str):
            raise TypeError(
                f'scope_name should be a str, but got {type(scope_name)}')
        self._scope_name = scope_name
        self._created = next(_creation_counter)
        self._creator = threading.get_ident()

    @property
    def scope_name(self) -> str:
        """The scope this instance selects."""
        return self._scope_name

    @classmethod
    def get_current_instance(cls) -> Optional['DefaultScope']:
        """Return the current default scope instance, or ``None``.

        That is the newest of: the latest instance created with
        ``get_instance`` and this thread's innermost
        ``overwrite_default_scope``. Unlike other ``ManagerMixin`` classes,
        having no default scope is a normal state (plain MMEngine use), so
        this does not raise.
        """
        stack = _overrides.stack
        latest = cls._latest_registered()
        if not stack:
            return latest
        top = stack[-1]
        if latest is not None and latest._created > top._created:
            # created inside the overwrite block (e.g. by a Runner built
            # there): the newer scope wins, as in a plain sequence of
            # get_instance calls
            return latest
        return top

    @classmethod
    def _latest_registered(cls) -> Optional['DefaultScope']:
        """The newest instance made with ``get_instance``, or ``None``."""
        if not cls._instance_dict:
            return None
        try:
            return super().get_current_instance()
        except RuntimeError:  # emptied by another thread meanwhile
            return None

    @classmethod
    @contextmanager
    def overwrite_default_scope(
            cls, scope_name: Optional[str]) -> Generator[None, None, None]:
        """Temporarily make ``scope_name`` the current default scope.

        ``None`` leaves the current scope unchanged. The switch is seen by
        the calling thread only and is undone on exit; if instances were
        created with ``get_instance`` inside the block, the instance that was
        current before the block becomes current again.

        Args:
            scope_name (str, optional): Scope to switch to.
        """
        if scope_name is None:
            yield
            return
        previous = cls._latest_registered()
        stack = _overrides.stack
        override = cls(f'overwrite-{scope_name}', scope_name=scope_name)
        stack.append(override)
        try:
            yield
        finally:
            stack.pop()
            latest = cls._latest_registered()
            # Only an instance this thread created inside the block is
            # demoted; one made meanwhile by another thread stays current.
            if (previous is not None and latest is not None
                    and latest is not previous
                    and latest._created > override._created
                    and latest._creator == override._creator
                    and cls._instance_dict.get(
                        previous.instance_name) is previous):
                cls._instance_dict.move_to_end(previous.instance_name)


def current_scope_name() -> Optional[str]:
    """The current default scope name, or ``None`` when none is set.

    Runs before every build, so the common cases avoid the ManagerMixin
    lock: no scope at all, or only global instances (read the newest one
    directly).
    """
    instances = DefaultScope._instance_dict
    if not _overrides.stack:
        if not instances:
            return None
        try:
            return instances[next(reversed(instances))]._scope_name
        except (KeyError, RuntimeError, StopIteration):
            pass  # changed by another thread meanwhile: take the lock
    current = DefaultScope.get_current_instance()
    return None if current is None else current.scope_name
