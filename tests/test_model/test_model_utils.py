import pytest
import torch
import torch.nn as nn

from mmengine.logging import MMLogger
from mmengine.model import (convert_sync_batchnorm, detect_anomalous_params,
                            merge_dict, revert_sync_batchnorm, stack_batch)


def test_stack_batch_pads_and_stacks():
    a, b = torch.ones(3, 5, 7), torch.ones(3, 8, 4) * 2
    out = stack_batch([a, b], pad_size_divisor=4, pad_value=-1)
    assert out.shape == (2, 3, 8, 8)
    assert torch.equal(out[0, :, :5, :7], a)
    assert (out[0, :, 5:, :] == -1).all() and (out[0, :, :, 7:] == -1).all()
    assert torch.equal(out[1, :, :, :4], b) and (out[1, :, :, 4:] == -1).all()
    same = stack_batch([a, a])
    assert torch.equal(same, torch.stack([a, a]))
    # a divisor that already fits: plain stack
    assert stack_batch([a, a], pad_size_divisor=1).shape == (2, 3, 5, 7)


def test_stack_batch_other_dims():
    out = stack_batch([torch.ones(2, 3), torch.ones(2, 5)], 4)
    assert out.shape == (2, 2, 8)
    out = stack_batch([torch.ones(1, 2, 3, 3), torch.ones(1, 4, 2, 2)], 2)
    assert out.shape == (2, 1, 4, 4, 4)


def test_stack_batch_errors():
    with pytest.raises(TypeError, match='list of tensors'):
        stack_batch(torch.ones(2, 3))
    with pytest.raises(ValueError, match='empty'):
        stack_batch([])
    with pytest.raises(ValueError, match='number of dimensions'):
        stack_batch([torch.ones(3, 2, 2), torch.ones(2, 2)])
    with pytest.raises(ValueError, match='channel'):
        stack_batch([torch.ones(3, 2, 2), torch.ones(1, 2, 2)])
    with pytest.raises(ValueError, match='pad_size_divisor'):
        stack_batch([torch.ones(3, 2, 2)], pad_size_divisor=0)


def test_merge_dict():
    assert merge_dict(dict(a=1, b=2), dict(b=3), dict(c=4)) == dict(
        a=1, b=3, c=4)
    assert merge_dict() == {}
    with pytest.raises(TypeError, match='argument 1'):
        merge_dict(dict(a=1), [('b', 2)])


class _Model(nn.Module):

    def __init__(self):
        super().__init__()
        self.used = nn.Linear(2, 2)
        self.unused = nn.Linear(2, 2)
        self.frozen = nn.Linear(2, 2)
        self.frozen.requires_grad_(False)

    def forward(self, x):
        return self.used(x).sum()


def test_detect_anomalous_params(capsys):
    # EX-MOD-09
    model = _Model()
    loss = model(torch.ones(1, 2))
    MMLogger.get_instance('detect_anomalous_test')
    names = detect_anomalous_params(loss, model)
    assert names == ['unused.weight', 'unused.bias']
    out = capsys.readouterr().out
    assert 'ERROR' in out
    assert 'unused.weight with shape (2, 2) is not in the computational ' \
        'graph' in out
    assert 'frozen' not in out
    full = model.used(torch.ones(1, 2)).sum() + model.unused(
        torch.ones(1, 2)).sum()
    assert detect_anomalous_params(full, model) == []


def test_convert_and_revert_sync_batchnorm():
    # EX-MOD-09
    model = nn.Sequential(
        nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4),
        nn.Sequential(nn.BatchNorm1d(4)))
    model[1].running_mean.fill_(3)
    weight = model[1].weight
    synced = convert_sync_batchnorm(model)
    assert isinstance(synced[1], nn.SyncBatchNorm)
    assert isinstance(synced[2][0], nn.SyncBatchNorm)
    assert synced[1].weight is weight
    assert (synced[1].running_mean == 3).all()
    reverted = revert_sync_batchnorm(synced)
    assert not any(isinstance(m, nn.SyncBatchNorm) for m in reverted.modules())
    assert isinstance(reverted[1], nn.modules.batchnorm._BatchNorm)
    assert reverted[1].weight is weight
    assert (reverted[1].running_mean == 3).all()
    # the reverted BN runs on CPU with any input dimensionality.
    reverted.eval()
    assert reverted[1](torch.ones(2, 4, 3, 3)).shape == (2, 4, 3, 3)
    with pytest.raises(ValueError, match='implementation'):
        convert_sync_batchnorm(model, implementation='bad')


def test_revert_top_level_sync_bn():
    bn = nn.SyncBatchNorm(3, affine=False)
    out = revert_sync_batchnorm(bn)
    assert not isinstance(out, nn.SyncBatchNorm) and out.weight is None


def test_convert_sync_batchnorm_argument_spellings():
    # The Runner passes cfg.sync_bn positionally: ('torch' | 'mmcv').
    model = nn.Sequential(nn.BatchNorm2d(2))
    synced = convert_sync_batchnorm(model, 'torch')
    assert isinstance(synced[0], nn.SyncBatchNorm)
    assert synced[0].process_group is None
    # the documented spelling (module, process_group) works too
    group = object()  # stands in for a ProcessGroup (not used on CPU)
    synced = convert_sync_batchnorm(nn.Sequential(nn.BatchNorm2d(2)), group)
    assert synced[0].process_group is group
    synced = convert_sync_batchnorm(
        nn.Sequential(nn.BatchNorm2d(2)), process_group=group)
    assert synced[0].process_group is group
    with pytest.raises(ValueError, match="'bad'"):
        convert_sync_batchnorm(model, 'bad')
    with pytest.raises(TypeError, match='implementation'):
        convert_sync_batchnorm(model, group, process_group=group)
    try:
        import mmcv  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match='pip install mmcv'):
            convert_sync_batchnorm(nn.Sequential(nn.BatchNorm2d(2)), 'mmcv')
