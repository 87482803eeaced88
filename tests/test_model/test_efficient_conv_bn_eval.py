import pytest
import torch
import torch.nn as nn

from mmengine.model.efficient_conv_bn_eval import (
    efficient_conv_bn_eval_forward, turn_on_efficient_conv_bn_eval,
    turn_on_efficient_conv_bn_eval_for_single_model)


class Backbone(nn.Module):

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 4, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(4, affine=False)
        self.conv3 = nn.Conv2d(4, 4, 1)
        self.bn3 = nn.BatchNorm2d(4)

    def forward(self, x):
        x = self.bn1(self.conv1(x))
        x = self.bn2(self.conv2(x))
        y = self.conv3(x)  # used twice: must not be fused
        return self.bn3(y) + y


class Wrapper(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = Backbone()

    def forward(self, x):
        return self.backbone(x)


def _randomise_bn(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            if m.affine:
                m.weight.data.uniform_(0.5, 2)
                m.bias.data.uniform_(-1, 1)


def test_forward_matches_conv_bn():
    conv, bn = nn.Conv1d(2, 3, 2), nn.BatchNorm1d(3).eval()
    _randomise_bn(nn.Sequential(bn))
    bn.running_mean.uniform_(-1, 1)
    x = torch.randn(4, 2, 5)
    assert torch.allclose(
        efficient_conv_bn_eval_forward(bn, conv, x), bn(conv(x)), atol=1e-5)


def test_transform_equivalent_in_eval_and_train():
    model = Backbone()
    _randomise_bn(model)
    model.eval()
    x = torch.randn(2, 3, 8, 8)
    expected = model(x)
    turn_on_efficient_conv_bn_eval_for_single_model(model)
    assert torch.allclose(model(x), expected, atol=1e-5)
    code = model.forward.__self__.code
    assert code.count('efficient_conv_bn_eval_control') == 2
    # gradients still reach the conv weights through the fused path.
    model(x).sum().backward()
    assert model.conv1.weight.grad is not None
    # in train mode the control falls back to the ordinary bn(conv(x)).
    model.train()
    model2 = Backbone()
    model2.load_state_dict(model.state_dict())
    model2.train()
    assert torch.allclose(model(x), model2(x), atol=1e-5)


def test_turn_on_by_name():
    model = Wrapper()
    _randomise_bn(model)
    model.eval()
    x = torch.randn(1, 3, 8, 8)
    expected = model(x)
    turn_on_efficient_conv_bn_eval(model, 'backbone')
    assert torch.allclose(model(x), expected, atol=1e-5)
    with pytest.raises(AttributeError, match="'neck'"):
        turn_on_efficient_conv_bn_eval(model, ['neck'])
