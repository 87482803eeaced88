# Copyright (c) OpenMMLab. All rights reserved.
"""Human-readable reports of model complexity (flops, activations,
parameters): an annotated model ``repr``, a per-module table and
:func:`get_model_complexity_info` which produces both."""
from typing import Any, Dict, Optional, Sequence, Set, Union

import torch
import torch.nn as nn

from .complexity_analysis import (ActivationAnalyzer, FlopAnalyzer,
                                  parameter_count)
from .stats_table import (format_size, render_ascii_table, shape_str,
                          stats_tree_rows)

__all__ = [
    'complexity_stats_str', 'complexity_stats_table',
    'get_model_complexity_info'
]

# Kept for code that imports the formatter from here.
_format_size = format_size


def _uncalled(flops: FlopAnalyzer,
              activations: Optional[ActivationAnalyzer]) -> Set[str]:
    uncalled = flops.uncalled_modules()
    if activations is not None:
        uncalled |= activations.uncalled_modules()
    return uncalled


def complexity_stats_str(flops: FlopAnalyzer,
                         activations: Optional[ActivationAnalyzer] = None
                         ) -> str:
    """The model's ``repr`` with the statistics of every module.

    Each module gets a ``#params: X, #flops: Y[, #acts: Z]`` line (values
    with 2 decimals, e.g. ``25.56M``); modules not called during the trace
    show ``N/A`` for flops and activations.

    Args:
        flops (FlopAnalyzer): Flop analysis of the model.
        activations (ActivationAnalyzer, optional): Activation analysis of
            the same model, to add the ``#acts`` statistic.

    Returns:
        str: The annotated model structure.

    Examples:
        >>> print(complexity_stats_str(FlopAnalyzer(net, x)))
        TestNet(
          #params: 0.44K, #flops: 0.4K
          (fc1): Linear(
            in_features=10, out_features=10, bias=True
            #params: 0.11K, #flops: 100
          )
          ...
    """
    model = flops.model
    params = parameter_count(model)
    flop_counts = flops.by_module()
    act_counts = activations.by_module() if activations is not None else None
    uncalled = _uncalled(flops, activations)

    def stats_line(name: str) -> str:
        name = flops.canonical_module_name(name)

        def count(counts: Dict[str, Any]) -> str:
            if name in uncalled:
                return 'N/A'
            return format_size(counts.get(name, 0), sig_figs=2)

        items = [f'#params: {format_size(params.get(name, 0), sig_figs=2)}',
                 f'#flops: {count(flop_counts)}']
        if act_counts is not None:
            items.append(f'#acts: {count(act_counts)}')
        return ', '.join(items)

    def indent(text: str) -> str:
        return text.replace('\n', '\n  ')

    def module_repr(module: nn.Module, name: str) -> str:
        # Same layout as nn.Module.__repr__, with one more line per module.
        extra = module.extra_repr()
        extra_lines = extra.split('\n') if extra else []
        extra_lines.append(stats_line(name))
        child_lines = []
        for key, child in module._modules.items():
            if child is None:
                child_lines.append(f'({key}): None')
                continue
            child_name = f'{name}.{key}' if name else key
            child_lines.append(
                f'({key}): ' + indent(module_repr(child, child_name)))
        lines = extra_lines + child_lines
        if len(lines) == 1:
            return f'{module._get_name()}({lines[0]})'
        return module._get_name() + '(\n  ' + '\n  '.join(lines) + '\n)'

    return module_repr(model, '')


def complexity_stats_table(flops: FlopAnalyzer,
                           max_depth: int = 3,
                           activations: Optional[ActivationAnalyzer] = None,
                           show_param_shapes: bool = True) -> str:
    """A per-module ASCII table of parameters, flops and activations.

    Rows follow the module tree (one leading space per level) down to
    ``max_depth`` levels below the root: modules in parameter-registration
    order, then modules that only have flops/activations. Parameters show
    their shape. Modules with no statistic at all are left out, and a root
    whose statistics all come from a single child starts the table at that
    child. Uncalled modules show ``N/A``.

    Args:
        flops (FlopAnalyzer): Flop analysis of the model.
        max_depth (int): Levels shown below the root. Defaults to 3.
        activations (ActivationAnalyzer, optional): Activation analysis of
            the same model, to add the ``#activations`` column.
        show_param_shapes (bool): Whether to list parameters with their
            shape. Defaults to True.

    Returns:
        str: The table, columns ``module | #parameters or shape | #flops``
        (``| #activations``).
    """
    model = flops.model
    params_col, flops_col, acts_col = ('#parameters or shape', '#flops',
                                       '#activations')
    columns = [params_col, flops_col]
    if activations is not None:
        columns.append(acts_col)

    params = parameter_count(model)
    param_tensors = dict(model.named_parameters())
    counts: Dict[str, Dict[str, Any]] = {flops_col: flops.by_module()}
    if activations is not None:
        counts[acts_col] = activations.by_module()
    uncalled = _uncalled(flops, activations)

    names: Dict[str, None] = {'': None}  # ordered set
    for source in [params, *counts.values()]:
        names.update(dict.fromkeys(source))

    stats: Dict[str, Dict[str, str]] = {}
    for name in names:
        if name in param_tensors:
            if show_param_shapes:
                shape = shape_str(param_tensors[name].shape)
                stats[name] = {params_col: shape}
            continue
        values = {col: counter.get(name, 0) for col, counter in counts.items()}
        n_params = params.get(name, 0)
        if name and n_params == 0 and not any(values.values()):
            continue  # nothing to tell about this module
        cells = {params_col: format_size(n_params)}
        for col, value in values.items():
            cells[col] = 'N/A' if name in uncalled else format_size(value)
        stats[name] = cells

    rows = stats_tree_rows(stats, columns, max_depth=max_depth)
    return render_ascii_table(['module', *columns], rows)


