import copy
import logging
from contextlib import contextmanager
from unittest.mock import MagicMock

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim import SGD, Adam

from mmengine.logging import MessageHub, MMLogger
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS


class ToyModel(nn.Module):

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 1, 1)
        self.conv2 = nn.Conv2d(1, 1, 1)

    def forward(self, x):
        return self.conv2(self.conv1(x))


class SyncRecorder(nn.Module):
    """A model with ``no_sync`` that records whether it was entered."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)
        self.no_sync_calls = 0

    @contextmanager
    def no_sync(self):
        self.no_sync_calls += 1
        yield


def test_registered_and_init_defaults():
    assert OPTIM_WRAPPERS.get('OptimWrapper') is OptimWrapper
    model = ToyModel()
    opt = SGD(model.parameters(), lr=0.1)
    hub = MessageHub.get_instance('test_optimizer_wrapper_init')
    wrapper = OptimWrapper(opt)
    assert wrapper.optimizer is opt
    assert wrapper.message_hub is hub
    assert wrapper.clip_grad_kwargs is None
    assert wrapper._accumulative_counts == 1
    assert wrapper.inner_count == 0
    assert wrapper.max_counts == -1
    assert wrapper.param_groups is opt.param_groups
    assert wrapper.defaults is opt.defaults
    assert 'OptimWrapper' in repr(wrapper)
    # keyword form, as built from a config
    assert OptimWrapper(optimizer=opt).optimizer is opt


def test_init_errors():
    opt = SGD(ToyModel().parameters(), lr=0.1)
    with pytest.raises(AssertionError, match='If `clip_grad` is not None'):
        OptimWrapper(opt, clip_grad=[])
    with pytest.raises(TypeError, match='clip_grad'):
        OptimWrapper(opt, clip_grad=[])
    with pytest.raises(ValueError, match="'norm' or 'value'"):
        OptimWrapper(opt, clip_grad=dict(type='bad', max_norm=1))
    with pytest.raises(ValueError, match='accumulative_counts'):
        OptimWrapper(opt, accumulative_counts=0)
    with pytest.raises(TypeError, match='torch.optim.Optimizer'):
        OptimWrapper(dict(type='SGD', lr=0.1))


def test_fp32_loop_matches_manual_loop():
    """EX-OPT-01: update_params equals backward/step/zero_grad."""
    torch.manual_seed(0)
    model_a = nn.Linear(1, 1)
    model_b = copy.deepcopy(model_a)
    inputs = [torch.zeros(10, 1, 1)] * 10
    targets = [torch.ones(10, 1, 1)] * 10
    opt_a = SGD(model_a.parameters(), lr=0.01)
    for x, y in zip(inputs, targets):
        loss = F.l1_loss(model_a(x), y)
        loss.backward()
        opt_a.step()
        opt_a.zero_grad()
    wrapper = OptimWrapper(optimizer=SGD(model_b.parameters(), lr=0.01))
    for x, y in zip(inputs, targets):
        wrapper.update_params(F.l1_loss(model_b(x), y))
    for pa, pb in zip(model_a.parameters(), model_b.parameters()):
        assert torch.equal(pa, pb)
    assert all(p.grad is None or not p.grad.any()
               for p in model_b.parameters())


def test_fine_grained_api():
    """EX-OPT-04: backward every iter, step/zero_grad every other one."""
    torch.manual_seed(0)
    model_a = nn.Linear(2, 1)
    model_b = copy.deepcopy(model_a)
    data = [torch.randn(4, 2) for _ in range(4)]
    wrapper = OptimWrapper(SGD(model_a.parameters(), lr=0.1))
    opt_b = SGD(model_b.parameters(), lr=0.1)
    for idx, x in enumerate(data):
        wrapper.backward(model_a(x).sum())
        model_b(x).sum().backward()
        if idx % 2 == 0:
            wrapper.step()
            wrapper.zero_grad()
            opt_b.step()
            opt_b.zero_grad()
    for pa, pb in zip(model_a.parameters(), model_b.parameters()):
        assert torch.equal(pa, pb)
    assert wrapper.inner_count == 4


def test_accumulation_equals_large_batch():
    torch.manual_seed(0)
    model_a = nn.Linear(3, 1)
    model_b = copy.deepcopy(model_a)
    data = [torch.randn(2, 3) for _ in range(4)]
    # accumulate 2 micro batches == one step on the concatenated batch
    wrapper = OptimWrapper(
        SGD(model_a.parameters(), lr=0.1), accumulative_counts=2)
    for x in data:
        wrapper.update_params(model_a(x).pow(2).mean())
    opt_b = SGD(model_b.parameters(), lr=0.1)
    for i in range(0, 4, 2):
        model_b(torch.cat(data[i:i + 2])).pow(2).mean().backward()
        opt_b.step()
        opt_b.zero_grad()
    for pa, pb in zip(model_a.parameters(), model_b.parameters()):
        torch.testing.assert_close(pa, pb)


def _mock(wrapper):
    losses = []

    def backward(loss):
        wrapper._inner_count += 1
        losses.append(float(loss))

    wrapper.backward = backward
    wrapper.step = MagicMock()
    wrapper.zero_grad = MagicMock()
    return losses


def test_accumulation_counts_and_last_partial_window():
    model = ToyModel()
    wrapper = OptimWrapper(
        SGD(model.parameters(), lr=0.1), accumulative_counts=3)
    losses = _mock(wrapper)
    loss = torch.tensor(1.)
    wrapper.update_params(loss)
    wrapper.update_params(loss)
    wrapper.step.assert_not_called()
    wrapper.update_params(loss)
    wrapper.step.assert_called_once_with()
    wrapper.zero_grad.assert_called_once_with()
    assert losses == pytest.approx([1 / 3] * 3)

    # 10 iterations with windows of 3: the last window has 1 iteration and
    # its loss is not divided.
    wrapper = OptimWrapper(
        SGD(model.parameters(), lr=0.1), accumulative_counts=3)
    losses = _mock(wrapper)
    wrapper.initialize_count_status(model, 0, 10)
    for _ in range(10):
        wrapper.update_params(loss)
    assert wrapper.step.call_count == 4
    assert losses == pytest.approx([1 / 3] * 9 + [1.])

    # step_kwargs / zero_kwargs are forwarded
    wrapper = OptimWrapper(SGD(model.parameters(), lr=0.1))
    _mock(wrapper)
    wrapper.update_params(
        loss, step_kwargs=dict(a=1), zero_kwargs=dict(set_to_none=True))
    wrapper.step.assert_called_with(a=1)
    wrapper.zero_grad.assert_called_with(set_to_none=True)


def test_initialize_count_status_warnings():
    model = ToyModel()
    logger = MMLogger.get_instance('test_optimizer_wrapper_warn')
    wrapper = OptimWrapper(
        SGD(model.parameters(), lr=0.1), accumulative_counts=3)
    wrapper.initialize_count_status(model, 0, 100)
    assert wrapper._remainder_counts == 1
    assert wrapper.max_counts == 100
    with pytest.raises(AssertionError):
        # no warning expected for divisible start and no BN
        with _assert_logs(logger):
            wrapper.initialize_count_status(model, 3, 100)
    with _assert_logs(logger, 'Resumed iteration number'):
        wrapper.initialize_count_status(model, 2, 100)
    with _assert_logs(logger, 'Gradient accumulative'):
        wrapper.initialize_count_status(nn.BatchNorm1d(1), 0, 99)


@contextmanager
def _assert_logs(logger, pattern=None):
    records = []

    class Handler(logging.Handler):

        def emit(self, record):
            records.append(record.getMessage())

    handler = Handler(level=logging.WARNING)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    assert records, 'expected a warning'
    if pattern is not None:
        assert any(pattern in r for r in records), records


def test_optim_context_no_sync():
    model = SyncRecorder()
    wrapper = OptimWrapper(
        SGD(model.parameters(), lr=0.1), accumulative_counts=3)
    wrapper.initialize_count_status(model, 0, 100)
    with wrapper.optim_context(model):
        pass
    assert model.no_sync_calls == 1
    assert not wrapper.should_sync()
    wrapper.initialize_count_status(model, 2, 100)
    assert wrapper.should_sync()
    with wrapper.optim_context(model):
        pass
    assert model.no_sync_calls == 1
    # the last (partial) window syncs too
    wrapper.initialize_count_status(model, 97, 100)
    assert not wrapper.should_sync()
    wrapper.initialize_count_status(model, 99, 100)
    assert wrapper.should_sync()
    # without accumulation there is never a no_sync
    wrapper = OptimWrapper(SGD(model.parameters(), lr=0.1))
    with wrapper.optim_context(model):
        pass
    assert model.no_sync_calls == 1
    # a plain module without no_sync is fine
    wrapper = OptimWrapper(
        SGD(model.parameters(), lr=0.1), accumulative_counts=2)
    with wrapper.optim_context(nn.Linear(1, 1)):
        pass
    # the context without no_sync is reusable and reentrant
    context = wrapper.optim_context(nn.Linear(1, 1))
    with context, context:
        pass
    with context:
        pass


def test_clip_grad_norm_and_value():
    """EX-OPT-05."""
    hub = MessageHub.get_instance('test_optimizer_wrapper_clip')
    model = nn.Linear(4, 4)
    wrapper = OptimWrapper(
        SGD(model.parameters(), lr=0.0), clip_grad=dict(max_norm=1))
    (model(torch.ones(2, 4)) * 100).sum().backward()
    before = torch.norm(
        torch.stack([p.grad.norm() for p in model.parameters()]))
    wrapper.step()
    total = torch.norm(
        torch.stack([p.grad.norm() for p in model.parameters()]))
    assert total <= 1 + 1e-5
    assert hub.get_scalar('train/grad_norm').current() == pytest.approx(
        float(before), rel=1e-5)

    hub = MessageHub.get_instance('test_optimizer_wrapper_clip_value')
    model.zero_grad()
    wrapper = OptimWrapper(
        SGD(model.parameters(), lr=0.0), clip_grad=dict(clip_value=0.2))
    assert wrapper.clip_grad_type == 'value'
    (model(torch.ones(2, 4)) * 100).sum().backward()
    wrapper.step()
    for p in model.parameters():
        assert p.grad.abs().max() <= 0.2 + 1e-7
    assert 'train/grad_norm' not in hub.log_scalars

    # parameters without grad are ignored; nothing to clip is fine
    model.zero_grad(set_to_none=True)
    wrapper = OptimWrapper(
        SGD(model.parameters(), lr=0.1), clip_grad=dict(max_norm=1))
    wrapper.step()


def test_lr_and_momentum():
    """EX-OPT-06."""
    model = nn.Linear(1, 1)
    wrapper = OptimWrapper(SGD(model.parameters(), lr=0.01))
    assert wrapper.param_groups[0]['lr'] == 0.01
    assert wrapper.param_groups[0]['momentum'] == 0
    assert wrapper.get_lr() == {'lr': [0.01]}
    assert wrapper.get_momentum() == {'momentum': [0]}
    wrapper = OptimWrapper(Adam(model.parameters(), lr=0.1,
                                betas=(0.8, 0.9)))
    assert wrapper.get_momentum() == {'momentum': [0.8]}
    opt = torch.optim.Adagrad(model.parameters(), lr=0.1)
    assert OptimWrapper(opt).get_momentum() == {'momentum': [0]}
    # several groups: base lr (optimizer default) is reported too
    opt = SGD([{
        'params': [model.weight],
        'lr': 0.5
    }, {
        'params': [model.bias]
    }], lr=0.1)
    assert OptimWrapper(opt).get_lr() == {'base_lr': [0.1], 'lr': [0.5, 0.1]}


def test_state_dict_round_trip(tmp_path):
    """EX-OPT-07 (fp32 part)."""
    model = nn.Linear(1, 1)
    opt = SGD(model.parameters(), lr=0.01, momentum=0.9)
    wrapper = OptimWrapper(opt)
    wrapper.update_params(model(torch.ones(1, 1)).sum())
    sd = wrapper.state_dict()
    assert sd == opt.state_dict()
    assert sd['param_groups'][0]['lr'] == 0.01
    torch.save(sd, tmp_path / 'optim.pth')
    loaded = torch.load(tmp_path / 'optim.pth', weights_only=True)
    model2 = nn.Linear(1, 1)
    wrapper2 = OptimWrapper(SGD(model2.parameters(), lr=0.5))
    wrapper2.load_state_dict(loaded)
    assert wrapper2.get_lr() == {'lr': [0.01]}
    assert torch.equal(wrapper2.optimizer.state_dict()['state'][0]
                       ['momentum_buffer'], sd['state'][0]['momentum_buffer'])
    with pytest.raises(TypeError, match='expects a dict'):
        wrapper2.load_state_dict([1])


def test_accumulation_matches_hand_written_loop_with_partial_window():
    """EX-RUN-10 semantics: 25 iterations, windows of 4, last window of 1.

    Parameters change only after iterations 4, 8, ..., 24 and 25; each loss
    is divided by the size of its window (4, and 1 for the last one).
    """
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    ref = copy.deepcopy(model)
    data = [(torch.randn(2, 1), torch.randn(2, 1)) for _ in range(25)]

    wrapper = OptimWrapper(
        SGD(model.parameters(), lr=0.01), accumulative_counts=4)
    wrapper.initialize_count_status(model, 0, len(data))
    changed = []
    for i, (x, y) in enumerate(data):
        before = model.weight.detach().clone()
        feat = model(x)
        wrapper.update_params((feat - y).pow(2).mean() +
                              (feat - y).abs().mean())
        if not torch.equal(before, model.weight):
            changed.append(i + 1)
    assert changed == [4, 8, 12, 16, 20, 24, 25]

    opt = SGD(ref.parameters(), lr=0.01)
    for i, (x, y) in enumerate(data):
        feat = ref(x)
        loss = (feat - y).pow(2).mean() + (feat - y).abs().mean()
        (loss / (4 if i < 24 else 1)).backward()
        if (i + 1) % 4 == 0 or i + 1 == len(data):
            opt.step()
            opt.zero_grad()
    for p, q in zip(model.parameters(), ref.parameters()):
        assert torch.equal(p, q)


def test_update_past_max_counts_is_an_error():
    model = ToyModel()
    loss = torch.tensor(1.)
    for max_counts in (9, 10):  # without and with a partial last window
        wrapper = OptimWrapper(
            SGD(model.parameters(), lr=0.1), accumulative_counts=3)
        _mock(wrapper)
        wrapper.initialize_count_status(model, 0, max_counts)
        for _ in range(max_counts):
            wrapper.update_params(loss)
        with pytest.raises(RuntimeError, match='past max_counts'):
            wrapper.update_params(loss)


def test_clip_grad_arguments_checked_at_init():
    opt = SGD(ToyModel().parameters(), lr=0.1)
    with pytest.raises(TypeError, match="accepted keys: \\['max_norm'"):
        OptimWrapper(opt, clip_grad=dict(max_nrom=1))
    with pytest.raises(TypeError, match='clip_grad_value_'):
        OptimWrapper(opt, clip_grad=dict(type='value', max_norm=1))
    wrapper = OptimWrapper(
        opt, clip_grad=dict(max_norm=1, norm_type=1, error_if_nonfinite=True))
    assert wrapper.clip_grad_kwargs == dict(
        max_norm=1, norm_type=1, error_if_nonfinite=True)


def test_grad_norm_is_logged_without_conversion():
    # The norm is handed to the MessageHub as a tensor, which converts
    # device tensors lazily: no host-device sync per update.
    model = nn.Linear(2, 1)
    wrapper = OptimWrapper(
        SGD(model.parameters(), lr=0.1), clip_grad=dict(max_norm=1))
    wrapper.message_hub = MagicMock()
    wrapper.update_params(model(torch.ones(1, 2)).sum())
    key, value = wrapper.message_hub.update_scalar.call_args.args
    assert key == 'train/grad_norm'
    assert isinstance(value, torch.Tensor) and not value.requires_grad


def test_runner_accumulation_ex_run_10(tmp_path):
    """EX-RUN-10 through the Runner: 50 samples, batch 2, windows of 4."""
    from torch.utils.data import Dataset

    from mmengine.hooks import Hook
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class Model(BaseModel):

        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(1, 1)

        def forward(self, img, label, mode='tensor'):
            feat = self.linear(img)
            return dict(
                loss1=(feat - label).pow(2), loss2=(feat - label).abs())

    generator = torch.Generator().manual_seed(0)
    samples = [(torch.randn(1, generator=generator),
                torch.randn(1, generator=generator)) for _ in range(50)]

    class Data(Dataset):

        def __len__(self):
            return len(samples)

        def __getitem__(self, idx):
            return dict(img=samples[idx][0], label=samples[idx][1])

    class Record(Hook):

        def __init__(self):
            self.weights = []

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            self.weights.append(runner.model.linear.weight.detach().clone())

    torch.manual_seed(0)
    model = Model()
    ref = copy.deepcopy(model.linear)
    record = Record()
    runner = Runner(
        model=model,
        work_dir=str(tmp_path),
        # A fresh name: the wrapper logs into the newest MessageHub, and a
        # timestamp name may already exist from an earlier Runner.
        experiment_name=f'ex_run_10_{id(tmp_path)}',
        train_dataloader=dict(
            dataset=Data(),
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=2,
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(
            optimizer=dict(type='SGD', lr=0.01),
            accumulative_counts=4,
            clip_grad=dict(max_norm=100)),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        default_hooks=dict(checkpoint=None),
        custom_hooks=[record])
    runner.train()
    changed = [
        i + 1 for i in range(1, 25)
        if not torch.equal(record.weights[i], record.weights[i - 1])
    ]
    # parameters change after iterations 4, 8, ..., 24 and the last one
    assert torch.equal(record.weights[2], ref.weight)
    assert changed == [4, 8, 12, 16, 20, 24, 25]
    assert 'train/grad_norm' in runner.message_hub.log_scalars

    opt = SGD(ref.parameters(), lr=0.01)
    for it in range(25):
        img = torch.stack([samples[2 * it][0], samples[2 * it + 1][0]])
        label = torch.stack([samples[2 * it][1], samples[2 * it + 1][1]])
        feat = ref(img)
        loss = (feat - label).pow(2).mean() + (feat - label).abs().mean()
        (loss / (4 if it < 24 else 1)).backward()
        if (it + 1) % 4 == 0 or it == 24:
            torch.nn.utils.clip_grad_norm_(ref.parameters(), max_norm=100)
            opt.step()
            opt.zero_grad()
    assert torch.equal(ref.weight, model.linear.weight)
    assert torch.equal(ref.bias, model.linear.bias)
