import pytest
import torch
import torch.nn as nn

from mmengine.optim import (OPTIM_WRAPPER_CONSTRUCTORS, OPTIMIZERS,
                            AmpOptimWrapper, ApexOptimWrapper,
                            DefaultOptimWrapperConstructor, OptimWrapper,
                            OptimWrapperDict, build_optim_wrapper)
from mmengine.optim.optimizer.builder import (BITSANDBYTES_OPTIMIZERS,
                                              DADAPTATION_OPTIMIZERS,
                                              LION_OPTIMIZERS,
                                              SOPHIA_OPTIMIZERS,
                                              TORCH_OPTIMIZERS,
                                              TRANSFORMERS_OPTIMIZERS)


def _installed(name):
    import importlib.util
    return importlib.util.find_spec(name) is not None


def test_torch_optimizers_registered():
    for name in ('ASGD', 'Adadelta', 'Adagrad', 'Adam', 'AdamW', 'Adamax',
                 'LBFGS', 'Optimizer', 'RMSprop', 'Rprop', 'SGD',
                 'SparseAdam', 'NAdam', 'RAdam'):
        assert name in TORCH_OPTIMIZERS
        assert OPTIMIZERS.get(name) is getattr(torch.optim, name)
    assert 'lr_scheduler' not in TORCH_OPTIMIZERS


def test_optional_optimizer_lists_follow_installation():
    assert bool(DADAPTATION_OPTIMIZERS) == _installed('dadaptation')
    assert bool(LION_OPTIMIZERS) == _installed('lion_pytorch')
    assert bool(SOPHIA_OPTIMIZERS) == _installed('Sophia')
    assert bool(BITSANDBYTES_OPTIMIZERS) == _installed('bitsandbytes')
    assert bool(TRANSFORMERS_OPTIMIZERS) == _installed('transformers')


def test_build_optim_wrapper_defaults_and_types():
    model = nn.Linear(2, 2)
    cfg = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9))
    wrapper = build_optim_wrapper(model, cfg)
    assert type(wrapper) is OptimWrapper
    assert isinstance(wrapper.optimizer, torch.optim.SGD)
    assert wrapper.get_lr() == {'lr': [0.1]}
    # the caller's cfg is not modified
    assert cfg == dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9))

    wrapper = build_optim_wrapper(
        model,
        dict(
            type='OptimWrapper',
            optimizer=dict(type='AdamW', lr=0.1),
            accumulative_counts=4,
            clip_grad=dict(max_norm=1)))
    assert wrapper._accumulative_counts == 4
    assert wrapper.clip_grad_kwargs == dict(max_norm=1)
    assert isinstance(wrapper.optimizer, torch.optim.AdamW)


def test_build_from_config_object():
    from mmengine.config import Config
    cfg = Config(
        dict(
            optim_wrapper=dict(
                optimizer=dict(type='SGD', lr=0.1),
                paramwise_cfg=dict(bias_lr_mult=2))))
    wrapper = build_optim_wrapper(nn.Linear(1, 1), cfg.optim_wrapper)
    assert [g['lr'] for g in wrapper.param_groups] == [0.1, 0.2]


def test_build_errors():
    model = nn.Linear(2, 2)
    with pytest.raises(KeyError, match='INVALID_CONSTRUCTOR'):
        build_optim_wrapper(
            model,
            dict(
                optimizer=dict(type='SGD', lr=0.1),
                constructor='INVALID_CONSTRUCTOR'))
    with pytest.raises(KeyError, match='invalid_mult'):
        build_optim_wrapper(
            model,
            dict(
                optimizer=dict(type='SGD', lr=0.1),
                paramwise_cfg=dict(invalid_mult=1)))
    with pytest.raises(AssertionError, match='`optim_wrapper_cfg` must '
                       'contain'):
        build_optim_wrapper(model, dict())
    with pytest.raises(TypeError, match='cfg must be a dict'):
        build_optim_wrapper(model, ['SGD'])
    with pytest.raises(KeyError, match='NotAWrapper'):
        build_optim_wrapper(
            model,
            dict(type='NotAWrapper', optimizer=dict(type='SGD', lr=0.1)))


def test_custom_constructor_returning_wrapper_dict():

    @OPTIM_WRAPPER_CONSTRUCTORS.register_module(force=True)
    class GANOptimWrapperConstructor:

        def __init__(self, optim_wrapper_cfg, paramwise_cfg=None):
            self.optim_wrapper_cfg = optim_wrapper_cfg

        def __call__(self, model):
            wrappers = {}
            for name, cfg in self.optim_wrapper_cfg.items():
                wrappers[name] = DefaultOptimWrapperConstructor(cfg)(
                    getattr(model, name))
            return OptimWrapperDict(**wrappers)

    model = nn.Module()
    model.gen = nn.Linear(1, 1)
    model.disc = nn.Linear(1, 1)
    wrappers = build_optim_wrapper(
        model,
        dict(
            constructor='GANOptimWrapperConstructor',
            gen=dict(optimizer=dict(type='SGD', lr=0.01)),
            disc=dict(optimizer=dict(type='Adam', lr=0.02))))
    assert wrappers.get_lr() == {'gen.lr': [0.01], 'disc.lr': [0.02]}


def test_apex_wrapper_without_apex_names_package():
    if _installed('apex'):
        pytest.skip('apex is installed')
    opt = torch.optim.SGD(nn.Linear(1, 1).parameters(), lr=0.1)
    with pytest.raises(ImportError, match='apex'):
        ApexOptimWrapper(optimizer=opt)


def test_amp_wrapper_from_registry():
    wrapper = build_optim_wrapper(
        nn.Linear(1, 1),
        dict(type='AmpOptimWrapper', optimizer=dict(type='SGD', lr=0.1)))
    assert isinstance(wrapper, AmpOptimWrapper)


def test_zero_redundancy_optimizer_single_process(tmp_path):
    import torch.distributed as dist
    if not dist.is_available():
        pytest.skip('torch.distributed is not available')
    from mmengine.optim import ZeroRedundancyOptimizer
    assert OPTIMIZERS.get('ZeroRedundancyOptimizer') is ZeroRedundancyOptimizer
    dist.init_process_group(
        'gloo',
        init_method=f'file://{tmp_path}/store',
        rank=0,
        world_size=1)
    try:
        model = nn.Linear(2, 2)
        wrapper = build_optim_wrapper(
            model,
            dict(
                optimizer=dict(
                    type='ZeroRedundancyOptimizer',
                    optimizer_type='SGD',
                    lr=0.1,
                    momentum=0.9)))
        assert isinstance(wrapper.optimizer, ZeroRedundancyOptimizer)
        assert isinstance(wrapper.optimizer.optim, torch.optim.SGD)
        wrapper.update_params(model(torch.ones(1, 2)).sum())
        sd = wrapper.state_dict()
        assert sum(len(g['params']) for g in sd['param_groups']) == 2
        with pytest.raises(KeyError, match='NoSuchOptim'):
            build_optim_wrapper(
                model,
                dict(
                    optimizer=dict(
                        type='ZeroRedundancyOptimizer',
                        optimizer_type='NoSuchOptim',
                        lr=0.1)))
        with pytest.raises(TypeError):
            build_optim_wrapper(
                model,
                dict(
                    optimizer=dict(type='ZeroRedundancyOptimizer', lr=0.1)))
    finally:
        dist.destroy_process_group()
