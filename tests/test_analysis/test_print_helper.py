# Copyright (c) OpenMMLab. All rights reserved.
"""get_model_complexity_info and its reports (spec examples EX-ANA-01..03)."""
import pytest
import torch
import torch.nn as nn

from mmengine.analysis import (ActivationAnalyzer, FlopAnalyzer,
                               complexity_stats_str, complexity_stats_table,
                               get_model_complexity_info)
from mmengine.model import BaseModel


class InnerNet(nn.Module):

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 10)
        self.fc2 = nn.Linear(10, 10)

    def forward(self, x):
        return self.fc1(self.fc2(x))


class TestNet(nn.Module):
    __test__ = False  # not a pytest class

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 10)
        self.fc2 = nn.Linear(10, 10)
        self.inner = InnerNet()

    def forward(self, x):
        return self.inner(self.fc2(self.fc1(x)))


def table_rows(table):
    """Rows of an ASCII table as lists of stripped cells (body only)."""
    return [[cell.strip() for cell in line.split('|')[1:-1]]
            for line in table.split('\n')[3:-1]]


def test_testnet_example():
    # EX-ANA-01
    info = get_model_complexity_info(TestNet(), input_shape=(1, 10))
    assert info['flops'] == 400 and info['flops_str'] == '0.4K'
    assert info['params'] == 440 and info['params_str'] == '0.44K'
    assert info['activations'] == 40 and info['activations_str'] == '40'

    header = info['out_table'].split('\n')[1]
    assert [c.strip() for c in header.split('|')[1:-1]] == [
        'module', '#parameters or shape', '#flops', '#activations'
    ]
    rows = table_rows(info['out_table'])
    assert rows[:4] == [['model', '0.44K', '0.4K', '40'],
                        ['fc1', '0.11K', '100', '10'],
                        ['fc1.weight', '(10, 10)', '', ''],
                        ['fc1.bias', '(10,)', '', '']]
    assert rows[7] == ['inner', '0.22K', '0.2K', '20']
    assert rows[8] == ['inner.fc1', '0.11K', '100', '10']
    assert len(rows) == 14
    # one leading space per depth level
    body = info['out_table'].split('\n')[3:-1]
    assert body[0].startswith('| model ')
    assert body[1].startswith('|  fc1 ')
    assert body[9].startswith('|    inner.fc1.weight ')

    arch = info['out_arch'].split('\n')
    assert arch[:6] == [
        'TestNet(',
        '  #params: 0.44K, #flops: 0.4K, #acts: 40',
        '  (fc1): Linear(',
        '    in_features=10, out_features=10, bias=True',
        '    #params: 0.11K, #flops: 100, #acts: 10',
        '  )',
    ]
    assert '  (inner): InnerNet(' in arch
    assert arch[-1] == ')'


def test_single_conv_example():
    # EX-ANA-03
    info = get_model_complexity_info(
        nn.Conv2d(3, 10, 3), inputs=torch.randn(1, 3, 10, 10))
    assert (info['flops'], info['activations'], info['params']) == (17280,
                                                                    640, 280)
    assert info['flops_str'] == '17.28K'


def test_options_and_input_shapes():
    info = get_model_complexity_info(
        TestNet(), input_shape=[1, 10], show_table=False, show_arch=False)
    assert info['out_table'] == '' and info['out_arch'] == ''
    assert info['flops'] == 400

    class TwoInputs(nn.Module):

        def __init__(self):
            super().__init__()
            self.a = nn.Linear(5, 6)
            self.b = nn.Linear(7, 6)

        def forward(self, x, y):
            return self.a(x) + self.b(y)

    info = get_model_complexity_info(
        TwoInputs(), input_shape=((2, 5), (2, 7)), show_arch=False)
    assert info['flops'] == 2 * 5 * 6 + 2 * 7 * 6


