# Copyright (c) OpenMMLab. All rights reserved.
"""Flop, activation and parameter counting of ``nn.Module`` models."""
import typing
from collections import defaultdict
from typing import Any, DefaultDict, Dict, Optional, Tuple

import torch.nn as nn

from .jit_analysis import JitModelAnalysis
from .jit_handles import (Handle, addmm_flop_jit, batchnorm_flop_jit,
                          bmm_flop_jit, conv_flop_jit, einsum_flop_jit,
                          elementwise_flop_counter, generic_activation_jit,
                          linear_flop_jit, matmul_flop_jit, norm_flop_counter,
                          scaled_dot_product_attention_flop_jit)
from .stats_table import (format_size, render_ascii_table, shape_str,
                          stats_tree_rows)

__all__ = [
    'FlopAnalyzer', 'ActivationAnalyzer', 'flop_count', 'activation_count',
    'parameter_count', 'parameter_count_table'
]

_CONV_OPS = ('aten::_convolution', 'aten::conv1d', 'aten::conv2d',
             'aten::conv3d', 'aten::conv_transpose1d',
             'aten::conv_transpose2d', 'aten::conv_transpose3d')

# Default flop handles. BatchNorm is counted (in its traced train/eval
# mode); use ``set_op_handle('aten::batch_norm', None)`` to leave it out,
# e.g. when it will be fused into the convolution for inference.
_DEFAULT_SUPPORTED_FLOP_OPS: Dict[str, Handle] = {
    **{op: conv_flop_jit
       for op in _CONV_OPS},
    'aten::addmm': addmm_flop_jit,
    'aten::bmm': bmm_flop_jit,
    'aten::baddbmm': bmm_flop_jit,
    'aten::einsum': einsum_flop_jit,
    'aten::matmul': matmul_flop_jit,
    'aten::mm': matmul_flop_jit,
    'aten::linear': linear_flop_jit,
    'aten::scaled_dot_product_attention':
    scaled_dot_product_attention_flop_jit,
    'aten::batch_norm': batchnorm_flop_jit,
    'aten::group_norm': norm_flop_counter(2),
    'aten::layer_norm': norm_flop_counter(2),
    'aten::instance_norm': norm_flop_counter(1),
    # interpolation: flops per output element = number of source taps
    'aten::upsample_nearest1d': elementwise_flop_counter(0, 1),
    'aten::upsample_nearest2d': elementwise_flop_counter(0, 1),
    'aten::upsample_nearest3d': elementwise_flop_counter(0, 1),
    'aten::upsample_linear1d': elementwise_flop_counter(0, 2),
    'aten::upsample_bilinear2d': elementwise_flop_counter(0, 4),
    'aten::upsample_bicubic2d': elementwise_flop_counter(0, 16),
    'aten::upsample_trilinear3d': elementwise_flop_counter(0, 8),
    'aten::grid_sampler': elementwise_flop_counter(0, 4),  # bilinear
    'aten::adaptive_avg_pool1d': elementwise_flop_counter(1, 0),
    'aten::adaptive_avg_pool2d': elementwise_flop_counter(1, 0),
    'aten::adaptive_avg_pool3d': elementwise_flop_counter(1, 0),
}

# Activations are the outputs of the layers that carry the compute:
# convolutions and (batched) matrix products.
_DEFAULT_SUPPORTED_ACT_OPS: Dict[str, Handle] = {
    **{op: generic_activation_jit('conv')
       for op in _CONV_OPS},
    'aten::addmm': generic_activation_jit(),
    'aten::bmm': generic_activation_jit(),
    'aten::baddbmm': generic_activation_jit(),
    'aten::einsum': generic_activation_jit(),
    'aten::matmul': generic_activation_jit(),
    'aten::mm': generic_activation_jit(),
    'aten::linear': generic_activation_jit(),
    'aten::scaled_dot_product_attention': generic_activation_jit(),
}


class FlopAnalyzer(JitModelAnalysis):
    """Count the flops of a model (one fused multiply-add = one flop).

    Built on :class:`JitModelAnalysis`: the model is traced on ``inputs`` and
    convolutions, matrix products, normalisations, interpolation and adaptive
    average pooling are counted (``_DEFAULT_SUPPORTED_FLOP_OPS``).
    Element-wise operations (ReLU, additions...) and max-pooling are not.

    Args:
        model (nn.Module): The model to analyze.
        inputs (Any): The inputs of ``model.forward`` (a tuple is unpacked).

    Examples:
        >>> import torch, torch.nn as nn
        >>> from mmengine.analysis import FlopAnalyzer
        >>> conv, x = nn.Conv2d(3, 10, 3), torch.randn(1, 3, 10, 10)
        >>> flops = FlopAnalyzer(conv, x)
        >>> flops.total()
        17280
        >>> flops.by_operator()
        Counter({'conv': 17280})
    """

    def __init__(self, model: nn.Module, inputs: Any) -> None:
        super().__init__(model=model, inputs=inputs)
        self.set_op_handle(**_DEFAULT_SUPPORTED_FLOP_OPS)


