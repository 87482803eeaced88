import math

import pytest
import torch
import torch.nn as nn

from mmengine.model import (BaseModule, Caffe2XavierInit, ConstantInit,
                            KaimingInit, NormalInit, PretrainedInit,
                            TruncNormalInit, UniformInit, XavierInit,
                            bias_init_with_prob, caffe2_xavier_init,
                            constant_init, initialize, kaiming_init,
                            normal_init, trunc_normal_init, uniform_init,
                            xavier_init)
from mmengine.registry import WEIGHT_INITIALIZERS


def _full(t, v):
    return torch.equal(t, torch.full(t.shape, float(v)))


def test_registered_names():
    for name, cls in [('Constant', ConstantInit), ('Xavier', XavierInit),
                      ('Normal', NormalInit), ('TruncNormal', TruncNormalInit),
                      ('Uniform', UniformInit), ('Kaiming', KaimingInit),
                      ('Caffe2Xavier', Caffe2XavierInit),
                      ('Pretrained', PretrainedInit)]:
        assert WEIGHT_INITIALIZERS.get(name) is cls


def test_functional_inits():
    conv = nn.Conv2d(3, 16, 3)
    constant_init(conv, 0.1, bias=0.2)
    assert _full(conv.weight, 0.1) and _full(conv.bias, 0.2)
    xavier_init(conv, bias=0.3, distribution='uniform')
    assert _full(conv.bias, 0.3)
    bound = math.sqrt(6 / (3 * 9 + 16 * 9))
    assert conv.weight.abs().max() <= bound
    normal_init(conv, 0, 0.01, bias=0.4)
    assert _full(conv.bias, 0.4) and conv.weight.std() < 0.02
    trunc_normal_init(conv, 0, 1, a=-0.1, b=0.1, bias=0.5)
    assert conv.weight.abs().max() <= 0.1 and _full(conv.bias, 0.5)
    uniform_init(conv, a=1, b=2, bias=0.6)
    assert conv.weight.min() >= 1 and conv.weight.max() <= 2
    kaiming_init(conv, bias=0.7)
    assert _full(conv.bias, 0.7)
    caffe2_xavier_init(conv, bias=0.8)
    assert _full(conv.bias, 0.8)
    # modules without bias / weight are fine.
    constant_init(nn.Conv2d(1, 1, 1, bias=False), 1)
    constant_init(nn.ReLU(), 1)
    with pytest.raises(ValueError, match='distribution'):
        xavier_init(conv, distribution='bad')
    with pytest.raises(ValueError, match='distribution'):
        kaiming_init(conv, distribution='bad')


def test_bias_init_with_prob():
    b = bias_init_with_prob(0.01)
    assert abs(torch.sigmoid(torch.tensor(b)).item() - 0.01) < 1e-6
    with pytest.raises(ValueError, match='prior_prob'):
        bias_init_with_prob(1.5)


def test_layer_matching_and_bases():
    model = nn.Sequential(nn.Conv2d(3, 1, 1), nn.Linear(1, 2))
    ConstantInit(val=1, bias=2, layer='Conv2d')(model)
    assert _full(model[0].weight, 1) and _full(model[0].bias, 2)
    assert not _full(model[1].weight, 1)
    # base-class names match too (_ConvNd covers every conv).
    ConstantInit(val=3, layer=['_ConvNd', 'Linear'])(model)
    assert _full(model[0].weight, 3) and _full(model[1].weight, 3)
    init = ConstantInit(val=1, bias_prob=0.01, layer='Linear')
    init(model)
    assert torch.allclose(model[1].bias,
                          torch.full((2, ), bias_init_with_prob(0.01)))


def test_initializer_arg_errors():
    with pytest.raises(TypeError, match='bias'):
        ConstantInit(val=1, bias='x')
    with pytest.raises(TypeError, match='bias_prob'):
        ConstantInit(val=1, bias_prob=1)
    with pytest.raises(TypeError, match='layer'):
        ConstantInit(val=1, layer=3)
    with pytest.raises(ValueError, match='mode'):
        KaimingInit(mode='x')
    with pytest.raises(ValueError, match='a must be < b'):
        TruncNormalInit(a=1, b=0)
    with pytest.raises(TypeError, match='checkpoint'):
        PretrainedInit(checkpoint=3)


