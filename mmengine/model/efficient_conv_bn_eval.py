"""Efficient conv + BN in eval mode.

When a BatchNorm in eval mode directly follows a convolution, both are
affine in the conv weights, so ``bn(conv(x))`` equals one convolution with
weights and bias rescaled on the fly. Computing it that way saves the
memory of the intermediate activation (useful when fine-tuning with frozen
BN, e.g. detection backbones) while gradients still reach the conv weights.
The pairs are found by tracing the model with ``torch.fx``.
"""
from operator import attrgetter
from typing import List, Union

import torch
import torch.nn as nn

__all__ = [
    'efficient_conv_bn_eval_forward', 'efficient_conv_bn_eval_control',
    'efficient_conv_bn_eval_graph_transform',
    'turn_on_efficient_conv_bn_eval_for_single_model',
    'turn_on_efficient_conv_bn_eval'
]


def efficient_conv_bn_eval_forward(bn: nn.modules.batchnorm._BatchNorm,
                                   conv: nn.modules.conv._ConvNd,
                                   x: torch.Tensor) -> torch.Tensor:
    """Compute ``bn(conv(x))`` (``bn`` in eval mode) as one convolution.

    Args:
        bn (_BatchNorm): The BN layer, using its running statistics.
        conv (_ConvNd): The convolution.
        x (Tensor): The conv input.

    Returns:
        Tensor: Same result as ``bn(conv(x))``.
    """
    running_var = bn.running_var
    conv_bias = conv.bias if conv.bias is not None else torch.zeros_like(
        running_var)
    bn_weight = bn.weight if bn.weight is not None else torch.ones_like(
        running_var)
    bn_bias = bn.bias if bn.bias is not None else torch.zeros_like(
        running_var)
    # scale per output channel, shaped to broadcast over the conv weight:
    # [C_out, 1, 1, 1] for Conv2d.
    shape = [-1] + [1] * (conv.weight.dim() - 1)
    if isinstance(conv, nn.modules.conv._ConvTransposeNd):
        # transposed conv weights are [C_in, C_out / groups, ...].
        raise TypeError('efficient_conv_bn_eval does not support transposed'
                        f' convolutions ({type(conv).__name__})')
    scale = bn_weight * torch.rsqrt(running_var + bn.eps)
    weight = conv.weight * scale.reshape(shape)
    bias = bn_bias + scale * (conv_bias - bn.running_mean)
    return conv._conv_forward(x, weight, bias)


def efficient_conv_bn_eval_control(bn: nn.modules.batchnorm._BatchNorm,
                                   conv: nn.modules.conv._ConvNd,
                                   x: torch.Tensor) -> torch.Tensor:
    """Use the fused path when ``bn`` is in eval mode with running stats,
    otherwise the ordinary ``bn(conv(x))``."""
    if not bn.training and bn.track_running_stats and \
            bn.running_var is not None:
        return efficient_conv_bn_eval_forward(bn, conv, x)
    return bn(conv(x))


def efficient_conv_bn_eval_graph_transform(fx_model) -> None:
    """Replace, in place, every conv -> BN pair of an ``fx.GraphModule``
    whose conv output feeds only that BN by one
    :func:`efficient_conv_bn_eval_control` call."""
    import torch.fx
    modules = dict(fx_model.named_modules())
    graph = fx_model.graph
    pairs = []
    for node in graph.nodes:
        if node.op != 'call_module' or not isinstance(
                modules.get(node.target), nn.modules.batchnorm._BatchNorm):
            continue
        if not node.args:
            continue
        src = node.args[0]
        if not isinstance(src, torch.fx.Node) or src.op != 'call_module':
            continue
        conv = modules.get(src.target)
        if not isinstance(conv, nn.modules.conv._ConvNd) or isinstance(
                conv, nn.modules.conv._ConvTransposeNd):
            continue
        if len(src.users) > 1:
            # the conv output is needed elsewhere: it must be computed.
            continue
        pairs.append((src, node))

    for conv_node, bn_node in pairs:
        with graph.inserting_before(conv_node):
            conv_get = graph.create_node(
                op='get_attr', target=conv_node.target, name='get_conv')
            bn_get = graph.create_node(
                op='get_attr', target=bn_node.target, name='get_bn')
            fused = graph.create_node(
                op='call_function',
                target=efficient_conv_bn_eval_control,
                args=(bn_get, conv_get, conv_node.args[0]),
                name='efficient_conv_bn_eval')
        bn_node.replace_all_uses_with(fused)
        # bn uses conv's output, so erase bn first.
        graph.erase_node(bn_node)
        graph.erase_node(conv_node)
    graph.lint()
    fx_model.recompile()


def turn_on_efficient_conv_bn_eval_for_single_model(model: nn.Module) -> None:
    """Trace ``model`` with ``torch.fx`` and make its ``forward`` use the
    efficient conv-BN path (the module keeps its parameters)."""
    import torch.fx as fx
    fx_model = fx.symbolic_trace(model)
    efficient_conv_bn_eval_graph_transform(fx_model)
    model.forward = fx_model.forward


def turn_on_efficient_conv_bn_eval(model: nn.Module,
                                   modules: Union[List[str], str]) -> None:
    """Turn on efficient conv-BN eval for the named sub-modules of ``model``.

    Args:
        model (nn.Module): The model.
        modules (str | list[str]): Dotted names of sub-modules to trace,
            e.g. ``'backbone'``.

    Raises:
        AttributeError: If a name does not exist in ``model``.
    """
    if isinstance(modules, str):
        modules = [modules]
    for name in modules:
        try:
            module = attrgetter(name)(model)
        except AttributeError as e:
            raise AttributeError(
                f'turn_on_efficient_conv_bn_eval: {type(model).__name__} has '
                f'no sub-module {name!r}') from e
        turn_on_efficient_conv_bn_eval_for_single_model(module)
