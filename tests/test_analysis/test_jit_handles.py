# Copyright (c) OpenMMLab. All rights reserved.
"""Each flop/activation handle on the node of a real trace graph."""
from collections import Counter

import pytest
import torch
import torch.nn.functional as F

from mmengine.analysis.complexity_analysis import (_DEFAULT_SUPPORTED_ACT_OPS,
                                                   _DEFAULT_SUPPORTED_FLOP_OPS)
from mmengine.analysis.jit_handles import (conv_flop_count,
                                           generic_activation_jit, get_shape)


# Values of a trace graph are invalidated once the graph is freed.
_GRAPHS = []


def traced_node(func, inputs, kind):
    """Inputs/outputs of the only ``kind`` node in the trace of func."""
    tensors = tuple(x for x in inputs if isinstance(x, torch.Tensor))

    def wrapper(*args):
        return func(*inputs)

    graph, _ = torch.jit._get_trace_graph(wrapper, tensors)
    _GRAPHS.append(graph)
    nodes = [n for n in graph.nodes() if n.kind() == kind]
    assert len(nodes) == 1, [n.kind() for n in graph.nodes()]
    return list(nodes[0].inputs()), list(nodes[0].outputs())


def flops(kind, func, *inputs):
    return _DEFAULT_SUPPORTED_FLOP_OPS[kind](*traced_node(func, inputs, kind))


def test_get_shape():
    ins, outs = traced_node(F.linear, (torch.rand(2, 3), torch.rand(4, 3)),
                            'aten::linear')
    assert get_shape(ins[0]) == [2, 3]
    assert get_shape(outs[0]) == [2, 4]
    assert get_shape(ins[2]) is None  # bias=None


def test_matrix_products():
    assert flops('aten::addmm', torch.addmm, torch.rand(5), torch.rand(3, 4),
                 torch.rand(4, 5)) == 3 * 4 * 5
    # linear over a 3-D input: every leading position is a sample
    assert flops('aten::linear', F.linear, torch.rand(2, 3, 4),
                 torch.rand(6, 4), torch.rand(6)) == 2 * 3 * 4 * 6
    assert flops('aten::bmm', torch.bmm, torch.rand(2, 3, 4),
                 torch.rand(2, 4, 5)) == 2 * 3 * 4 * 5
    assert flops('aten::baddbmm', torch.baddbmm, torch.rand(2, 3, 5),
                 torch.rand(2, 3, 4), torch.rand(2, 4, 5)) == 2 * 3 * 4 * 5
    # broadcast batch dims and a vector operand
    assert flops('aten::matmul', torch.matmul, torch.rand(2, 1, 3, 4),
                 torch.rand(5, 4, 6)) == 2 * 5 * 3 * 4 * 6
    assert flops('aten::matmul', torch.matmul, torch.rand(4),
                 torch.rand(4, 6)) == 4 * 6
    assert flops('aten::mm', torch.mm, torch.rand(3, 4),
                 torch.rand(4, 5)) == 60


def test_conv():
    # grouped 1-d convolution: N x C_out x L_out x (C_in / g) x k
    result = flops('aten::_convolution', F.conv1d, torch.rand(2, 4, 10),
                   torch.rand(6, 2, 3), None, 1, 0, 1, 2)
    assert result == Counter({'conv': 2 * 6 * 8 * 2 * 3})
    # transposed: the kernel is applied once per input position
    result = flops('aten::_convolution', F.conv_transpose2d,
                   torch.rand(1, 3, 4, 4), torch.rand(3, 5, 3, 3), None, 2)
    assert result == Counter({'conv': 3 * 5 * 9 * 16})
    assert conv_flop_count([1, 3, 4, 4], [5, 3, 3, 3], [1, 5, 2, 2]) == 540
    assert conv_flop_count([1, 3, 4, 4], [3, 5, 3, 3], [1, 5, 9, 9],
                           transposed=True) == 2160


