"""``DefaultScope``: the process-wide scope that registries build in."""
import itertools
import time
from contextlib import contextmanager
from typing import Generator, Optional

from mmengine.utils import ManagerMixin

# Makes the names of temporary instances unique even within one clock tick.
_overwrite_counter = itertools.count()


class DefaultScope(ManagerMixin):
    """Global record of the current default scope (e.g. ``'mmdet'``).

    Registries read ``DefaultScope.get_current_instance().scope_name`` before a
    build and switch to the registry of that scope in their tree, so a config
    written for a downstream library resolves unprefixed types in that library
    first, then in its ancestors (MMEngine).

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

    @property
    def scope_name(self) -> str:
        """The scope this instance selects."""
        return self._scope_name

    @classmethod
    def get_current_instance(cls) -> Optional['DefaultScope']:
        """Return the most recently created instance, or ``None``.

        Unlike other ``ManagerMixin`` classes, having no default scope is a
        normal state (plain MMEngine use), so this does not raise.
        """
        if not cls._instance_dict:
            return None
        return super().get_current_instance()

    @classmethod
    @contextmanager
    def overwrite_default_scope(
            cls, scope_name: Optional[str]) -> Generator[None, None, None]:
        """Temporarily make ``scope_name`` the current default scope.

        ``None`` leaves the current scope unchanged. On exit the temporary
        instance is removed and the scope that was current before the block
        becomes current again, even if other instances were created inside.

        Args:
            scope_name (str, optional): Scope to switch to.
        """
        if scope_name is None:
            yield
            return
        previous = cls.get_current_instance()
        name = f'overwrite-{time.time()}-{next(_overwrite_counter)}'
        cls.get_instance(name, scope_name=scope_name)
        try:
            yield
        finally:
            cls._instance_dict.pop(name, None)
            if (previous is not None
                    and cls._instance_dict.get(previous.instance_name) is
                    previous):
                cls._instance_dict.move_to_end(previous.instance_name)