def test_errors():
    with pytest.raises(ValueError, match='should be set'):
        get_model_complexity_info(TestNet())
    with pytest.raises(ValueError, match='cannot be both set'):
        get_model_complexity_info(
            TestNet(), input_shape=(1, 10), inputs=torch.rand(1, 10))
    with pytest.raises(ValueError, match='"input_shape" should be a tuple'):
        get_model_complexity_info(TestNet(), input_shape='1x10')
    with pytest.raises(ValueError, match='"input_shape" should be a tuple'):
        get_model_complexity_info(TestNet(), input_shape=((1, 10), 3))


def test_uncalled_and_untouched_modules():

    class Model(nn.Module):

        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.spare = nn.Linear(4, 4)  # has params but is never called
            self.idle = nn.Identity()  # no params, never called

        def forward(self, x):
            return self.fc(x)

    x = torch.rand(1, 4)
    flops, acts = FlopAnalyzer(Model(), x), ActivationAnalyzer(Model(), x)
    flops.uncalled_modules_warnings(False)
    arch = complexity_stats_str(flops)
    assert '(idle): Identity(#params: 0, #flops: N/A)' in arch
    assert '#params: 20, #flops: N/A' in arch

    rows = table_rows(complexity_stats_table(flops, show_param_shapes=False))
    # 'idle' has nothing to show; 'spare' keeps its parameters
    assert rows == [['model', '40', '16'], ['fc', '20', '16'],
                    ['spare', '20', 'N/A']]
    acts.uncalled_modules_warnings(False)
    acts.unsupported_ops_warnings(False)
    rows = table_rows(complexity_stats_table(flops, activations=acts))
    assert rows[0] == ['model', '40', '16', '4']
    assert ['spare', '20', 'N/A', 'N/A'] in rows


# A standard ResNet-50 (bottleneck blocks 3-4-6-3), written with plain
# torch.nn so the test does not depend on torchvision.
class Bottleneck(nn.Module):

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet50(nn.Module):

    def __init__(self):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(64, 3)
        self.layer2 = self._make_layer(128, 4, 2)
        self.layer3 = self._make_layer(256, 6, 2)
        self.layer4 = self._make_layer(512, 3, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(2048, 1000)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * 4:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * 4, 1, stride, bias=False),
                nn.BatchNorm2d(planes * 4))
        layers = [Bottleneck(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * 4
        layers += [
            Bottleneck(self.inplanes, planes) for _ in range(blocks - 1)
        ]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class MMResNet50(BaseModel):

    def __init__(self):
        super().__init__()
        self.resnet = ResNet50()

    def forward(self, imgs, labels=None, mode='tensor'):
        return self.resnet(imgs)


def test_resnet50_example():
    # EX-ANA-02 (the only full-size trace of this suite; no_grad only makes
    # the forward pass cheaper, BatchNorm still runs in training mode)
    with torch.no_grad():
        info = get_model_complexity_info(
            MMResNet50(), input_shape=(3, 224, 224))
    assert info['flops_str'] == '4.145G'
    assert info['params_str'] == '25.557M'
    assert info['activations_str'] == '11.115M'

    rows = table_rows(info['out_table'])
    # the root fast-forwards to its only child and names drop 'resnet.'
    assert rows[0] == ['resnet', '25.557M', '4.145G', '11.115M']
    assert ['conv1', '9.408K', '0.118G', '0.803M'] in rows
    assert ['bn1', '0.128K', '4.014M', '0'] in rows
    assert ['layer1.0.conv1', '4.096K', '12.845M', '0.201M'] in rows
    names = [line.split('|')[1][1:].rstrip()
             for line in info['out_table'].split('\n')[3:-1]]
    top_level = [
        n[1:] for n in names if n.startswith(' ') and not n.startswith('  ')
    ]
    assert top_level == ['conv1', 'bn1', 'layer1', 'layer2', 'layer3',
                         'layer4', 'fc', 'avgpool']
    assert ['fc', '2.049M', '2.048M', '1K'] in rows
    assert ['avgpool', '0', '0.1M', '0'] in rows

    arch = info['out_arch']
    assert arch.startswith('MMResNet50(\n'
                           '  #params: 25.56M, #flops: 4.14G, #acts: 11.11M')
    assert ('(data_preprocessor): BaseDataPreprocessor(#params: 0, '
            '#flops: N/A, #acts: N/A)') in arch
