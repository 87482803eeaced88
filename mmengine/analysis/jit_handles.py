# Copyright (c) OpenMMLab. All rights reserved.
"""Per-operator handles that count flops and activations of a traced graph.

A *handle* receives the input and output values (``torch._C.Value``) of one
node of a ``torch.jit`` trace graph and returns either a number (attributed
to the operator's short name, e.g. ``aten::linear`` -> ``linear``) or a
``Counter`` mapping names to numbers. One fused multiply-add counts as one
flop.

The tables that map operator names to handles live in
:mod:`mmengine.analysis.complexity_analysis`; add your own with
``JitModelAnalysis.set_op_handle``.
"""
import typing
from collections import Counter
from numbers import Number
from typing import Any, Callable, List, Optional, Union

__all__ = [
    'Handle', 'get_shape', 'generic_activation_jit', 'addmm_flop_jit',
    'linear_flop_jit', 'bmm_flop_jit', 'matmul_flop_jit', 'conv_flop_count',
    'conv_flop_jit', 'einsum_flop_jit', 'norm_flop_counter',
    'batchnorm_flop_jit', 'elementwise_flop_counter',
    'scaled_dot_product_attention_flop_jit'
]

Handle = Callable[[List[Any], List[Any]], Union[typing.Counter[str], Number]]


def _prod(shape: typing.Iterable[int]) -> int:
    result = 1
    for dim in shape:
        result *= dim
    return result


def get_shape(val: Any) -> Optional[List[int]]:
    """Return the static shape of a traced value.

    Args:
        val (torch._C.Value): A value of a trace graph.

    Returns:
        list[int] or None: The shape when ``val`` is a tensor of known shape,
        otherwise ``None`` (e.g. an optional argument passed as ``None``).
    """
    if val.isCompleteTensor():
        return val.type().sizes()
    return None


def _required_shape(val: Any, op: str, what: str) -> List[int]:
    """Shape of ``val``; a clear error when the trace lost it."""
    shape = get_shape(val)
    if shape is None:
        raise ValueError(
            f'Cannot count {op}: the shape of its {what} is unknown in the '
            f'traced graph (got type {val.type()}). Trace the model with '
            'concrete tensor inputs or set a custom handle for this op.')
    return shape


def _constant(val: Any) -> Any:
    """Python value of a constant input (``prim::Constant``)."""
    return val.toIValue()


def generic_activation_jit(op_name: Optional[str] = None) -> Handle:
    """Build a handle counting the output elements of an operator.

    Args:
        op_name (str, optional): Name to report the count under. Defaults to
            None, which reports it under the operator's own short name.

    Returns:
        Handle: The activation counting handle.
    """

    def _activation_jit(inputs: List[Any],
                        outputs: List[Any]) -> Union[typing.Counter[str], int]:
        out_shape = _required_shape(outputs[0], op_name or 'activations',
                                    'output')
        count = _prod(out_shape)
        if op_name is None:
            return count
        return Counter({op_name: count})

    return _activation_jit


def addmm_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """Flops of ``aten::addmm(bias, x, w)``: ``N x in x out``."""
    x_shape = _required_shape(inputs[1], 'addmm', 'first matrix')
    w_shape = _required_shape(inputs[2], 'addmm', 'second matrix')
    if len(x_shape) != 2 or len(w_shape) != 2:
        raise ValueError('addmm expects two 2-D matrices, got shapes '
                         f'{x_shape} and {w_shape}')
    return x_shape[0] * x_shape[1] * w_shape[1]


def linear_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """Flops of ``aten::linear(x, w, b)``: ``x.numel() x out_features``."""
    x_shape = _required_shape(inputs[0], 'linear', 'input')
    w_shape = _required_shape(inputs[1], 'linear', 'weight')
    # weight is (out_features, in_features), or (in_features,) for a
    # vector-valued linear map.
    out_features = w_shape[0] if len(w_shape) == 2 else 1
    return _prod(x_shape) * out_features


