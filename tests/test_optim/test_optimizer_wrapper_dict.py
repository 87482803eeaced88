import pytest
import torch
import torch.nn as nn
from torch.optim import SGD

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
                 wrappers.zero_grad, wrappers.should_update):
        with pytest.raises(NotImplementedError, match="optim_wrapper\\['gen'"):
            call()
    with pytest.raises(NotImplementedError):
        with wrappers.optim_context(nn.Linear(1, 1)):
            pass
    with pytest.raises(AttributeError, match='no single `optimizer`'):
        wrappers.optimizer
    with pytest.raises(AttributeError, match='no single `param_groups`'):
        wrappers.param_groups


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
