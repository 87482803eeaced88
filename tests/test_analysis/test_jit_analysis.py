# Copyright (c) OpenMMLab. All rights reserved.
"""JitModelAnalysis: module attribution, settings, warnings and errors."""
from collections import Counter
from unittest import mock

import pytest
import torch
import torch.nn as nn

from mmengine.analysis import FlopAnalyzer, JitModelAnalysis
from mmengine.analysis.jit_handles import linear_flop_jit


class Block(nn.Module):

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.act = nn.Sigmoid()

    def forward(self, x):
        return self.act(self.fc(x))


class Net(nn.Module):
    """A shared block called twice, a block called through .forward() and
    one never called."""

    def __init__(self):
        super().__init__()
        self.block = Block()
        self.shared = self.block  # same module under a second name
        self.direct = nn.Linear(4, 4)
        self.unused = nn.Linear(4, 4)
        self.blocks = nn.ModuleList([nn.Linear(4, 4)])

    def forward(self, x):
        x = self.shared(self.block(x))
        x = self.direct.forward(x)  # hooks of `direct` do not run
        return self.blocks[0](x)


FC = 2 * 4 * 4  # flops of one Linear(4, 4) on a (2, 4) input


def analyze(model=None):
    analyzer = FlopAnalyzer(model or Net(), torch.rand(2, 4))
    analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return analyzer


def test_module_attribution():
    flops = analyze()
    assert flops.total() == 4 * FC
    # the shared module is reported under its first name, both calls
    assert flops.total('block') == 2 * FC
    assert flops.total('shared') == 2 * FC
    assert flops.canonical_module_name('shared.fc') == 'block.fc'
    # a direct .forward() call counts for the caller only
    assert flops.total('direct') == 0
    assert flops.total('blocks') == FC
    assert flops.by_operator() == Counter(linear=4 * FC)
    by_module = flops.by_module()
    assert by_module[''] == 4 * FC and by_module['block.fc'] == 2 * FC
    assert 'shared' not in by_module  # only canonical names
    assert flops.by_module_and_operator()['blocks.0'] == Counter(linear=FC)
    assert flops.unsupported_ops() == Counter({'aten::sigmoid': 2})
    assert flops.unsupported_ops('block') == Counter({'aten::sigmoid': 2})
    assert flops.unsupported_ops('blocks') == Counter()
    assert flops.uncalled_modules() == {'direct', 'unused'}


def test_ancestor_mode_caller():
    flops = analyze().ancestor_mode('caller')
    # same as owner mode for regular calls
    assert flops.total('block') == 2 * FC
    assert flops.total() == 4 * FC
    assert flops.total('direct') == 0
    with pytest.raises(ValueError, match='ancestor_mode must be one of'):
        flops.ancestor_mode('parent')


def test_unknown_module_name():
    with pytest.raises(KeyError, match='"nope" is not a submodule'):
        analyze().total('nope')


def test_set_op_handle():
    flops = analyze()
    flops.set_op_handle('aten::sigmoid', lambda inputs, outputs: 1)
    assert flops.by_operator() == Counter(linear=4 * FC, sigmoid=2)
    # None ignores the op: neither counted nor reported
    flops.set_op_handle(**{'aten::sigmoid': None})
    assert flops.by_operator() == Counter(linear=4 * FC)
    assert flops.unsupported_ops() == Counter()
    # handles may return a Counter with their own names
    flops.set_op_handle('aten::linear',
                        lambda i, o: Counter(fc=linear_flop_jit(i, o)))
    assert flops.by_operator() == Counter(fc=4 * FC)
    assert flops.clear_op_handles().total() == 0
    assert flops.unsupported_ops()['aten::linear'] == 4

    with pytest.raises(TypeError, match='odd number'):
        flops.set_op_handle('aten::linear')
    with pytest.raises(TypeError, match='must be callable or None'):
        flops.set_op_handle('aten::linear', 3)
    with pytest.raises(TypeError, match='operator names must be str'):
        flops.set_op_handle(3, linear_flop_jit)


