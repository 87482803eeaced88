import copy
import io
import pickle

import numpy as np
import pytest
import torch

from mmengine.logging import HistoryBuffer


def test_init_and_data():
    buffer = HistoryBuffer([1, 2, 3], [1, 2, 3])
    logs, counts = buffer.data
    np.testing.assert_array_equal(logs, [1, 2, 3])
    np.testing.assert_array_equal(counts, [1, 2, 3])
    assert buffer.max_length == 1000000
    empty = HistoryBuffer()
    assert len(empty.data[0]) == 0 and len(empty.data[1]) == 0


def test_init_from_tensor_and_array():
    buffer = HistoryBuffer(torch.tensor([1.0, 2.0]), np.array([3, 4]))
    np.testing.assert_array_equal(buffer.data[0], [1.0, 2.0])
    np.testing.assert_array_equal(buffer.data[1], [3, 4])


def test_init_longer_than_max_length_warns_and_keeps_newest():
    with pytest.warns(
            UserWarning,
            match=r'The length of history buffer\(3\) exceeds the '
            r'max_length\(2\), the first few elements will be ignored\.'):
        buffer = HistoryBuffer([1, 2, 3], [1, 1, 1], max_length=2)
    np.testing.assert_array_equal(buffer.data[0], [2, 3])
    np.testing.assert_array_equal(buffer.data[1], [1, 1])


def test_init_errors():
    with pytest.raises(AssertionError, match='same length.*2 and 1'):
        HistoryBuffer([1, 2], [1])
    with pytest.raises(ValueError, match='max_length must be >= 1'):
        HistoryBuffer(max_length=0)
    with pytest.raises(TypeError, match='max_length must be an int'):
        HistoryBuffer(max_length=2.5)
    assert HistoryBuffer(max_length=np.int64(3)).max_length == 3
    with pytest.raises(TypeError, match='log_history must contain only'):
        HistoryBuffer(['a', 'b'], [1, 1])