class ActivationAnalyzer(JitModelAnalysis):
    """Count the activations of a model: the number of output elements of
    its convolutions and matrix products (``_DEFAULT_SUPPORTED_ACT_OPS``).

    Args:
        model (nn.Module): The model to analyze.
        inputs (Any): The inputs of ``model.forward`` (a tuple is unpacked).

    Examples:
        >>> acts = ActivationAnalyzer(nn.Conv2d(3, 10, 3),
        ...                           torch.randn(1, 3, 10, 10))
        >>> acts.total()
        640
    """

    def __init__(self, model: nn.Module, inputs: Any) -> None:
        super().__init__(model=model, inputs=inputs)
        self.set_op_handle(**_DEFAULT_SUPPORTED_ACT_OPS)


def _count_quietly(
    analyzer: JitModelAnalysis,
    supported_ops: Optional[Dict[str, Handle]],
    scale: float,
) -> Tuple[DefaultDict[str, float], typing.Counter[str]]:
    if supported_ops:
        analyzer.set_op_handle(**supported_ops)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    analyzer.tracer_warnings('none')
    scaled: DefaultDict[str, float] = defaultdict(float)
    for op, count in analyzer.by_operator().items():
        scaled[op] = count / scale
    return scaled, analyzer.unsupported_ops()


def flop_count(
    model: nn.Module,
    inputs: Any,
    supported_ops: Optional[Dict[str, Handle]] = None,
) -> Tuple[DefaultDict[str, float], typing.Counter[str]]:
    """Gigaflops of a model by operator, without any warning.

    Args:
        model (nn.Module): The model to analyze.
        inputs (Any): The inputs of ``model.forward`` (a tuple is unpacked).
        supported_ops (dict[str, Handle], optional): Extra or overriding
            handles, operator name -> handle.

    Returns:
        tuple: ``(gflops by operator, Counter of skipped operators)``.
    """
    return _count_quietly(FlopAnalyzer(model, inputs), supported_ops, 1e9)


def activation_count(
    model: nn.Module,
    inputs: Any,
    supported_ops: Optional[Dict[str, Handle]] = None,
) -> Tuple[DefaultDict[str, float], typing.Counter[str]]:
    """Mega-activations of a model by operator, without any warning.

    Args:
        model (nn.Module): The model to analyze.
        inputs (Any): The inputs of ``model.forward`` (a tuple is unpacked).
        supported_ops (dict[str, Handle], optional): Extra or overriding
            handles, operator name -> handle.

    Returns:
        tuple: ``(million activations by operator, Counter of skipped
        operators)``.
    """
    return _count_quietly(
        ActivationAnalyzer(model, inputs), supported_ops, 1e6)


def parameter_count(model: nn.Module) -> DefaultDict[str, int]:
    """Number of parameter elements of every module and parameter.

    A parameter shared by several modules is counted once, under the first
    name it is registered with.

    Args:
        model (nn.Module): The model.

    Returns:
        defaultdict[str, int]: Name -> count, for the model (``''``), every
        module holding parameters (directly or below) and every parameter
        (e.g. ``'fc1.weight'``), in registration order.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f'model should be an nn.Module, but got {type(model)}')
    result: DefaultDict[str, int] = defaultdict(int)
    for name, param in model.named_parameters():
        size = param.numel()
        parts = name.split('.')
        for k in range(len(parts) + 1):
            result['.'.join(parts[:k])] += size
    return result


def parameter_count_table(model: nn.Module, max_depth: int = 3) -> str:
    """An ASCII table of the parameter count of every module.

    Args:
        model (nn.Module): The model.
        max_depth (int): Levels of submodules shown below the model.
            Defaults to 3.

    Returns:
        str: Columns ``name`` and ``#elements or shape``; modules show their
        count (``0.11K``), parameters their shape (``(10, 10)``).

    Examples:
        >>> print(parameter_count_table(nn.Linear(10, 10)))
        +---------+--------------------+
        | name    | #elements or shape |
        +---------+--------------------+
        | model   | 0.11K              |
        |  weight | (10, 10)           |
        |  bias   | (10,)              |
        +---------+--------------------+
    """
    column = '#elements or shape'
    counts = parameter_count(model)
    params = dict(model.named_parameters())
    stats: Dict[str, Dict[str, str]] = {'': {column: format_size(0)}}
    for name, count in counts.items():
        text = (
            shape_str(params[name].shape)
            if name in params else format_size(count))
        stats[name] = {column: text}
    rows = stats_tree_rows(
        stats, [column], max_depth=max_depth, fast_forward=False)
    return render_ascii_table(['name', column], rows)