def test_initialize_with_override():
    model = nn.Module()
    model.feat = nn.Conv2d(1, 2, 1)
    model.reg = nn.Conv2d(2, 3, 1)
    model.cls = nn.Linear(1, 1)
    initialize(
        model,
        dict(
            type='Constant',
            val=1,
            bias=2,
            layer='Conv2d',
            override=[
                dict(type='Constant', name='reg', val=3, bias=4),
                dict(name='cls'),  # only a name: reuse the outer cfg
            ]))
    assert _full(model.feat.weight, 1) and _full(model.feat.bias, 2)
    assert _full(model.reg.weight, 3) and _full(model.reg.bias, 4)
    # override applies to the whole named child, whatever its class.
    assert _full(model.cls.weight, 1) and _full(model.cls.bias, 2)


def test_initialize_list_and_errors():
    model = nn.Sequential(nn.Conv2d(1, 1, 1), nn.Linear(1, 1))
    initialize(model, [
        dict(type='Constant', layer='Conv2d', val=1),
        dict(type='Constant', layer='Linear', val=2)
    ])
    assert _full(model[0].weight, 1) and _full(model[1].weight, 2)
    with pytest.raises(TypeError, match='init_cfg'):
        initialize(model, 'Constant')
    with pytest.raises(TypeError, match='each init_cfg'):
        initialize(model, [3])
    with pytest.raises(ValueError, match='"name"'):
        initialize(model, dict(type='Constant', val=1, override=dict(val=2)))
    with pytest.raises(ValueError, match='"type"'):
        initialize(model,
                   dict(type='Constant', val=1, override=dict(name='0',
                                                              val=2)))
    with pytest.raises(RuntimeError, match="'nope'"):
        initialize(model, dict(type='Constant', val=1,
                               override=dict(name='nope')))
    with pytest.raises(KeyError):
        initialize(model, dict(type='NoSuchInit'))


def _save(tmp_path, state):
    path = str(tmp_path / 'ckpt.pth')
    torch.save(state, path)
    return path


def test_pretrained_full_and_prefix(tmp_path):
    from mmengine.runner import checkpoint
    if not hasattr(checkpoint, '_load_checkpoint'):
        pytest.skip('mmengine.runner.checkpoint not ready')
    src = nn.Module()
    src.backbone = nn.Linear(2, 2)
    src.head = nn.Linear(2, 1)
    constant_init(src.backbone, 5, bias=6)
    path = _save(tmp_path, dict(state_dict=src.state_dict()))

    # EX-MOD-08: Pretrained with prefix loads only the prefixed keys.
    class Backbone(BaseModule):

        def __init__(self, init_cfg=None):
            super().__init__(init_cfg)
            self.weight = nn.Parameter(torch.zeros(2, 2))
            self.bias = nn.Parameter(torch.zeros(2))

    bb = Backbone(
        init_cfg=dict(type='Pretrained', checkpoint=path, prefix='backbone'))
    bb.init_weights()
    assert _full(bb.weight, 5) and _full(bb.bias, 6)

    dst = nn.Module()
    dst.backbone = nn.Linear(2, 2)
    dst.head = nn.Linear(2, 1)
    PretrainedInit(checkpoint=path)(dst)
    assert _full(dst.backbone.weight, 5)
    assert torch.equal(dst.head.weight, src.head.weight)

    with pytest.raises(ValueError, match='prefix'):
        PretrainedInit(checkpoint=path, prefix='neck.')(dst)


def test_ex_mod_08_constant_init_cfg():
    module = BaseModule(init_cfg=dict(
        type='Constant', layer='Conv2d', val=1, bias=2))
    module.conv = nn.Conv2d(3, 4, 3)
    module.init_weights()
    assert _full(module.conv.weight, 1) and _full(module.conv.bias, 2)


def test_cfg_without_layer_or_override_warns():
    from unittest.mock import patch
    model = nn.Sequential(nn.Conv2d(1, 1, 1))
    before = model[0].weight.detach().clone()
    with patch('mmengine.model.weight_init.print_log') as log:
        initialize(model, dict(type='Constant', val=3))
        initialize(model, dict(type=ConstantInit, val=3))
    assert log.call_count == 2
    assert 'neither `layer` nor `override`' in log.call_args[0][0]
    assert torch.equal(model[0].weight, before)  # nothing initialised
    with patch('mmengine.model.weight_init.print_log') as log:
        initialize(model, dict(type='Constant', val=3, layer='Conv2d'))
        initialize(model, dict(type='Constant', val=4,
                               override=dict(name='0')))
    assert log.call_count == 0 and _full(model[0].weight, 4)
