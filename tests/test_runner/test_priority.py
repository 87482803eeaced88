import pytest

from mmengine.runner.priority import Priority, get_priority


def test_levels():
    expected = dict(HIGHEST=0, VERY_HIGH=10, HIGH=30, ABOVE_NORMAL=40,
                    NORMAL=50, BELOW_NORMAL=60, LOW=70, VERY_LOW=90,
                    LOWEST=100)
    assert {p.name: p.value for p in Priority} == expected


def test_get_priority_int_enum_str():
    assert get_priority(0) == 0
    assert get_priority(100) == 100
    assert get_priority(49) == 49
    assert get_priority(Priority.ABOVE_NORMAL) == 40
    assert get_priority('VERY_LOW') == 90
    assert get_priority('below_normal') == 60  # case-insensitive


def test_get_priority_errors():
    with pytest.raises(ValueError, match='between 0 and 100.*-1'):
        get_priority(-1)
    with pytest.raises(ValueError, match='between 0 and 100.*101'):
        get_priority(101)
    with pytest.raises(ValueError, match="unknown priority name 'MEDIUM'"):
        get_priority('MEDIUM')
    with pytest.raises(TypeError, match='integer or Priority.*list'):
        get_priority([10])
    with pytest.raises(TypeError, match='float'):
        get_priority(50.0)
    with pytest.raises(TypeError, match='bool'):
        get_priority(True)
