"""Hook priority levels.

A hook's priority decides its position among the hooks called at the same
point: smaller numbers run first, equal numbers run in registration order.
"""
from enum import Enum
from typing import Union

__all__ = ['Priority', 'get_priority']


class Priority(Enum):
    """Named hook priority levels (value in ``[0, 100]``, lower runs first).

    =============== ======
    Level            Value
    =============== ======
    HIGHEST          0
    VERY_HIGH        10
    HIGH             30
    ABOVE_NORMAL     40
    NORMAL           50
    BELOW_NORMAL     60
    LOW              70
    VERY_LOW         90
    LOWEST           100
    =============== ======
    """

    HIGHEST = 0
    VERY_HIGH = 10
    HIGH = 30
    ABOVE_NORMAL = 40
    NORMAL = 50
    BELOW_NORMAL = 60
    LOW = 70
    VERY_LOW = 90
    LOWEST = 100


def get_priority(priority: Union[int, str, Priority]) -> int:
    """Return the integer value of a hook priority.

    Args:
        priority (int | str | Priority): an int in ``[0, 100]``, a level
            name such as ``'NORMAL'`` (case-insensitive) or a
            :class:`Priority` member.

    Returns:
        int: the priority value.

    Raises:
        ValueError: if an int is outside ``[0, 100]`` or a name is unknown.
        TypeError: for any other type.
    """
    # bool is an int subclass but never a meaningful priority.
    if isinstance(priority, int) and not isinstance(priority, bool):
        if priority < 0 or priority > 100:
            raise ValueError(
                f'priority must be between 0 and 100, but got {priority}')
        return priority
    if isinstance(priority, Priority):
        return priority.value
    if isinstance(priority, str):
        try:
            return Priority[priority.upper()].value
        except KeyError:
            names = ', '.join(p.name for p in Priority)
            raise ValueError(
                f'unknown priority name {priority!r}; expected one of '
                f'{names} (case-insensitive) or an int in [0, 100]') from None
    raise TypeError('priority must be an integer or Priority enum value, '
                    f'but got {type(priority).__name__}: {priority!r}')
