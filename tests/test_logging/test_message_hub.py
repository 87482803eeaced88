import copy
import io
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

from mmengine.logging import HistoryBuffer, MessageHub


@pytest.fixture
def hub(request):
    hub = MessageHub.get_instance(f'test_hub_{request.node.name}')
    yield hub
    MessageHub._instance_dict.pop(hub.instance_name, None)


def test_scalars_and_info(hub):
    # EX-LOG-08
    hub.update_scalar('train/loss', 1, 1)
    assert hub.get_scalar('train/loss').current() == 1
    hub.update_scalar('train/loss', 3, 1)
    assert hub.get_scalar('train/loss').mean() == 2
    hub.update_scalars({
        'train/time': {
            'value': 0.1,
            'count': 1
        },
        'train/data_time': {
            'value': 0.1
        },
    })
    hub.update_scalars({'train/b': 1, 'train/c': 2})
    assert list(hub.log_scalars) == [
        'train/loss', 'train/time', 'train/data_time', 'train/b', 'train/c'
    ]
    assert all(isinstance(v, HistoryBuffer) for v in hub.log_scalars.values())
    hub.update_info('iter', 1)
    hub.update_info('iter', 2)
    assert hub.get_info('iter') == 2
    assert hub.get_info('missing') is None
    assert hub.get_info('missing', 5) == 5
    hub.update_info_dict({'epoch': 3, 'max_iters': 10})
    assert hub.runtime_info == OrderedDict(iter=2, epoch=3, max_iters=10)
    assert hub.pop_info('epoch') == 3
    assert hub.get_info('epoch') is None


def test_update_scalar_converts_tensors_and_numpy(hub):
    loss = torch.tensor([0.5, 1.5], requires_grad=True) * 2
    hub.update_scalar('train/loss', loss.sum())
    hub.update_scalar('train/acc', np.float32(0.25), np.int64(4))
    assert hub.get_scalar('train/loss').current() == 4.0
    assert hub.get_scalar('train/acc').data[1].tolist() == [4]


def test_update_scalar_with_device_tensors_does_not_sync(hub):
    # Meta tensors have no data: any host read (.item()) would raise.
    value = torch.tensor(0.5, device='meta')
    hub.update_scalar('train/acc', value, torch.tensor(4, device='meta'))
    hub.update_scalars({'train/acc': {'value': value, 'count': 2}})
    assert 'len=2' in repr(hub.get_scalar('train/acc'))


def test_update_scalar_value_kinds_and_order(hub):
    # Python numbers and one-element CPU tensors (the per-iteration fast
    # path), tensor subclasses and numpy values all end up as numbers.
    hub.update_scalar('train/a', 1.5)
    hub.update_scalar('train/a', torch.tensor(2.5))
    hub.update_scalar('train/a', torch.nn.Parameter(torch.tensor([3.5])))
    hub.update_scalar('train/a', np.float64(4.5), torch.tensor(2))
    hub.update_scalar('train/a', torch.tensor(True))
    logs, counts = hub.get_scalar('train/a').data
    assert logs.tolist() == [1.5, 2.5, 3.5, 4.5, 1.0]
    assert counts.tolist() == [1, 1, 1, 2, 1]
    # Numbers logged after a pending device tensor keep their order.
    hub.update_scalar('train/b', 1.0)
    hub.update_scalar('train/b', torch.tensor(2.0, device='meta'))
    hub.update_scalar('train/b', 3.0)
    assert len(hub.get_scalar('train/b')._pending) == 2
    # resumed given as a truthy non-bool is the same flag.
    hub.update_scalar('train/a', 5.0, resumed=1)
    hub.update_info('iter', 1)
    hub.update_info('iter', 2, resumed=1)
    with pytest.raises(TypeError, match="'train/a' value"):
        hub.update_scalar('train/a', torch.ones(2))
    assert len(hub.get_scalar('train/a').data[0]) == 6