def test_bad_handle_result():
    flops = analyze().set_op_handle('aten::linear', lambda i, o: 'many')
    with pytest.raises(TypeError, match='"aten::linear" must return a number'):
        flops.total()
    flops = analyze().set_op_handle('aten::linear',
                                    lambda i, o: Counter(fc='x'))
    with pytest.raises(TypeError, match='non-numeric count'):
        flops.total()


def test_constructor_errors():
    with pytest.raises(TypeError, match='model should be an nn.Module'):
        JitModelAnalysis(lambda x: x, torch.rand(1))
    with pytest.raises(ValueError, match='tracer_warnings mode must be'):
        analyze().tracer_warnings('some')


def test_trace_failure_keeps_type_and_names_model_and_inputs():
    # The model's own error comes through with its type and traceback, plus
    # a note naming the model class and the input shapes.

    class TwoInputs(Block):

        def forward(self, x, extra):
            return self.fc(x) + extra[0]

    model = TwoInputs().eval()
    analyzer = FlopAnalyzer(model, (torch.rand(2, 3), [torch.rand(1)]))
    with pytest.raises(RuntimeError, match='cannot be multiplied') as info:
        analyzer.total()
    assert info.value.__notes__ == [
        '(while tracing TwoInputs for complexity analysis, called as '
        'model(*inputs) with inputs (Tensor(2, 3), list[Tensor(1,)]), in '
        'eval mode)'
    ]
    # the failed trace left no hooks behind
    assert not model.fc._forward_hooks and not model.fc._forward_pre_hooks


def test_uncalled_containers_not_warned():
    model = Block()
    model.spare = nn.ModuleList([nn.ModuleDict()])  # never called
    flops = FlopAnalyzer(model, torch.rand(2, 4))
    flops.unsupported_ops_warnings(False)
    with mock.patch('mmengine.analysis.jit_analysis.print_log') as log:
        assert flops.total() == FC
    log.assert_not_called()
    assert flops.uncalled_modules() == {'spare', 'spare.0'}


def test_warnings():
    flops = FlopAnalyzer(Net(), torch.rand(2, 4))
    with mock.patch('mmengine.analysis.jit_analysis.print_log') as log:
        flops.total()
        flops.total()  # statistics are cached: warned once
    messages = [c.args[0] for c in log.call_args_list]
    assert messages[0] == ('Unsupported operator aten::sigmoid encountered '
                           '2 time(s)')
    assert 'never called' in messages[1]
    assert messages[1].endswith('\ndirect, unused')
    assert len(messages) == 2

    with mock.patch('mmengine.analysis.jit_analysis.print_log') as log:
        analyze().total()
    log.assert_not_called()


def test_copy_keeps_settings():
    flops = analyze().set_op_handle('aten::sigmoid', lambda i, o: 1)
    flops.ancestor_mode('caller')
    other = flops.copy(new_inputs=(torch.rand(3, 4), ))
    assert type(other) is FlopAnalyzer
    assert other.by_operator() == Counter(linear=4 * 3 * 16, sigmoid=2)
    assert other._ancestor_mode == 'caller'
    assert flops.copy(new_model=nn.Linear(4, 4)).total() == FC


def test_trace_keeps_buffers():
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4)).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    flops = FlopAnalyzer(model, torch.rand(8, 4))
    # training-mode BatchNorm: 5 flops per element (affine)
    assert flops.by_operator() == Counter(linear=8 * 16, batch_norm=5 * 32)
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_autograd_function_and_scalar_input():

    class Double(torch.autograd.Function):

        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    class Model(nn.Module):

        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x, scale):
            return Double.apply(self.fc(x)) * scale

    flops = FlopAnalyzer(Model(), (torch.rand(2, 4), 0.5))
    flops.unsupported_ops_warnings(False)
    assert flops.unsupported_ops()['prim::PythonOp.Double'] == 1
    flops.set_op_handle('prim::PythonOp.Double', lambda i, o: 8)
    assert flops.by_operator() == Counter({'linear': FC,
                                           'PythonOp.Double': 8})


def test_data_parallel_names():
    model = nn.DataParallel(Block())
    flops = analyze(model)
    assert flops.total() == FC
    assert flops.total('module.fc') == FC
    assert flops.by_module()['module'] == FC
    assert flops.uncalled_modules() == set()
