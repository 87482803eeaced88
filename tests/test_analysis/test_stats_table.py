# Copyright (c) OpenMMLab. All rights reserved.
import pytest

from mmengine.analysis.stats_table import (format_size, render_ascii_table,
                                           stats_tree_rows)


@pytest.mark.parametrize('value, text', [
    (0, '0'), (40, '40'), (100, '100'), (101, '0.101K'), (400, '0.4K'),
    (440, '0.44K'), (1000, '1K'), (9408, '9.408K'), (128, '0.128K'),
    (100_001, '0.1M'), (25_557_032, '25.557M'), (4_144_854_528, '4.145G'),
    (2.5, '2.5'), (3e12, '3T'), (2e15, '2P'), (-5000, '-5K')
])
def test_format_size(value, text):
    assert format_size(value) == text


def test_format_size_options():
    # the architecture view uses 2 decimals
    assert format_size(25_557_032, sig_figs=2) == '25.56M'
    assert format_size(4_144_854_528, sig_figs=2) == '4.14G'
    assert format_size(1_003_520, sig_figs=2) == '1M'
    assert format_size(0, hide_zero=True) == ''
    assert format_size(7, hide_zero=True) == '7'


def test_tree_rows_order_depth_and_fast_forward():
    tree = {
        '': {'n': '9'},
        'net': {'n': '9'},
        'net.a': {'n': '5'},
        'net.a.w': {'n': '(5,)'},
        'net.b': {'n': '4'},
        'net.b.c': {'n': '4'},
        'net.b.c.d': {'n': '4'},
    }
    # the root and 'net' hold the same statistics: start at 'net'
    assert stats_tree_rows(tree, ['n']) == [
        ['net', '9'], [' a', '5'], ['  a.w', '(5,)'], [' b', '4'],
        ['  b.c', '4'], ['   b.c.d', '4']
    ]
    assert stats_tree_rows(tree, ['n'], max_depth=1, root_name='m',
                           fast_forward=False) == [['m', '9'], [' net', '9']]
    # a missing cell is empty
    assert stats_tree_rows({'': {}}, ['n', 'x']) == [['model', '', '']]
    with pytest.raises(KeyError, match='root entry'):
        stats_tree_rows({'a': {}}, ['n'])


def test_tree_rows_skip_missing_parents():
    # 'a.b' is absent: 'a.b.c' hangs under 'a'
    tree = {'': {'n': '3'}, 'x': {'n': '1'}, 'a': {'n': '2'},
            'a.b.c': {'n': '2'}}
    assert stats_tree_rows(tree, ['n']) == [['model', '3'], [' x', '1'],
                                            [' a', '2'], ['  a.b.c', '2']]


def test_render_ascii_table():
    table = render_ascii_table(['a', 'long header'], [['xyz', '1'],
                                                      [' y', '']],
                               title='T')
    assert table == '\n'.join([
        'T',
        '+-----+-------------+',
        '| a   | long header |',
        '+-----+-------------+',
        '| xyz | 1           |',
        '|  y  |             |',
        '+-----+-------------+',
    ])
    with pytest.raises(ValueError, match='has 1 cells but there are 2'):
        render_ascii_table(['a', 'b'], [['only one']])