def test_errors(hub):
    with pytest.raises(TypeError, match="'train/x' value"):
        hub.update_scalar('train/x', 'abc')
    with pytest.raises(TypeError, match="'train/x' count"):
        hub.update_scalar('train/x', 1, [1, 2])
    assert 'train/x' not in hub.log_scalars
    with pytest.raises(TypeError, match='key must be a str.*got int: 3'):
        hub.update_scalar(3, 1.0)
    with pytest.raises(TypeError, match='key must be a str'):
        hub.update_scalars({('train', 'a'): 1.0})
    assert not hub.log_scalars
    with pytest.raises(TypeError, match='expects a dict'):
        hub.update_scalars([('train/a', 1)])
    with pytest.raises(KeyError, match="'train/a' is a dict without"):
        hub.update_scalars({'train/a': {'count': 1}})
    with pytest.raises(KeyError, match="'train/nope' is not found"):
        hub.get_scalar('train/nope')
    with pytest.raises(TypeError, match='expects a dict'):
        hub.update_info_dict(['a'])
    hub.update_info('cfg', 'text', resumed=False)
    with pytest.raises(ValueError, match="'cfg' was updated with resumed"):
        hub.update_info('cfg', 'text', resumed=True)
    hub.update_scalar('train/lr', 0.1)
    with pytest.raises(ValueError, match="'train/lr'"):
        hub.update_scalar('train/lr', 0.1, resumed=False)


def test_constructor_validation():
    buffer = HistoryBuffer([1], [1])
    hub = MessageHub(
        'ctor',
        log_scalars={'train/a': buffer},
        runtime_info={'iter': 1},
        resumed_keys={'iter': False})
    assert hub.get_scalar('train/a') is buffer
    assert 'iter' not in hub.state_dict()['runtime_info']
    with pytest.raises(TypeError, match=r"log_scalars\['train/a'\]"):
        MessageHub('bad', log_scalars={'train/a': [1, 2]})
    with pytest.raises(KeyError, match="'ghost'"):
        MessageHub('bad', resumed_keys={'ghost': True})


def test_get_current_instance_creates_default():
    saved = MessageHub._instance_dict.copy()
    try:
        MessageHub._instance_dict.clear()
        hub = MessageHub.get_current_instance()
        assert hub.instance_name == 'mmengine'
        other = MessageHub.get_instance('test_current_other')
        assert MessageHub.get_current_instance() is other
    finally:
        MessageHub._instance_dict.clear()
        MessageHub._instance_dict.update(saved)


def _weights_only_round_trip(obj):
    f = io.BytesIO()
    torch.save(obj, f)
    f.seek(0)
    return torch.load(f, weights_only=True)


def _assert_hubs_equal(a: MessageHub, b: MessageHub, keys=None):
    assert list(a.log_scalars) == list(b.log_scalars)
    for key, buffer in a.log_scalars.items():
        other = b.get_scalar(key)
        assert buffer.max_length == other.max_length
        for x, y in zip(buffer.data, other.data):
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x, y)


def test_state_dict_loads_with_weights_only_and_restores_exactly(hub):
    for i in range(25):
        hub.update_scalar('train/loss', 1 / (i + 1), count=2)
        hub.update_scalar('train/lr', torch.tensor(0.01 * i))
    hub.update_scalar('val/acc', np.float64(0.75))
    small = HistoryBuffer([1, 2, 3], [1, 1, 1], max_length=5)
    hub.log_scalars['train/ints'] = small
    hub.update_info('epoch', 2)
    hub.update_info('iter', 11)
    hub.update_info('dataset_meta',
                    dict(classes=('cat', 'dog'), palette=[(1, 2, 3)]))
    hub.update_info('seed', np.int64(7))
    hub.update_info('weights', torch.arange(3))
    hub.update_info('ratio', np.float32(0.5))
    hub.update_info('shape', np.zeros((2, 2)))
    hub.update_info('cfg', object(), resumed=False)

    loaded = _weights_only_round_trip({'message_hub': hub.state_dict()})
    fresh = MessageHub('fresh_for_weights_only')
    fresh.load_state_dict(loaded['message_hub'])

    _assert_hubs_equal(hub, fresh)
    info = fresh.runtime_info
    assert info['epoch'] == 2 and info['iter'] == 11
    assert info['dataset_meta'] == dict(
        classes=('cat', 'dog'), palette=[(1, 2, 3)])
    assert type(info['seed']) is int and info['seed'] == 7
    assert type(info['ratio']) is float and info['ratio'] == 0.5
    assert info['shape'] == [[0.0, 0.0], [0.0, 0.0]]
    assert torch.equal(info['weights'], torch.arange(3))
    assert 'cfg' not in info
    assert dict(fresh._resumed_keys) == dict(
        (k, True) for k in list(hub.log_scalars) + [
            'epoch', 'iter', 'dataset_meta', 'seed', 'weights', 'ratio',
            'shape'
        ])
    # the restored hub keeps working
    fresh.update_scalar('train/loss', 0.5, 2)
    assert fresh.get_scalar('train/loss').current() == 0.5


