import logging
from contextlib import contextmanager

import pytest
import torch
import torch.nn as nn

from mmengine.logging import MMLogger
from mmengine.optim import (OPTIM_WRAPPER_CONSTRUCTORS,
                            DefaultOptimWrapperConstructor, OptimWrapper,
                            build_optim_wrapper)

BASE_LR = 0.01
BASE_WD = 0.0001


class ToyModel(nn.Module):
    """The model of the spec's paramwise examples (EX-OPT-09/10)."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.ModuleDict(
            dict(layer0=nn.Linear(1, 1), layer1=nn.Linear(1, 1)))
        self.head = nn.Sequential()
        self.head.add_module('linear', nn.Linear(1, 1))
        self.head.add_module('bn', nn.BatchNorm1d(1))


class TypesModel(nn.Module):
    """One parameter of every kind the constructor distinguishes."""

    def __init__(self):
        super().__init__()
        self.flat = nn.Parameter(torch.ones(3))
        self.conv = nn.Conv2d(3, 4, 1)
        self.dw = nn.Conv2d(4, 4, 3, groups=4)
        self.gn = nn.GroupNorm(2, 4)
        self.ln = nn.LayerNorm(4)
        self.inorm = nn.InstanceNorm2d(4, affine=True)


class DeformConv2d(nn.Conv2d):
    """Stand-in with the class name of a deformable convolution."""

    def __init__(self):
        super().__init__(2, 2, 3)
        self.conv_offset = nn.Conv2d(2, 18, 3)


class DCNModel(nn.Module):

    def __init__(self):
        super().__init__()
        self.dcn = DeformConv2d()


@contextmanager
def capture_logs(level=logging.INFO):
    records = []

    class Handler(logging.Handler):

        def emit(self, record):
            records.append(record.getMessage())

    logger = MMLogger.get_current_instance()
    handler = Handler(level=level)
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def _paramwise_lines(records):
    prefix = 'paramwise_options -- '
    return [r[len(prefix):] for r in records if r.startswith(prefix)]


def _cfg(**optimizer):
    opt = dict(type='SGD', lr=BASE_LR, weight_decay=BASE_WD)
    opt.update(optimizer)
    return dict(optimizer=opt)


def test_no_paramwise_cfg_single_group():
    model = ToyModel()
    for paramwise_cfg in (None, {}):
        wrapper = DefaultOptimWrapperConstructor(_cfg(), paramwise_cfg)(model)
        assert isinstance(wrapper, OptimWrapper)
        assert len(wrapper.param_groups) == 1
        assert wrapper.param_groups[0]['params'] == list(model.parameters())
    constructor = DefaultOptimWrapperConstructor(_cfg())
    assert constructor.base_lr == BASE_LR
    assert constructor.base_wd == BASE_WD


def test_norm_decay_mult_logs_ex_opt_09():
    with capture_logs() as records:
        wrapper = build_optim_wrapper(
            ToyModel(),
            dict(
                optimizer=dict(type='SGD', lr=0.01, weight_decay=0.0001),
                paramwise_cfg=dict(norm_decay_mult=0)))
    assert _paramwise_lines(records) == [
        'backbone.layer0.bias:lr=0.01',
        'backbone.layer0.bias:weight_decay=0.0001',
        'backbone.layer1.bias:lr=0.01',
        'backbone.layer1.bias:weight_decay=0.0001',
        'head.linear.bias:lr=0.01',
        'head.linear.bias:weight_decay=0.0001',
        'head.bn.weight:weight_decay=0.0',
        'head.bn.bias:weight_decay=0.0',
    ]
    groups = wrapper.param_groups
    assert len(groups) == 8
    assert groups[6]['weight_decay'] == 0.0
    assert groups[6]['lr'] == 0.01
    assert groups[0]['weight_decay'] == 0.0001


def test_custom_keys_logs_ex_opt_10():
    cfg = dict(
        optimizer=dict(type='SGD', lr=0.01, weight_decay=0.0001),
        paramwise_cfg=dict(
            custom_keys={
                'backbone.layer0': dict(lr_mult=0, decay_mult=0),
                'backbone': dict(lr_mult=1),
                'head': dict(lr_mult=0.1)
            }))
    with capture_logs() as records:
        wrapper = build_optim_wrapper(ToyModel(), cfg)
    expected = []
    for name in ('backbone.layer0.weight', 'backbone.layer0.bias'):
        expected += [
            f'{name}:lr=0.0', f'{name}:weight_decay=0.0', f'{name}:lr_mult=0',
            f'{name}:decay_mult=0'
        ]
    for name in ('backbone.layer1.weight', 'backbone.layer1.bias'):
        expected += [
            f'{name}:lr=0.01', f'{name}:weight_decay=0.0001',
            f'{name}:lr_mult=1'
        ]
    for name in ('head.linear.weight', 'head.linear.bias', 'head.bn.weight',
                 'head.bn.bias'):
        expected += [
            f'{name}:lr=0.001', f'{name}:weight_decay=0.0001',
            f'{name}:lr_mult=0.1'
        ]
    assert _paramwise_lines(records) == expected
    assert wrapper.param_groups[0]['lr_mult'] == 0


def test_type_based_rules():
    paramwise_cfg = dict(
        bias_lr_mult=2,
        bias_decay_mult=0.5,
        norm_decay_mult=0,
        dwconv_decay_mult=0.1,
        flat_decay_mult=0.3)
    model = TypesModel()
    wrapper = DefaultOptimWrapperConstructor(_cfg(), paramwise_cfg)(model)
    groups = {
        name: group
        for (name, _), group in zip(model.named_parameters(),
                                    wrapper.param_groups)
    }
    assert len(groups) == len(list(model.parameters()))
    assert groups['flat']['weight_decay'] == pytest.approx(BASE_WD * 0.3)
    assert groups['conv.weight']['weight_decay'] == BASE_WD
    assert groups['conv.weight']['lr'] == BASE_LR
    assert groups['conv.bias']['lr'] == BASE_LR * 2
    assert groups['conv.bias']['weight_decay'] == BASE_WD * 0.5
    assert groups['dw.weight']['weight_decay'] == pytest.approx(BASE_WD * 0.1)
    # bias rule wins over the depth-wise rule
    assert groups['dw.bias']['weight_decay'] == BASE_WD * 0.5
    for norm in ('gn', 'ln', 'inorm'):
        assert groups[f'{norm}.weight']['weight_decay'] == 0
        assert groups[f'{norm}.bias']['weight_decay'] == 0
        # normalization biases keep the base lr
        assert groups[f'{norm}.bias']['lr'] == BASE_LR


def test_global_lr_and_decay_mult():
    model = nn.Linear(2, 2)
    wrapper = DefaultOptimWrapperConstructor(
        _cfg(), dict(lr_mult=0.5, decay_mult=2))(model)
    for group in wrapper.param_groups:
        assert group['lr'] == pytest.approx(BASE_LR * 0.5)
        assert group['weight_decay'] == pytest.approx(BASE_WD * 2)


def test_custom_keys_longest_match_and_precedence():
    model = TypesModel()
    cfg = dict(
        custom_keys={
            'gn': dict(lr_mult=3),
            'gn.bias': dict(lr_mult=5, decay_mult=0.5),
        },
        norm_decay_mult=0)
    wrapper = DefaultOptimWrapperConstructor(_cfg(), cfg)(model)
    groups = dict(
        zip([n for n, _ in model.named_parameters()], wrapper.param_groups))
    assert groups['gn.bias']['lr'] == pytest.approx(BASE_LR * 5)
    assert groups['gn.bias']['weight_decay'] == pytest.approx(BASE_WD * 0.5)
    # custom key beats norm_decay_mult: decay_mult missing -> 1
    assert groups['gn.weight']['lr'] == pytest.approx(BASE_LR * 3)
    assert groups['gn.weight']['weight_decay'] == BASE_WD
    assert groups['ln.weight']['weight_decay'] == 0


def test_dcn_offset_lr_mult():
    model = DCNModel()
    wrapper = DefaultOptimWrapperConstructor(
        _cfg(), dict(dcn_offset_lr_mult=0.1))(model)
    groups = dict(
        zip([n for n, _ in model.named_parameters()], wrapper.param_groups))
    assert groups['dcn.weight']['lr'] == BASE_LR
    assert groups['dcn.conv_offset.weight']['lr'] == pytest.approx(
        BASE_LR * 0.1)
    assert groups['dcn.conv_offset.bias']['lr'] == pytest.approx(
        BASE_LR * 0.1)
    # offset biases are not treated as ordinary biases
    assert groups['dcn.conv_offset.bias']['weight_decay'] == BASE_WD


def test_frozen_parameters_are_left_out():
    model = TypesModel()
    model.conv.requires_grad_(False)
    wrapper = DefaultOptimWrapperConstructor(_cfg(),
                                             dict(bias_lr_mult=2))(model)
    ids = {id(p) for g in wrapper.param_groups for p in g['params']}
    assert id(model.conv.weight) not in ids
    assert id(model.dw.weight) in ids


def test_shared_parameters():
    model = nn.Module()
    model.a = nn.Linear(2, 2)
    model.b = nn.Sequential(model.a)
    with pytest.raises(ValueError,
                       match='appear in more than one parameter group'):
        DefaultOptimWrapperConstructor(_cfg(), dict(bias_lr_mult=1))(model)
    constructor = DefaultOptimWrapperConstructor(
        _cfg(), dict(bias_lr_mult=1, bypass_duplicate=True))
    with capture_logs(logging.WARNING) as records:
        wrapper = constructor(model)
    assert any('b.0.weight is duplicate' in r for r in records)
    assert len(wrapper.param_groups) == 2
    # a second call starts from scratch
    assert len(constructor(model).param_groups) == 2


def test_model_wrapper_is_unwrapped():

    class Wrapper(nn.Module):

        def __init__(self):
            super().__init__()
            self.module = ToyModel()

    with capture_logs() as records:
        DefaultOptimWrapperConstructor(_cfg(),
                                       dict(norm_decay_mult=0))(Wrapper())
    assert 'head.bn.bias:weight_decay=0.0' in _paramwise_lines(records)


def test_submodule_named_module_is_not_mistaken_for_a_wrapper():
    # A plain model with a child called ``module`` keeps all its parameters.

    class Net(nn.Module):

        def __init__(self):
            super().__init__()
            self.module = nn.Linear(1, 1)
            self.head = nn.Linear(1, 1)

    model = Net()
    wrapper = DefaultOptimWrapperConstructor(_cfg())(model)
    assert wrapper.param_groups[0]['params'] == list(model.parameters())


def test_built_optimizer_instance_is_wrapped():
    model = nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.3)
    wrapper = DefaultOptimWrapperConstructor(dict(optimizer=opt))(model)
    assert wrapper.optimizer is opt
    wrapper = build_optim_wrapper(model, dict(optimizer=opt))
    assert wrapper.optimizer is opt
    # per-parameter options need to build the optimizer themselves
    with pytest.raises(ValueError, match='paramwise_cfg cannot be applied'):
        build_optim_wrapper(
            model, dict(optimizer=opt, paramwise_cfg=dict(lr_mult=0.1)))


def test_first_argument_name_of_optimizer():
    from mmengine.optim import OPTIMIZERS

    @OPTIMIZERS.register_module(force=True)
    class ModelParamsSGD(torch.optim.SGD):

        def __init__(self, model_params, **kwargs):
            super().__init__(model_params, **kwargs)

    model = nn.Linear(1, 1)
    wrapper = build_optim_wrapper(
        model, dict(optimizer=dict(type='ModelParamsSGD', lr=0.1)))
    assert isinstance(wrapper.optimizer, ModelParamsSGD)
    OPTIMIZERS.module_dict.pop('ModelParamsSGD')


def test_errors_name_the_problem():
    model = ToyModel()
    with pytest.raises(TypeError, match='optim_wrapper_cfg should be a dict'):
        DefaultOptimWrapperConstructor([])
    with pytest.raises(KeyError, match='must contain "optimizer"'):
        DefaultOptimWrapperConstructor(dict(type='OptimWrapper'))
    with pytest.raises(TypeError, match='paramwise_cfg should be None'):
        DefaultOptimWrapperConstructor(_cfg(), ['error'])
    with pytest.raises(KeyError, match='decay_factor'):
        DefaultOptimWrapperConstructor(_cfg(), dict(decay_factor=0.5))
    with pytest.raises(TypeError, match='custom_keys'):
        DefaultOptimWrapperConstructor(_cfg(), dict(custom_keys=[0.1]))
    with pytest.raises(TypeError, match="custom_keys.*'head'"):
        DefaultOptimWrapperConstructor(_cfg(),
                                       dict(custom_keys={'head': 0.1}))
    with pytest.raises(ValueError, match='norm_decay_mult.*weight_decay'):
        DefaultOptimWrapperConstructor(
            dict(optimizer=dict(type='SGD', lr=0.1)),
            dict(norm_decay_mult=0))
    with pytest.raises(ValueError, match="'head'.*decay_mult"):
        DefaultOptimWrapperConstructor(
            dict(optimizer=dict(type='SGD', lr=0.1)),
            dict(custom_keys={'head': dict(decay_mult=0)}))
    with pytest.raises(ValueError, match='bias_lr_mult.*no lr'):
        DefaultOptimWrapperConstructor(
            dict(optimizer=dict(type='Adam')), dict(bias_lr_mult=2))
    with pytest.raises(KeyError, match='must contain "type"'):
        DefaultOptimWrapperConstructor(dict(optimizer=dict(lr=0.1)))
    with pytest.raises(TypeError, match='config dict or a torch.optim'):
        DefaultOptimWrapperConstructor(dict(optimizer='SGD'))
    with pytest.raises(KeyError, match='NotAnOptimizer'):
        DefaultOptimWrapperConstructor(
            dict(optimizer=dict(type='NotAnOptimizer', lr=0.1)))(model)


def test_no_weight_decay_keeps_optimizer_default():
    model = ToyModel()
    wrapper = DefaultOptimWrapperConstructor(
        dict(optimizer=dict(type='SGD', lr=0.1)),
        dict(custom_keys={'head': dict(lr_mult=0.5)}))(model)
    for group in wrapper.param_groups:
        assert group['weight_decay'] == 0


def test_custom_constructor_ex_opt_11():

    @OPTIM_WRAPPER_CONSTRUCTORS.register_module(force=True)
    class LayerDecayOptimWrapperConstructor(DefaultOptimWrapperConstructor):

        def __init__(self, optim_wrapper_cfg, paramwise_cfg=None):
            super().__init__(optim_wrapper_cfg, paramwise_cfg)
            self.decay_factor = paramwise_cfg.get('decay_factor', 0.5)

        def add_params(self, params, module, prefix='', lr=None):
            if lr is None:
                lr = self.base_lr
            for name, param in module.named_parameters(recurse=False):
                param_group = dict(params=[param], lr=lr)
                params.append(param_group)
                full_name = f'{prefix}.{name}' if prefix else name
                from mmengine.logging import print_log
                print_log(
                    f'{full_name} : lr={lr}', logger='current')
            for name, child in module.named_children():
                child_prefix = f'{prefix}.{name}' if prefix else name
                self.add_params(
                    params, child, child_prefix, lr=lr * self.decay_factor)

    class Model(nn.Module):

        def __init__(self):
            super().__init__()
            self.layer = nn.ModuleDict(dict(linear=nn.Linear(1, 1)))
            self.linear = nn.Linear(1, 1)

    with capture_logs() as records:
        wrapper = build_optim_wrapper(
            Model(),
            dict(
                optimizer=dict(type='SGD', lr=0.01, weight_decay=0.0001),
                paramwise_cfg=dict(decay_factor=0.5),
                constructor='LayerDecayOptimWrapperConstructor'))
    lines = [r for r in records if ' : lr=' in r]
    assert lines == [
        'layer.linear.weight : lr=0.0025', 'layer.linear.bias : lr=0.0025',
        'linear.weight : lr=0.005', 'linear.bias : lr=0.005'
    ]
    assert [g['lr'] for g in wrapper.param_groups] == [
        0.0025, 0.0025, 0.005, 0.005
    ]