def test_update_appends_values_and_counts():
    buffer = HistoryBuffer([1, 2, 3], [1, 1, 1])
    buffer.update(4)
    np.testing.assert_array_equal(buffer.data[1], [1, 1, 1, 1])
    buffer.update(5, 2)
    np.testing.assert_array_equal(buffer.data[0], [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(buffer.data[1], [1, 1, 1, 1, 2])
    # A float turns an int history into float64 (as numpy.append does).
    buffer.update(0.5)
    assert buffer.data[0].dtype == np.float64
    assert buffer.current() == 0.5


def test_update_accepts_numpy_and_tensor_scalars():
    buffer = HistoryBuffer()
    buffer.update(np.float32(1.5), np.int64(2))
    buffer.update(torch.tensor(2.5, requires_grad=True) * 1)
    buffer.update(torch.tensor([3.5]), torch.tensor(4))
    np.testing.assert_array_equal(buffer.data[0], [1.5, 2.5, 3.5])
    np.testing.assert_array_equal(buffer.data[1], [2, 1, 4])


def test_update_past_max_length_drops_oldest():
    buffer = HistoryBuffer(max_length=3)
    for i in range(100):
        buffer.update(i, i + 1)
    np.testing.assert_array_equal(buffer.data[0], [97, 98, 99])
    np.testing.assert_array_equal(buffer.data[1], [98, 99, 100])
    assert buffer.mean() == (97 + 98 + 99) / (98 + 99 + 100)


@pytest.mark.parametrize(
    'bad', ['1', [1, 2], None,
            np.array([1, 2]),
            torch.ones(2)])
def test_update_rejects_non_scalars(bad):
    buffer = HistoryBuffer()
    with pytest.raises(TypeError, match='log_val'):
        buffer.update(bad)
    with pytest.raises(TypeError, match='count'):
        buffer.update(1, bad)
    assert len(buffer.data[0]) == 0


def test_basic_statistics():
    buffer = HistoryBuffer([1, 2, 3], [1, 1, 1])
    assert buffer.mean(2) == 2.5
    assert buffer.mean() == 2
    assert buffer.min(2) == 2
    assert buffer.min() == 1
    assert buffer.max(2) == 3
    assert buffer.max() == 3
    assert buffer.current() == 3
    # window larger than the history uses everything
    assert buffer.mean(100) == 2
    assert HistoryBuffer([1, 2, 3], [2, 2, 2]).mean() == 1


def test_statistics_dispatch_and_errors():
    buffer = HistoryBuffer([1, 2, 3], [1, 1, 1])
    assert buffer.statistics('mean') == 2
    assert buffer.statistics('mean', 2) == 2.5
    assert buffer.statistics('max', window_size=2) == 3
    with pytest.raises(TypeError):
        buffer.statistics('mean', 2, 3)
    with pytest.raises(KeyError, match="'data' is not a registered"):
        buffer.statistics('data')


def test_statistics_on_empty_buffer_and_bad_window():
    empty = HistoryBuffer()
    for name in ('mean', 'max', 'min', 'current'):
        with pytest.raises(ValueError, match='empty'):
            empty.statistics(name)
    buffer = HistoryBuffer([1, 2], [1, 1])
    with pytest.raises(ValueError, match='window_size.*>= 1'):
        buffer.mean(0)
    with pytest.raises(TypeError, match='window_size'):
        buffer.max('10')


def test_register_statistics():

    def weighted_mean(self, window_size=None):
        logs, counts = self._log_history, self._count_history
        if window_size is not None:
            logs, counts = logs[-window_size:], counts[-window_size:]
        return (logs * counts).sum() / counts.sum()

    try:
        assert HistoryBuffer.register_statistics(weighted_mean) \
            is weighted_mean
        buffer = HistoryBuffer([1, 2, 3], [1, 1, 3])
        assert buffer.statistics('weighted_mean') == (1 + 2 + 9) / 5
        assert buffer.statistics('weighted_mean', 1) == 3

        def other():
            pass

        other.__name__ = 'weighted_mean'
        with pytest.raises(ValueError, match="'weighted_mean' is already"):
            HistoryBuffer.register_statistics(other)
        with pytest.raises(TypeError, match='expects a function.*got int'):
            HistoryBuffer.register_statistics(5)
    finally:
        HistoryBuffer._statistics_methods.pop('weighted_mean', None)


def test_clearing_statistics_keeps_builtins():
    saved = dict(HistoryBuffer._statistics_methods)

    def odd_one(self):
        return 1

    try:
        HistoryBuffer.register_statistics(odd_one)
        HistoryBuffer._statistics_methods.clear()
        assert 'odd_one' not in HistoryBuffer._statistics_methods
        assert sorted(HistoryBuffer._statistics_methods) == [
            'current', 'max', 'mean', 'min'
        ]
        assert HistoryBuffer([1, 2], [1, 1]).statistics('min') == 1
    finally:
        HistoryBuffer._statistics_methods.update(saved)


def test_lr_loss_demo():
    # EX-LOG-07: the spec's demo output.
    lr, loss = HistoryBuffer(), HistoryBuffer()
    printed = []
    for i in range(10):
        lr.update(0.01 * (i + 1))
        loss.update(1 / (i + 1))
        if (i + 1) % 5 == 0:
            printed += [str(float(lr.current())), str(float(loss.mean(5)))]
    assert printed == [
        '0.05', '0.45666666666666667', '0.1', '0.12912698412698415'
    ]


def _assert_same(a: HistoryBuffer, b: HistoryBuffer):
    assert a.max_length == b.max_length
    for x, y in zip(a.data, b.data):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)


def test_state_dict_round_trip_is_plain_and_exact():
    ints = HistoryBuffer([1, 2, 3], [1, 1, 1], max_length=10)
    floats = HistoryBuffer(max_length=4)
    for i in range(7):
        floats.update(1 / 3 + i, 2)
    empty_ints = HistoryBuffer(np.zeros(0, dtype=np.int64), [])
    for buffer in (ints, floats, HistoryBuffer(), empty_ints):
        state = buffer.state_dict()
        assert set(state) == {'log_history', 'count_history', 'max_length'}
        assert isinstance(state['log_history'], torch.Tensor)
        f = io.BytesIO()
        torch.save(state, f)
        f.seek(0)
        restored = HistoryBuffer.from_state_dict(
            torch.load(f, weights_only=True))
        _assert_same(buffer, restored)
        # restored buffers keep working
        restored.update(1.0)
        assert restored.current() == 1.0


def test_load_state_dict_from_lists():
    buffer = HistoryBuffer.from_state_dict(
        dict(log_history=[1.5, 2.5], count_history=[1, 2], max_length=5))
    assert buffer.mean() == 4.0 / 3
    assert buffer.max_length == 5


def test_load_state_dict_errors():
    with pytest.raises(KeyError, match='count_history'):
        HistoryBuffer.from_state_dict(dict(log_history=[1], max_length=3))
    with pytest.raises(TypeError, match='expects a dict'):
        HistoryBuffer().load_state_dict([1, 2])


def test_pickle_and_deepcopy():
    buffer = HistoryBuffer(max_length=5)
    for i in range(20):
        buffer.update(i)
    for clone in (pickle.loads(pickle.dumps(buffer)), copy.deepcopy(buffer)):
        _assert_same(buffer, clone)
        clone.update(100)
        assert buffer.current() == 19


def _pickled_stat(self):
    return self.current()


def test_unpickle_reference_attribute_layout():
    # Buffers pickled by the reference implementation carry these attributes.
    buffer = HistoryBuffer.__new__(HistoryBuffer)
    buffer.__setstate__(
        dict(
            max_length=3,
            _log_history=np.array([1.0, 2.0]),
            _count_history=np.array([1, 1]),
            statistics_methods=dict(pickled_stat=_pickled_stat)))
    assert buffer.mean() == 1.5
    try:
        assert buffer.statistics('pickled_stat') == 2.0
    finally:
        HistoryBuffer._statistics_methods.pop('pickled_stat')
    buffer.update(3.0)
    buffer.update(4.0)
    np.testing.assert_array_equal(buffer.data[0], [2.0, 3.0, 4.0])


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_tensors_are_converted_on_read():
    buffer = HistoryBuffer(max_length=2000)
    values = torch.arange(1500, dtype=torch.float32, device='cuda') / 7
    for v in values:
        buffer.update(v, 2)
    buffer.update(0.25)  # a plain number after pending tensors keeps order
    expected = values.cpu().tolist() + [0.25]
    np.testing.assert_array_equal(buffer.data[0], expected)
    np.testing.assert_array_equal(buffer.data[1], [2] * 1500 + [1])
    assert buffer.current() == 0.25
    state = buffer.state_dict()
    assert state['log_history'].device.type == 'cpu'
    assert state['log_history'].tolist() == expected


def test_deferred_tensor_conversion_keeps_order(monkeypatch):
    # Device tensors are kept unconverted until the history is read; treat
    # CPU tensors the same way here to exercise that path without a GPU.
    import mmengine.logging.history_buffer as module
    real = module.to_scalar

    def keep_tensors(value, what='value'):
        if isinstance(value, torch.Tensor):
            return value.detach().reshape(())
        return real(value, what)

    monkeypatch.setattr(module, 'to_scalar', keep_tensors)
    buffer = HistoryBuffer(max_length=1500)
    values = torch.arange(2000, dtype=torch.float32) / 7
    for i, v in enumerate(values):
        buffer.update(v, 2 if i % 2 else 1)
        if i == 10:
            buffer.update(0.5)  # plain number between pending tensors
    expected = values[:11].tolist() + [0.5] + values[11:].tolist()
    np.testing.assert_array_equal(buffer.data[0], expected[-1500:])
    assert buffer.current() == expected[-1]
    mixed = HistoryBuffer()
    mixed.update(torch.tensor(1, dtype=torch.int64))
    mixed.update(torch.tensor(2.5, dtype=torch.float64))
    np.testing.assert_array_equal(mixed.data[0], [1, 2.5])


def test_device_tensor_update_reads_nothing_from_the_device():
    # A tensor on an accelerator, value or count, is kept as it is until
    # the history is read: update() must not synchronise (.item()). Meta
    # tensors have no data at all, so any host read would raise here.
    value = torch.tensor(1.5, device='meta')
    count = torch.tensor(2, device='meta')
    buffer = HistoryBuffer()
    buffer.update(value, count)
    buffer.update(2.0, count)
    buffer.update(3.0)
    assert 'len=3' in repr(buffer)


def test_deferred_tensor_counts_are_converted_on_read(monkeypatch):
    # As in test_deferred_tensor_conversion_keeps_order: CPU tensors stand in
    # for device tensors; here counts are tensors too.
    import mmengine.logging.history_buffer as module
    real = module.to_scalar

    def keep_tensors(value, what='value'):
        if isinstance(value, torch.Tensor):
            return value.detach().reshape(())
        return real(value, what)

    monkeypatch.setattr(module, 'to_scalar', keep_tensors)
    buffer = HistoryBuffer()
    buffer.update(1.0, torch.tensor(2))
    buffer.update(torch.tensor(3.0), 4)
    buffer.update(torch.tensor(5.0), torch.tensor(6))
    logs, counts = buffer.data
    np.testing.assert_array_equal(logs, [1.0, 3.0, 5.0])
    np.testing.assert_array_equal(counts, [2, 4, 6])
    assert buffer.mean() == 9.0 / 12


@pytest.mark.parametrize('max_length', [5, 37, 1000])
def test_whole_history_statistics_match_a_full_scan(max_length):
    # mean()/max()/min() without a window are folded in incrementally;
    # they must agree with a scan of the kept history at every read, also
    # across drops, slot moves, int -> float promotion, inf and NaN.
    rng = np.random.default_rng(max_length)
    buffer = HistoryBuffer(max_length=max_length)
    kept = []
    for step in range(600):
        if step < 100:
            value = int(rng.integers(-5, 5))  # int history first
        elif step in (250, 420):
            value = float('nan') if step == 250 else float('inf')
        else:
            value = float(rng.normal())
        count = int(rng.integers(1, 4))
        buffer.update(value, count)
        kept = (kept + [(value, count)])[-max_length:]
        if rng.random() < 0.3:
            logs, counts = buffer.data  # the full scan to agree with
            np.testing.assert_equal(logs, [v for v, _ in kept])
            np.testing.assert_equal(counts, [c for _, c in kept])
            expected = logs.sum() / counts.sum()
            np.testing.assert_allclose(buffer.mean(), expected, rtol=1e-9)
            for name, ref in (('max', logs.max()), ('min', logs.min())):
                got = getattr(buffer, name)()
                np.testing.assert_equal(got, ref)
                assert type(got) is type(ref)
    np.testing.assert_equal(buffer.statistics('mean', None), buffer.mean())


def test_whole_history_mean_of_ints_is_exact():
    buffer = HistoryBuffer(max_length=4)
    for value in range(10):
        buffer.update(value)
        assert buffer.mean() == np.mean(np.arange(max(0, value - 3),
                                                  value + 1))
    assert type(buffer.mean()) is np.float64
    assert buffer.max() == 9 and buffer.min() == 6
    with pytest.raises(ValueError, match=r'HistoryBuffer.max\(\) needs'):
        HistoryBuffer().max()