def test_state_dict_drops_unconvertible_value_with_warning(hub):
    hub.update_info('iter', 3)
    hub.update_info('callback', lambda: None)
    with pytest.warns(UserWarning, match=r"runtime_info\['callback'\]"):
        state = hub.state_dict()
    assert state['runtime_info'] == {'iter': 3}
    hub.pop_info('callback')
    nested = {'ok': 1, 'bad': [1, object()]}
    hub.update_info('nested', nested)
    with pytest.warns(UserWarning, match=r"runtime_info\['nested'\]\['bad'\]"):
        state = hub.state_dict()
    assert 'nested' not in state['runtime_info']


def test_load_reference_layout_and_hub(hub):
    old_layout = {
        'log_scalars': {
            'train/loss': HistoryBuffer([1.0, 2.0], [1, 1])
        },
        'runtime_info': {
            'iter': 5
        },
        'resumed_keys': {
            'train/loss': True,
            'iter': True
        },
    }
    hub.update_info('keep', 'me', resumed=False)
    hub.load_state_dict(old_layout)
    assert hub.get_scalar('train/loss').mean() == 1.5
    assert hub.get_info('iter') == 5
    assert hub.get_info('keep') == 'me'  # loading merges
    # the loaded buffer is a copy
    hub.update_scalar('train/loss', 3.0)
    assert len(old_layout['log_scalars']['train/loss'].data[0]) == 2

    other = MessageHub('from_hub')
    other.load_state_dict(hub)
    _assert_hubs_equal(hub, other)
    assert other.get_info('iter') == 5


def test_load_state_dict_errors(hub):
    with pytest.raises(TypeError, match='expects a dict'):
        hub.load_state_dict([1])
    with pytest.raises(KeyError, match="missing 'resumed_keys'"):
        hub.load_state_dict(dict(log_scalars={}, runtime_info={}))
    with pytest.raises(TypeError, match="entry 'runtime_info' must be"):
        hub.load_state_dict(
            dict(log_scalars={}, runtime_info=[], resumed_keys={}))
    with pytest.raises(TypeError, match=r"log_scalars\['train/a'\]"):
        hub.load_state_dict(
            dict(
                log_scalars={'train/a': [1]},
                runtime_info={},
                resumed_keys={}))
    with pytest.raises(KeyError, match=r"log_scalars\['train/a'\] is invalid"):
        hub.load_state_dict(
            dict(
                log_scalars={'train/a': {
                    'log_history': [1]
                }},
                runtime_info={},
                resumed_keys={}))
    assert 'train/a' not in hub.log_scalars


def test_pickle_and_deepcopy(hub):
    hub.update_scalar('train/loss', 1.0)
    hub.update_info('iter', 1)
    for clone in (pickle.loads(pickle.dumps(hub)), copy.deepcopy(hub)):
        assert clone.instance_name == hub.instance_name
        _assert_hubs_equal(hub, clone)
        assert clone.get_info('iter') == 1


def test_cross_component_communication():
    # EX-LOG-09 in small: components share the current hub.
    name = 'test_cross_component'
    MessageHub.get_instance(name)
    try:

        class LossUpdater:

            def run(self):
                MessageHub.get_current_instance().update_scalar(
                    'train/loss', 0.1)

        class LrUpdater:

            def run(self):
                MessageHub.get_current_instance().update_scalar(
                    'train/lr', 0.001)

        class Reader:

            def run(self):
                hub = MessageHub.get_current_instance()
                return (f"Learning rate is "
                        f"{hub.get_scalar('train/lr').current()}",
                        f"loss is {hub.get_scalar('train/loss').current()}")

        LossUpdater().run()
        LrUpdater().run()
        assert Reader().run() == ('Learning rate is 0.001', 'loss is 0.1')
    finally:
        MessageHub._instance_dict.pop(name, None)
