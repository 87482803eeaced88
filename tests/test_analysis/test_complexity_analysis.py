# Copyright (c) OpenMMLab. All rights reserved.
"""FlopAnalyzer / ActivationAnalyzer / flop_count / parameter counting."""
from collections import Counter

import pytest
import torch
import torch.nn as nn

from mmengine.analysis import (ActivationAnalyzer, FlopAnalyzer,
                               activation_count, flop_count, parameter_count,
                               parameter_count_table)


class ConvBNFC(nn.Module):

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.up = nn.Upsample(scale_factor=2, mode='nearest')
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = self.up(torch.relu(self.bn(self.conv(x))))
        return self.fc(self.pool(x).flatten(1))


def test_single_conv_example():
    # EX-ANA-03: Conv2d(3, 10, 3) on (1, 3, 10, 10)
    conv, x = nn.Conv2d(3, 10, 3), torch.randn(1, 3, 10, 10)
    assert FlopAnalyzer(conv, x).total() == 10 * 8 * 8 * 3 * 3 * 3 == 17280
    assert ActivationAnalyzer(conv, x).total() == 640
    assert parameter_count(conv)[''] == 280


def test_flops_by_operator():
    model = ConvBNFC().eval()
    x = torch.rand(2, 3, 4, 4)
    flops = FlopAnalyzer(model, x)
    conv = 2 * 8 * 16 * 3 * 9
    assert flops.by_operator() == Counter(
        conv=conv,
        batch_norm=2 * (2 * 8 * 16),  # eval mode, affine
        upsample_nearest2d=2 * 8 * 64,  # one flop per output element
        adaptive_avg_pool2d=2 * 8 * 64,  # one flop per input element
        linear=2 * 8 * 5)
    assert flops.total('bn') == 2 * 2 * 8 * 16
    assert flops.unsupported_ops() == Counter()  # relu/flatten are free

    model.train()  # the current mode is analyzed: BN computes statistics
    assert FlopAnalyzer(model, x).by_operator()['batch_norm'] == 5 * 256

    # leave batch norm out (e.g. fused at inference)
    flops = FlopAnalyzer(model, x).set_op_handle('aten::batch_norm', None)
    assert 'batch_norm' not in flops.by_operator()


def test_activations():
    model = ConvBNFC()
    acts = ActivationAnalyzer(model, torch.rand(2, 3, 4, 4))
    acts.unsupported_ops_warnings(False)
    # conv and linear outputs only
    assert acts.by_operator() == Counter(conv=2 * 8 * 16, linear=2 * 5)
    assert acts.by_module()['bn'] == 0
    assert acts.unsupported_ops()['aten::batch_norm'] == 1


def test_flop_count_and_activation_count():
    model = ConvBNFC().eval()
    x = torch.rand(2, 3, 4, 4)
    gflops, skipped = flop_count(model, (x, ))
    assert gflops['linear'] == 80 / 1e9
    assert gflops['conv'] == 6912 / 1e9
    assert skipped == Counter()

    gflops, skipped = flop_count(
        model, (x, ), supported_ops={'aten::linear': lambda i, o: 1e9})
    assert gflops['linear'] == 1.0

    macts, skipped = activation_count(model, (x, ))
    assert macts == {'conv': 256 / 1e6, 'linear': 10 / 1e6}
    assert skipped['aten::batch_norm'] == 1


def test_parameter_count():
    model = ConvBNFC()
    counts = parameter_count(model)
    assert counts[''] == 3 * 8 * 9 + 8 + 16 + 8 * 5 + 5
    assert counts['conv'] == 224 and counts['conv.weight'] == 216
    assert counts['bn.bias'] == 8
    assert list(counts)[:4] == ['', 'conv', 'conv.weight', 'conv.bias']
    assert 'pool' not in counts
    with pytest.raises(TypeError, match='model should be an nn.Module'):
        parameter_count({'weight': torch.rand(2)})


def test_parameter_count_table():
    model = nn.Sequential(nn.Linear(10, 10), nn.Sequential(nn.Linear(10, 2)))
    table = parameter_count_table(model)
    lines = table.split('\n')
    assert [c.strip() for c in lines[1].split('|')] == [
        '', 'name', '#elements or shape', ''
    ]
    assert lines[0] == lines[2] == lines[-1]
    assert lines[0].startswith('+---') and lines[0].endswith('-+')
    assert len({len(line) for line in lines}) == 1  # aligned columns
    rows = [[c.rstrip() for c in line.split('|')[1:3]]
            for line in lines[3:-1]]
    assert rows == [
        [' model', ' 0.132K'],
        ['  0', ' 0.11K'],
        ['   0.weight', ' (10, 10)'],
        ['   0.bias', ' (10,)'],
        ['  1', ' 22'],
        ['   1.0', ' 22'],
        ['    1.0.weight', ' (2, 10)'],
        ['    1.0.bias', ' (2,)'],
    ]
    shallow = parameter_count_table(model, max_depth=1)
    assert '0.weight' not in shallow and '  1 ' in shallow
