import pytest

from mmengine.evaluator import get_metric_value

METRICS = {
    'prefix_0/metric_0': 0,
    'prefix_1/metric_0': 1,
    'prefix_1/metric_1': 2,
    'nonprefixed': 3,
}


@pytest.mark.parametrize('indicator, value', [
    ('prefix_0/metric_0', 0),
    ('prefix_1/metric_0', 1),
    ('metric_1', 2),
    ('nonprefixed', 3),
])
def test_get_metric_value(indicator, value):
    assert get_metric_value(indicator, METRICS) == value


@pytest.mark.parametrize('indicator, message', [
    ('prefix_0/metric_1', 'can not match any metric'),
    ('prefix_2/metric', 'can not match any metric'),
    ('metric_2', 'can not match any metric'),
    ('metric_0', 'matches multiple metrics'),
])
def test_get_metric_value_errors(indicator, message):
    with pytest.raises(ValueError, match=message) as err:
        get_metric_value(indicator, METRICS)
    assert indicator in str(err.value)
