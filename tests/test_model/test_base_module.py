import logging
from unittest.mock import Mock

import pytest
import torch
import torch.nn as nn

from mmengine.logging import MMLogger
from mmengine.model import BaseModule, ModuleDict, ModuleList, Sequential


def _full(t, v):
    return torch.equal(t, torch.full(t.shape, float(v)))


class ConvBlock(BaseModule):

    def __init__(self, init_cfg=None):
        super().__init__(init_cfg)
        self.conv = nn.Conv2d(2, 2, 1)

    def forward(self, x):
        return self.conv(x)


class Net(BaseModule):

    def __init__(self, init_cfg=None, child_cfg=None):
        super().__init__(init_cfg)
        self.block = ConvBlock(child_cfg)
        self.head = nn.Linear(2, 2)


class UserInit(nn.Module):
    """A plain nn.Module with its own init_weights."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def init_weights(self):
        nn.init.constant_(self.linear.weight, 9)


@pytest.fixture(autouse=True)
def _clean_loggers():
    yield
    logging.shutdown()
    MMLogger._instance_dict.clear()


def test_init_cfg_type_checked():
    with pytest.raises(TypeError, match='init_cfg'):
        BaseModule(init_cfg='Constant')
    with pytest.raises(TypeError, match='init_cfg'):
        BaseModule(init_cfg=[dict(type='Constant'), 3])


def test_init_cfg_is_copied_and_in_repr():
    cfg = dict(type='Constant', val=1, layer='Conv2d')
    module = BaseModule(init_cfg=cfg)
    cfg['val'] = 5
    assert module.init_cfg['val'] == 1
    assert 'init_cfg=' in repr(module)


def test_parent_cfg_and_child_priority():
    net = Net(
        init_cfg=dict(type='Constant', val=1, bias=2, layer=['Conv2d',
                                                             'Linear']),
        child_cfg=dict(type='Constant', val=3, bias=4, layer='Conv2d'))
    assert not net.is_init
    net.init_weights()
    assert net.is_init and net.block.is_init
    assert _full(net.head.weight, 1) and _full(net.head.bias, 2)
    # the child's own init_cfg runs after the parent's, so it wins.
    assert _full(net.block.conv.weight, 3) and _full(net.block.conv.bias, 4)
    # temporary bookkeeping is removed afterwards.
    assert not any(hasattr(m, '_params_init_info') for m in net.modules())


def test_second_call_warns_and_does_nothing():
    net = Net(init_cfg=dict(type='Constant', val=1, layer='Linear'))
    net.init_weights()
    nn.init.constant_(net.head.weight, 7)
    with pytest.warns(UserWarning, match='more than once'):
        net.init_weights()
    assert _full(net.head.weight, 7)


def test_children_with_init_weights_called_once_unless_initialised():
    net = Net()
    net.user = UserInit()
    net.block.init_weights = Mock()
    net.init_weights()
    net.block.init_weights.assert_called_once()
    assert _full(net.user.linear.weight, 9)

    net = Net()
    net.block.init_weights = Mock()
    net.block.is_init = True
    net.init_weights()
    net.block.init_weights.assert_not_called()


def test_pretrained_loaded_last(tmp_path):
    src = Net()
    nn.init.constant_(src.block.conv.weight, 5)
    path = str(tmp_path / 'w.pth')
    torch.save(src.state_dict(), path)
    net = Net(
        init_cfg=[
            dict(type='Pretrained', checkpoint=path),
            dict(type='Constant', val=1, layer='Linear')
        ],
        child_cfg=dict(type='Constant', val=3, layer='Conv2d'))
    net.init_weights()
    assert _full(net.block.conv.weight, 5)  # pretrained beats child cfg
    assert torch.equal(net.head.weight, src.head.weight)


def test_init_info_written_to_log_file(tmp_path):
    log_file = tmp_path / 'init.log'
    MMLogger.get_instance('init_info_test', log_file=str(log_file))
    net = Net(init_cfg=dict(type='Constant', val=1, bias=2, layer='Linear'))
    net.init_weights()
    for handler in MMLogger.get_current_instance().handlers:
        handler.flush()
    text = log_file.read_text()
    assert 'Name of parameter - Initialization information' in text
    assert 'head.weight - (2, 2)' in text
    assert 'ConstantInit: val=1, bias=2' in text
    # a parameter no initializer changed is reported as unchanged.
    assert 'The value is the same before and after' in text


def test_containers():
    layers = [ConvBlock(dict(type='Constant', layer='Conv2d', val=2)),
              ConvBlock()]
    seq = Sequential(
        *layers, init_cfg=dict(type='Constant', layer='Conv2d', val=4))
    seq.init_weights()
    assert _full(seq[0].conv.weight, 2)  # inner cfg has priority
    assert _full(seq[1].conv.weight, 4)
    assert seq(torch.ones(1, 2, 1, 1)).shape == (1, 2, 1, 1)

    mlist = ModuleList([ConvBlock()],
                       init_cfg=dict(type='Constant', layer='Conv2d', val=5))
    mlist.append(ConvBlock())
    mlist.init_weights()
    assert _full(mlist[0].conv.weight, 5) and _full(mlist[1].conv.weight, 5)

    mdict = ModuleDict(dict(a=ConvBlock()),
                       init_cfg=dict(type='Constant', layer='Conv2d', val=6))
    mdict.init_weights()
    assert _full(mdict['a'].conv.weight, 6)
    assert len(ModuleList()) == 0 and len(ModuleDict()) == 0


def test_init_weights_on_meta_device():
    # deferred-init models (meta tensors) can still run init_weights.
    net = Net(init_cfg=dict(type='Constant', val=1, layer='Linear'))
    net.to('meta')
    net.init_weights()
    assert net.is_init and net.head.weight.is_meta


def test_failed_init_weights_leaves_no_state_behind(tmp_path):
    # An error in the middle (here: a missing checkpoint) must not leave the
    # shared init-info table on the sub-modules, so a retry is a fresh one.
    missing = str(tmp_path / 'missing.pth')
    model = Net(child_cfg=dict(type='Pretrained', checkpoint=missing))
    with pytest.raises(FileNotFoundError):
        model.init_weights()
    assert not any(
        hasattr(m, '_params_init_info') for m in model.modules())
    torch.save(ConvBlock().state_dict(), missing)
    model.block.init_cfg = dict(type='Constant', layer='Conv2d', val=5)
    model.init_weights()
    assert _full(model.block.conv.weight, 5)
    assert not any(
        hasattr(m, '_params_init_info') for m in model.modules())