def bmm_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """Flops of a batched matmul ``(n, c, t) @ (n, t, p)``: ``n x c x t x p``.

    Also used for ``aten::baddbmm(self, batch1, batch2)`` whose matrices are
    the last two tensor inputs.
    """
    tensors = [v for v in inputs if get_shape(v) is not None]
    x_shape, y_shape = tensors[-2].type().sizes(), tensors[-1].type().sizes()
    if len(x_shape) != 3 or len(y_shape) != 3:
        raise ValueError('bmm expects two 3-D tensors, got shapes '
                         f'{x_shape} and {y_shape}')
    n, c, t = x_shape
    return n * c * t * y_shape[2]


def matmul_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """Flops of ``aten::matmul``/``aten::mm`` with broadcasting.

    Every output element is a dot product over the last dimension of the
    first operand, so flops = ``output.numel() x x.shape[-1]``.
    """
    x_shape = _required_shape(inputs[0], 'matmul', 'first operand')
    y_shape = _required_shape(inputs[1], 'matmul', 'second operand')
    out_shape = _required_shape(outputs[0], 'matmul', 'output')
    contracted = y_shape[0] if len(y_shape) == 1 else y_shape[-2]
    if x_shape[-1] != contracted:
        raise ValueError('matmul operands do not match: shapes '
                         f'{x_shape} and {y_shape}')
    return _prod(out_shape) * x_shape[-1]


def conv_flop_count(x_shape: List[int],
                    w_shape: List[int],
                    out_shape: List[int],
                    transposed: bool = False) -> int:
    """Flops of a (transposed) convolution.

    Args:
        x_shape (list[int]): Input shape ``(N, C_in, *spatial)``.
        w_shape (list[int]): Weight shape, ``(C_out, C_in/groups, *kernel)``
            or ``(C_in, C_out/groups, *kernel)`` when transposed.
        out_shape (list[int]): Output shape ``(N, C_out, *spatial)``.
        transposed (bool): Whether it is a transposed convolution, whose
            kernel is applied once per *input* position.

    Returns:
        int: ``N x prod(w_shape) x prod(spatial positions)``.
    """
    batch_size = x_shape[0]
    positions = (x_shape if transposed else out_shape)[2:]
    return batch_size * _prod(w_shape) * _prod(positions)


def conv_flop_jit(inputs: List[Any],
                  outputs: List[Any]) -> typing.Counter[str]:
    """Flops of ``aten::_convolution`` and ``aten::conv*d`` nodes.

    Reported under the name ``conv`` whatever the dimension.
    """
    kind = outputs[0].node().kind()
    if kind == 'aten::_convolution':
        # (input, weight, bias, stride, padding, dilation, transposed, ...)
        transposed = bool(_constant(inputs[6]))
    else:
        transposed = 'transpose' in kind
    x_shape = _required_shape(inputs[0], 'conv', 'input')
    w_shape = _required_shape(inputs[1], 'conv', 'weight')
    out_shape = _required_shape(outputs[0], 'conv', 'output')
    return Counter(
        {'conv': conv_flop_count(x_shape, w_shape, out_shape, transposed)})


def _parse_einsum(equation: str, shapes: List[List[int]]):
    """Split an einsum equation into operand/output letters.

    Ellipses are expanded into fresh symbols (outside the equation's
    alphabet) so that every dimension has a single-character name.
    """
    equation = equation.replace(' ', '')
    if '->' in equation:
        lhs, rhs = equation.split('->')
    else:
        lhs, rhs = equation, None
    operands = lhs.split(',')
    if len(operands) != len(shapes):
        raise ValueError(f'einsum equation "{equation}" names '
                         f'{len(operands)} operands but got {len(shapes)}')
    n_ell = max((len(shape) - (len(term) - 3)
                 for term, shape in zip(operands, shapes) if '...' in term),
                default=0)
    used = set(equation)
    spare = (chr(c) for c in range(0x100, 0x10000) if chr(c) not in used)
    ellipsis_letters = ''.join(next(spare) for _ in range(n_ell))
    expanded = []
    for term, shape in zip(operands, shapes):
        if '...' in term:
            # broadcast dimensions are aligned to the right
            own = len(shape) - (len(term) - 3)
            term = term.replace('...', ellipsis_letters[n_ell - own:])
        if len(term) != len(shape):
            raise ValueError(f'einsum operand "{term}" does not match a '
                             f'tensor of shape {shape}')
        expanded.append(term)
    if rhs is None:
        counts = Counter(''.join(expanded))
        rhs = ''.join(ellipsis_letters) + ''.join(
            sorted(k for k, v in counts.items()
                   if v == 1 and k not in ellipsis_letters))
    else:
        rhs = rhs.replace('...', ''.join(ellipsis_letters))
    return expanded, rhs


