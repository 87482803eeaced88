"""Global, named instances per class (``ManagerMixin``)."""
import inspect
import threading
import warnings
from collections import OrderedDict
from typing import Any

_lock = threading.RLock()


class ManagerMeta(type):
    """Metaclass giving every class its own instance table.

    The class's ``__init__`` must accept a ``name`` argument, since instances
    are created and looked up by name.
    """

    def __init__(cls, *args):
        cls._instance_dict = OrderedDict()
        params = inspect.getfullargspec(cls)
        params_names = params[0] if params[0] else []
        assert 'name' in params_names, \
            f'{cls} must have the `name` argument'
        super().__init__(*args)


class ManagerMixin(metaclass=ManagerMeta):
    """Mixin that lets a class keep named global instances.

    ``Cls.get_instance(name, **kwargs)`` creates the instance on first use and
    returns the same object afterwards; ``Cls.get_current_instance()``
    returns the most recently created one.

    Args:
        name (str): Name of the instance. Defaults to ''.
    """

    def __init__(self, name: str = '', **kwargs):
        assert isinstance(name, str) and name, \
            'name argument must be an non-empty string.'
        self._instance_name = name

    @classmethod
    def get_instance(cls, name: str, **kwargs) -> Any:
        """Get the instance called ``name``, creating it if needed.

        Extra ``kwargs`` are passed to the constructor on creation; for an
        existing instance they are ignored with a warning (see
        ``docs/decisions.md``).
        """
        with _lock:
            assert isinstance(name, str), \
                f'type of name should be str, but got {type(name)}'
            instance_dict = cls._instance_dict
            if name not in instance_dict:
                instance = cls(name=name, **kwargs)
                instance_dict[name] = instance
            elif kwargs:
                warnings.warn(
                    f'{cls} instance named of {name} has been created, '
                    'the method `get_instance` should not accept any other '
                    'arguments')
            return instance_dict[name]

    @classmethod
    def get_current_instance(cls):
        """Return the most recently created instance.

        Raises:
            RuntimeError: if no instance of this class exists yet.
        """
        with _lock:
            if not cls._instance_dict:
                raise RuntimeError(
                    f'Before calling {cls.__name__}.get_current_instance(), '
                    'you should call get_instance(name=xxx) at least once.')
            name = next(iter(reversed(cls._instance_dict)))
            return cls._instance_dict[name]

    @classmethod
    def check_instance_created(cls, name: str) -> bool:
        """Whether an instance called ``name`` exists."""
        with _lock:
            return name in cls._instance_dict

    @property
    def instance_name(self) -> str:
        """Name of this instance."""
        return self._instance_name
