import pytest
import torch
import torch.nn as nn

from mmengine.runner.activation_checkpointing import \
    turn_on_activation_checkpointing


class Block(nn.Module):

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.calls = 0

    def forward(self, x, scale=1.0):
        self.calls += 1
        return torch.relu(self.fc(x)) * scale


class Net(nn.Module):

    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(4, 8)
        self.body = nn.Sequential(Block(), Block())
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        x = self.body[0](self.stem(x), scale=2.0)
        return self.head(self.body[1](x))


def _grads(model, x):
    model.zero_grad()
    x = x.clone().requires_grad_(True)
    out = model(x)
    out.sum().backward()
    return out.detach(), x.grad, [p.grad.clone() for p in model.parameters()]


def test_same_results_and_recompute():
    torch.manual_seed(0)
    model = Net()
    x = torch.randn(3, 4)
    ref_out, ref_xgrad, ref_grads = _grads(model, x)
    turn_on_activation_checkpointing(model, ['body.0', 'body.1'])
    calls = model.body[0].calls
    out, xgrad, grads = _grads(model, x)
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(xgrad, ref_xgrad)
    for g, ref in zip(grads, ref_grads):
        torch.testing.assert_close(g, ref)
    # forward ran again during backward: the activations were not kept
    assert model.body[0].calls == calls + 2


def test_string_and_idempotent():
    model = Net()
    turn_on_activation_checkpointing(model, 'head')
    wrapped = model.head.forward
    turn_on_activation_checkpointing(model, 'head')
    assert model.head.forward is wrapped
    model(torch.randn(2, 4)).sum().backward()


def test_errors():
    model = Net()
    with pytest.raises(ValueError, match="no submodule 'body.7'"):
        turn_on_activation_checkpointing(model, ['stem', 'body.7'])
    # nothing was changed when one name is wrong
    assert 'forward' not in vars(model.stem)
    with pytest.raises(TypeError, match='list of str'):
        turn_on_activation_checkpointing(model, [1])