def test_einsum():
    kind = 'aten::einsum'
    assert flops(kind, torch.einsum, 'bij,bjk->bik', torch.rand(2, 3, 4),
                 torch.rand(2, 4, 5)) == 2 * 3 * 4 * 5
    # implicit output and ellipsis broadcasting
    assert flops(kind, torch.einsum, 'ij,jk', torch.rand(3, 4),
                 torch.rand(4, 5)) == 60
    assert flops(kind, torch.einsum, '...ij,...jk->...ik',
                 torch.rand(2, 3, 4), torch.rand(4, 5)) == 2 * 3 * 4 * 5
    # one operand: a reduction over its elements
    assert flops(kind, torch.einsum, 'ij->j', torch.rand(3, 4)) == 12
    # three operands contracted left to right: (ij,jk)->ik then (ik,kl)
    assert flops(kind, torch.einsum, 'ij,jk,kl->il', torch.rand(2, 3),
                 torch.rand(3, 4), torch.rand(4, 5)) == 2 * 3 * 4 + 2 * 4 * 5


def test_norms():
    x = torch.rand(2, 3, 4, 4)  # 96 elements
    vec = torch.rand(3)
    bn = 'aten::batch_norm'
    assert flops(bn, F.batch_norm, x, vec, vec) == 96  # eval, no affine
    assert flops(bn, F.batch_norm, x, vec, vec, vec, vec) == 2 * 96
    assert flops(bn, F.batch_norm, x, None, None, None, None, True) == 4 * 96
    assert flops(bn, F.batch_norm, x, vec, vec, vec, vec, True) == 5 * 96
    assert flops('aten::group_norm', F.group_norm, x, 3, vec,
                 vec) == 5 * 96
    assert flops('aten::layer_norm', F.layer_norm, x, (4, 4)) == 4 * 96
    assert flops('aten::layer_norm', F.layer_norm, x, (4, ), torch.rand(4),
                 torch.rand(4)) == 5 * 96
    assert flops('aten::instance_norm', F.instance_norm, x) == 4 * 96


def test_resampling_and_pooling():
    x = torch.rand(1, 2, 3, 3)
    assert flops('aten::upsample_nearest2d', F.interpolate, x, None,
                 2) == 2 * 6 * 6
    assert flops('aten::upsample_bilinear2d', F.interpolate, x, None, 2,
                 'bilinear') == 4 * 2 * 6 * 6
    assert flops('aten::adaptive_avg_pool2d', F.adaptive_avg_pool2d, x,
                 1) == 18


def test_scaled_dot_product_attention():
    q = torch.rand(2, 4, 5, 8)  # batch, heads, L, E
    k = torch.rand(2, 4, 7, 8)
    v = torch.rand(2, 4, 7, 6)
    assert flops('aten::scaled_dot_product_attention',
                 F.scaled_dot_product_attention, q, k,
                 v) == 2 * 4 * 5 * 7 * (8 + 6)


def test_activation_handles():
    ins, outs = traced_node(F.linear, (torch.rand(2, 3), torch.rand(4, 3)),
                            'aten::linear')
    assert _DEFAULT_SUPPORTED_ACT_OPS['aten::linear'](ins, outs) == 8
    assert generic_activation_jit('fc')(ins, outs) == Counter({'fc': 8})
    conv = _DEFAULT_SUPPORTED_ACT_OPS['aten::_convolution']
    assert conv(*traced_node(F.conv2d, (torch.rand(1, 3, 5, 5),
                                        torch.rand(4, 3, 3, 3)),
                             'aten::_convolution')) == Counter({'conv': 36})


def test_einsum_bad_equation():
    ins, outs = traced_node(torch.einsum,
                            ('ij,jk->ik', torch.rand(3, 4), torch.rand(4, 5)),
                            'aten::einsum')

    class FakeEquation:
        """Stands for the constant equation input of the node."""

        def __init__(self, eq):
            self.eq = eq

        def toIValue(self):
            return self.eq

    handle = _DEFAULT_SUPPORTED_FLOP_OPS['aten::einsum']
    with pytest.raises(ValueError, match='names 3 operands but got 2'):
        handle([FakeEquation('ij,jk,kl->il')] + ins[1:], outs)
    with pytest.raises(ValueError, match='does not match a tensor of shape'):
        handle([FakeEquation('ijk,jk->ik')] + ins[1:], outs)
