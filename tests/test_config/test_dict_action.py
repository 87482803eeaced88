"""Tests of mmengine.config.DictAction (``--cfg-options``)."""
import argparse

import pytest

from mmengine.config import Config, DictAction


@pytest.fixture
def parser():
    p = argparse.ArgumentParser()
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p


def parse(parser, *tokens):
    return parser.parse_args(['--cfg-options', *tokens]).cfg_options


def test_absent_option_is_none(parser):
    assert parser.parse_args([]).cfg_options is None


@pytest.mark.parametrize('token,value', [
    ('a=1', 1),
    ('a=-3', -3),
    ('a=0.1', 0.1),
    ('a=1e-3', 1e-3),
    ('a=True', True),
    ('a=false', False),
    ('a=None', None),
    ('a=x', 'x'),
    ('a=', ''),
    ('a=b=c', 'b=c'),
    ('a=[1, 1, 1]', [1, 1, 1]),
    ('a=[]', []),
    ('a=a,b', ['a', 'b']),
    ('a=(1,2)', (1, 2)),
    ('a=(1)', (1, )),
    ('a=[[1]]', [[1]]),
    ('a=[(a,b), [1,2], false]', [('a', 'b'), [1, 2], False]),
    ('a="[(a, b), (c, d)]"', [('a', 'b'), ('c', 'd')]),
    ("a='quoted value'", 'quoted value'),
    ('a=["x y", z]', ['x y', 'z']),
    ('a=(1,2),(3,4)', [(1, 2), (3, 4)]),
])
def test_value_parsing(parser, token, value):
    assert parse(parser, token) == {'a': value}


def test_dotted_keys_and_repeated_flags(parser):
    args = parser.parse_args([
        '--cfg-options', 'optimizer.lr=0.1', 'model.depth=50',
        '--cfg-options', 'optimizer.lr=0.2', 'x=[1,2]'
    ])
    assert args.cfg_options == {
        'optimizer.lr': 0.2,
        'model.depth': 50,
        'x': [1, 2]
    }
    cfg = Config(dict(optimizer=dict(type='SGD', lr=0.01)))
    cfg.merge_from_dict(args.cfg_options)
    assert cfg.optimizer == {'type': 'SGD', 'lr': 0.2}
    assert cfg.model == {'depth': 50}


def test_imbalanced_brackets(parser):
    with pytest.raises(AssertionError, match='Imbalanced brackets.*KEY=VALUE'):
        parse(parser, 'a=[(a,b), [1,2], false')
    with pytest.raises(ValueError, match='Imbalanced'):
        DictAction._parse_iterable('[1, 2')


def test_token_without_equals_sign(parser, capsys):
    with pytest.raises(SystemExit):
        parse(parser, 'optimizer.lr')
    err = capsys.readouterr().err
    assert "malformed option 'optimizer.lr'" in err
    assert 'expected KEY=VALUE' in err
    with pytest.raises(SystemExit):
        parse(parser, '=3')


def test_mismatched_bracket_nesting_names_the_option(parser):
    for token in ('a.b=[(1,2])', 'a.b=)1(', 'a.b=[1,(2]'):
        with pytest.raises(AssertionError) as info:
            parse(parser, token)
        msg = str(info.value)
        assert repr(token) in msg and '--cfg-options' in msg
        assert 'expected KEY=VALUE' in msg


def test_command_line_end_to_end():
    """``--cfg-options`` as a shell passes it, then merged into a config."""
    import shlex
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    argv = shlex.split('cfg.py --cfg-options a.b=1 c=[1,2,(3,4)] d="x,y" '
                       'e=None f=True g=[[1,2],[3]] '
                       'pipeline.1.scale="(512, 512)" --cfg-options a.c=0.5')
    args = parser.parse_args(argv)
    assert args.config == 'cfg.py'
    assert args.cfg_options == {
        'a.b': 1,
        'c': [1, 2, (3, 4)],
        'd': ['x', 'y'],
        'e': None,
        'f': True,
        'g': [[1, 2], [3]],
        'pipeline.1.scale': (512, 512),
        'a.c': 0.5,
    }
    cfg = Config(
        dict(
            a=dict(b=0, keep='k'),
            c=[0],
            pipeline=[dict(type='Load'),
                      dict(type='Resize', scale=(1, 1))]))
    cfg.merge_from_dict(args.cfg_options)
    assert cfg.a == {'b': 1, 'keep': 'k', 'c': 0.5}
    assert cfg.c == [1, 2, (3, 4)] and cfg.d == ['x', 'y']
    assert cfg.e is None and cfg.f is True and cfg.g == [[1, 2], [3]]
    assert cfg.pipeline == [{'type': 'Load'},
                            {'type': 'Resize', 'scale': (512, 512)}]
    # without allow_list_keys an index path is an error that says so
    cfg = Config(dict(pipeline=[dict(type='Load')]))
    with pytest.raises(TypeError, match='allow_list_keys=True'):
        cfg.merge_from_dict({'pipeline.0.type': 'X'}, allow_list_keys=False)
    assert cfg.pipeline == [{'type': 'Load'}]