def einsum_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """Flops of ``aten::einsum``.

    Operands are contracted pairwise from left to right (as ``torch.einsum``
    does without an optimizer); each pairwise step costs the product of the
    sizes of all indices involved. A single operand costs its element count
    (a reduction or permutation).
    """
    equation = _constant(inputs[0])
    tensors = list(inputs[1].node().inputs())
    shapes = [_required_shape(t, 'einsum', 'operand') for t in tensors]
    terms, out_term = _parse_einsum(equation, shapes)
    sizes = {}
    for term, shape in zip(terms, shapes):
        for letter, dim in zip(term, shape):
            sizes[letter] = max(sizes.get(letter, 1), dim)
    if len(terms) == 1:
        return _prod(shapes[0])
    flops = 0
    current = terms[0]
    for i in range(1, len(terms)):
        other = terms[i]
        involved = set(current) | set(other)
        flops += _prod(sizes[letter] for letter in involved)
        # Keep indices still needed by the output or a later operand.
        later = set(out_term).union(*terms[i + 1:])
        current = ''.join(sorted(letter for letter in involved
                                 if letter in later))
    return flops


def norm_flop_counter(affine_arg_index: int) -> Handle:
    """Build a handle for normalisation ops that compute input statistics.

    Computing mean and variance and normalising cost 4 flops per element;
    an affine transform (weight given) adds 1.

    Args:
        affine_arg_index (int): Index of the ``weight`` input; the op is
            affine when that input is a tensor.

    Returns:
        Handle: The flop counting handle.
    """

    def _norm_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
        input_shape = _required_shape(inputs[0], 'normalization', 'input')
        has_affine = get_shape(inputs[affine_arg_index]) is not None
        return _prod(input_shape) * (5 if has_affine else 4)

    return _norm_flop_jit


def batchnorm_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """Flops of ``aten::batch_norm``.

    In training mode statistics are computed (see
    :func:`norm_flop_counter`); in eval mode running statistics are applied:
    1 flop per element, plus 1 for the affine transform.
    """
    training = _constant(inputs[5])
    if not isinstance(training, bool):
        raise ValueError('batch_norm: the "training" argument must be a '
                         f'constant bool in the traced graph, got {training}')
    if training:
        return norm_flop_counter(1)(inputs, outputs)  # type: ignore
    input_shape = _required_shape(inputs[0], 'batch_norm', 'input')
    has_affine = get_shape(inputs[1]) is not None
    return _prod(input_shape) * (2 if has_affine else 1)


def elementwise_flop_counter(input_scale: float = 1,
                             output_scale: float = 0) -> Handle:
    """Build a handle whose cost is linear in input and output sizes.

    Args:
        input_scale (float): Flops per input element. Defaults to 1.
        output_scale (float): Flops per output element. Defaults to 0.

    Returns:
        Handle: The flop counting handle.
    """

    def _elementwise_flop(inputs: List[Any], outputs: List[Any]) -> Number:
        flops: Number = 0
        if input_scale != 0:
            shape = _required_shape(inputs[0], 'elementwise op', 'input')
            flops += input_scale * _prod(shape)
        if output_scale != 0:
            shape = _required_shape(outputs[0], 'elementwise op', 'output')
            flops += output_scale * _prod(shape)
        return flops

    return _elementwise_flop


def scaled_dot_product_attention_flop_jit(inputs: List[Any],
                                          outputs: List[Any]) -> int:
    """Flops of ``aten::scaled_dot_product_attention(q, k, v, ...)``.

    Two batched matmuls: ``q @ k^T`` (``L x S x E`` per batch) and
    ``attn @ v`` (``L x S x Ev`` per batch); softmax is not counted.
    """
    q_shape = _required_shape(inputs[0], 'attention', 'query')
    k_shape = _required_shape(inputs[1], 'attention', 'key')
    v_shape = _required_shape(inputs[2], 'attention', 'value')
    *batch, length, embed = q_shape
    source = k_shape[-2]
    return _prod(batch) * length * source * (embed + v_shape[-1])
