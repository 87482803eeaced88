"""Tests of the built-in Python writer used by Config.pretty_text/dump."""
import ast
import collections
import warnings

import pytest

from mmengine.config.formatter import format_config
from mmengine.config.lazy import LazyObject


def test_simple_assignments():
    assert format_config({'a': 1, 'b': 'x', 'c': None}) == \
        "a = 1\nb = 'x'\nc = None\n"
    assert format_config({}) == ''


def test_dict_styles():
    text = format_config({'a': {'b': 1, 'c': [1, (2, )]}, 'd': {'x.y': 1}})
    assert text == "a = dict(b=1, c=[1, (2,)])\nd = {'x.y': 1}\n"
    assert format_config({'e': {'class': 1}}) == "e = {'class': 1}\n"
    assert format_config({'f': {1: 'a'}}) == "f = {1: 'a'}\n"


def test_long_values_are_wrapped_deterministically():
    model = {
        'type': 'ResNet',
        'depth': 50,
        'init_cfg': {
            'type': 'Pretrained',
            'checkpoint': 'torchvision://resnet50' * 2
        },
        'out_indices': (0, 1, 2, 3),
    }
    text = format_config({'model': model})
    assert text == (
        'model = dict(\n'
        "    type='ResNet',\n"
        '    depth=50,\n'
        '    init_cfg=dict(\n'
        "        type='Pretrained',\n"
        "        checkpoint='torchvision://resnet50torchvision://resnet50',\n"
        '    ),\n'
        '    out_indices=(0, 1, 2, 3),\n'
        ')\n')
    assert all(len(line) <= 79 for line in text.splitlines())
    assert format_config({'model': model}) == text
    ast.parse(text)


def test_special_floats_and_sets():
    text = format_config({
        'a': float('inf'),
        'b': float('-inf'),
        'c': float('nan'),
        'd': {3, 1},
        'e': set()
    })
    ns = {}
    exec(text, ns)
    assert ns['a'] == float('inf') and ns['b'] == float('-inf')
    assert ns['c'] != ns['c'] and ns['d'] == {1, 3} and ns['e'] == set()


def test_lazy_objects_and_classes_get_imports():
    text = format_config({
        'a': LazyObject('torch.optim', 'SGD'),
        'b': LazyObject('numpy'),
        'c': LazyObject('numpy').linalg.norm,
        'd': collections.OrderedDict,
        'e': int,
        'SGD': 'key clashing with an imported name',
    })
    assert text.startswith('from torch.optim import SGD as SGD_1\n'
                           'import numpy\n'
                           'from collections import OrderedDict\n\n')
    assert 'a = SGD_1\n' in text and 'b = numpy\n' in text
    assert 'c = numpy.linalg.norm\n' in text
    assert 'd = OrderedDict\n' in text and 'e = int\n' in text


def test_unrepresentable_value_warns():
    with pytest.warns(UserWarning, match="key 'x' of type object"):
        text = format_config({'x': {'y': object()}})
    assert text.startswith("x = dict(y='<object object")


Point = collections.namedtuple('Point', 'x y')


def test_named_tuple_and_class_by_import_path():
    text = format_config({'p': Point(1, 2)})
    assert text == (f'from {__name__} import Point\n\np = Point(1, 2)\n')
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        format_config({'p': Point(1, 2)})


def test_wrapped_lines_fit_and_round_trip():
    import random
    rng = random.Random(0)

    def make(depth):
        if depth == 0 or rng.random() < 0.3:
            return rng.choice([1, 2.5, 'abc' * rng.randint(1, 6), None, True])
        kind = rng.choice(['dict', 'list', 'tuple'])
        items = [make(depth - 1) for _ in range(rng.randint(0, 6))]
        if kind == 'dict':
            return {f'key_{i}': v for i, v in enumerate(items)}
        return items if kind == 'list' else tuple(items)

    for _ in range(30):
        cfg = {f'top_{i}': make(5) for i in range(4)}
        text = format_config(cfg)
        assert max(len(line) for line in text.splitlines()) <= 79
        ns = {}
        exec(text, ns)
        assert {k: ns[k] for k in cfg} == cfg
        assert format_config(cfg) == text
