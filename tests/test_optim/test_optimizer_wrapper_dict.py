import copy
import logging

import pytest
import torch
import torch.nn as nn
from torch.optim import SGD

from mmengine.logging import MMLogger
from mmengine.optim import OptimWrapper, OptimWrapperDict


def _wrappers():
    gen, disc = nn.Linear(1, 1), nn.Linear(1, 1)
    return (gen, disc, OptimWrapper(SGD(gen.parameters(), lr=0.01)),
            OptimWrapper(SGD(disc.parameters(), lr=0.01)))


def test_mapping_interface():
    _, _, gen, disc = _wrappers()
    wrappers = OptimWrapperDict(gen=gen, disc=disc)
    assert isinstance(wrappers, OptimWrapper)
    assert wrappers['gen'] is gen
    assert list(wrappers) == ['gen', 'disc']
    assert list(wrappers.keys()) == ['gen', 'disc']
    assert list(wrappers.values()) == [gen, disc]
    assert dict(wrappers.items()) == dict(gen=gen, disc=disc)
    assert len(wrappers) == 2
    assert 'gen' in wrappers and 'other' not in wrappers
    assert 'name: gen' in repr(wrappers)
    with pytest.raises(KeyError, match="'other'"):
        wrappers['other']


def test_lr_and_momentum_ex_opt_08():
    _, _, gen, disc = _wrappers()
    wrappers = OptimWrapperDict(gen=gen, disc=disc)
    assert wrappers.get_lr() == {'gen.lr': [0.01], 'disc.lr': [0.01]}
    assert wrappers.get_momentum() == {
        'gen.momentum': [0],
        'disc.momentum': [0]
    }


def test_values_must_be_optim_wrappers():
    gen_model = nn.Linear(1, 1)
    with pytest.raises(TypeError, match="'gen' must be an OptimWrapper"):
        OptimWrapperDict(gen=SGD(gen_model.parameters(), lr=0.1))


def test_update_methods_are_not_supported():
    _, _, gen, disc = _wrappers()
    wrappers = OptimWrapperDict(gen=gen, disc=disc)
    loss = torch.tensor(1.)
    for call in (lambda: wrappers.update_params(loss),
                 lambda: wrappers.backward(loss), wrappers.step,
                 wrappers.zero_grad, wrappers.should_update,
                 lambda: wrappers.scale_loss(loss)):
        with pytest.raises(
                NotImplementedError,
                match=r"optim_wrapper\['gen'\].*\(names: \['gen', 'disc'\]\)"):
            call()
    with pytest.raises(NotImplementedError):
        with wrappers.optim_context(nn.Linear(1, 1)):
            pass
    with pytest.raises(AttributeError, match='no single `optimizer`'):
        wrappers.optimizer
    with pytest.raises(AttributeError, match='no single `param_groups`'):
        wrappers.param_groups
    # state of a single wrapper: a clear error instead of a bare one
    for attr in ('inner_count', 'max_counts', 'defaults', 'clip_grad_kwargs',
                 'message_hub'):
        with pytest.raises(
                AttributeError,
                match=f"no single `{attr}`.*optim_wrapper\\['gen'\\]"):
            getattr(wrappers, attr)
    assert not hasattr(wrappers, 'no_sync')
    copied = copy.deepcopy(wrappers)
    assert list(copied) == ['gen', 'disc']


def test_state_dict_and_count_status():
    gen_model, disc_model, gen, disc = _wrappers()
    wrappers = OptimWrapperDict(gen=gen, disc=disc)
    sd = wrappers.state_dict()
    assert sd == dict(gen=gen.state_dict(), disc=disc.state_dict())
    _, _, gen2, disc2 = _wrappers()
    gen2.param_groups[0]['lr'] = 0.5
    wrappers2 = OptimWrapperDict(gen=gen2, disc=disc2)
    wrappers2.load_state_dict(sd)
    assert wrappers2.get_lr()['gen.lr'] == [0.01]
    with pytest.raises(KeyError, match="'other'"):
        wrappers2.load_state_dict(dict(other={}))
    # an unknown name loads nothing, not even the valid entries
    gen2.param_groups[0]['lr'] = 0.7
    with pytest.raises(KeyError, match="'other'"):
        wrappers2.load_state_dict(dict(gen=sd['gen'], other={}))
    assert gen2.param_groups[0]['lr'] == 0.7
    # a missing name is reported
    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: records.append(record.getMessage())
    logger.addHandler(handler)
    try:
        wrappers2.load_state_dict(dict(gen=sd['gen']))
    finally:
        logger.removeHandler(handler)
    assert gen2.param_groups[0]['lr'] == 0.01
    assert any("no entry for ['disc']" in r for r in records), records
    with pytest.raises(TypeError, match='expects a dict'):
        wrappers2.load_state_dict([])

    wrappers.initialize_count_status(gen_model, 4, 10)
    assert gen.inner_count == 4 and disc.max_counts == 10

    # the contained wrappers are used directly (GAN style)
    with wrappers['gen'].optim_context(gen_model):
        loss = gen_model(torch.ones(1, 1)).sum()
    before = gen_model.weight.detach().clone()
    wrappers['gen'].update_params(loss)
    assert not torch.equal(before, gen_model.weight)