def _inputs_from_shape(model: nn.Module,
                       input_shape: Sequence) -> tuple:
    """Random batch-of-one inputs: ``(3, 224, 224)`` -> one tensor of shape
    ``(1, 3, 224, 224)``; a sequence of shapes -> one tensor per shape."""
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device('cpu')

    def is_shape(obj: Any) -> bool:
        return isinstance(obj, (tuple, list)) and all(
            isinstance(d, int) and not isinstance(d, bool) for d in obj)

    if is_shape(input_shape):
        shapes = [input_shape]
    elif isinstance(input_shape, (tuple, list)) and input_shape and all(
            is_shape(s) for s in input_shape):
        shapes = list(input_shape)
    else:
        raise ValueError(
            '"input_shape" should be a tuple of ints such as (3, 224, 224) '
            '(batch dimension excluded) or a tuple of such tuples for a '
            f'model with several inputs, but got {input_shape!r}')
    return tuple(torch.randn(1, *shape, device=device) for shape in shapes)


def get_model_complexity_info(
    model: nn.Module,
    input_shape: Optional[Sequence] = None,
    inputs: Union[torch.Tensor, tuple, None] = None,
    show_table: bool = True,
    show_arch: bool = True,
) -> Dict[str, Union[int, float, str]]:
    """Flops, activations and parameters of a model, with reports.

    The model is called as ``model(*inputs)`` in its current train/eval mode
    (for a ``BaseModel`` its ``forward`` default ``mode='tensor'`` applies).

    Args:
        model (nn.Module): The model to analyze.
        input_shape (tuple, optional): Shape of the input without the batch
            dimension, e.g. ``(3, 224, 224)``; a tensor of shape
            ``(1, *input_shape)`` is fed. A tuple of shapes feeds one tensor
            per shape.
        inputs (Tensor or tuple, optional): The inputs themselves; a tuple is
            unpacked as positional arguments. Exactly one of ``input_shape``
            and ``inputs`` must be given.
        show_table (bool): Whether to build ``out_table``. Defaults to True.
        show_arch (bool): Whether to build ``out_arch``. Defaults to True.

    Returns:
        dict: ``flops``, ``flops_str``, ``activations``, ``activations_str``,
        ``params``, ``params_str``, ``out_table`` and ``out_arch`` (``''``
        when not requested).

    Examples:
        >>> info = get_model_complexity_info(nn.Conv2d(3, 10, 3),
        ...                                  inputs=torch.randn(1, 3, 10, 10))
        >>> info['flops'], info['activations'], info['params']
        (17280, 640, 280)
    """
    if input_shape is None and inputs is None:
        raise ValueError('One of "input_shape" and "inputs" should be set.')
    if input_shape is not None and inputs is not None:
        raise ValueError('"input_shape" and "inputs" cannot be both set.')
    if inputs is None:
        inputs = _inputs_from_shape(model, input_shape)

    flop_handler = FlopAnalyzer(model, inputs)
    activation_handler = ActivationAnalyzer(model, inputs)
    # One trace (one forward pass) serves both analyses.
    activation_handler._share_trace(flop_handler)
    # The flop analysis already reports skipped operators, uncalled modules
    # and tracer problems; for activations they would only repeat them.
    activation_handler.unsupported_ops_warnings(False)
    activation_handler.uncalled_modules_warnings(False)
    activation_handler.tracer_warnings('none')

    flops = flop_handler.total()
    activations = activation_handler.total()
    params = parameter_count(model)['']

    out_table = complexity_stats_table(
        flop_handler, activations=activation_handler,
        show_param_shapes=True) if show_table else ''
    out_arch = complexity_stats_str(
        flop_handler, activations=activation_handler) if show_arch else ''

    return {
        'flops': flops,
        'flops_str': format_size(flops),
        'activations': activations,
        'activations_str': format_size(activations),
        'params': params,
        'params_str': format_size(params),
        'out_table': out_table,
        'out_arch': out_arch,
    }
