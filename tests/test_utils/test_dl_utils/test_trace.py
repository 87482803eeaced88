import torch

from mmengine.utils.dl_utils import is_jit_tracing


def test_is_jit_tracing():

    def foo(x):
        if is_jit_tracing():
            return x
        return x.tolist()

    x = torch.rand(3)
    assert isinstance(foo(x), list)
    traced = torch.jit.trace(foo, (torch.rand(1), ))
    assert isinstance(traced(x), torch.Tensor)
