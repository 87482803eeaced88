"""Tests of mmengine.config.Config: formats, construction, access, copies,
custom imports, ``merge_from_dict`` and dumping."""
import copy
import json
import os
import os.path as osp
import pickle
import sys
import textwrap

import pytest

from mmengine.config import Config, ConfigDict


def write(directory, name, text):
    path = osp.join(str(directory), name)
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(textwrap.dedent(text).lstrip('\n'))
    return path


def test_public_import_paths():
    import mmengine
    import mmengine.config as config_pkg
    from mmengine.config import config as config_module
    assert mmengine.Config is config_pkg.Config is config_module.Config
    assert mmengine.ConfigDict is config_pkg.ConfigDict \
        is config_module.ConfigDict
    assert mmengine.DictAction is config_pkg.DictAction \
        is config_module.DictAction
    assert callable(config_pkg.read_base)


# --------------------------------------------------------------- loading
@pytest.mark.parametrize('ext,text', [
    ('.py', "a = 1\nb = dict(c=[1, 2], d='x')\n"),
    ('.json', '{"a": 1, "b": {"c": [1, 2], "d": "x"}}'),
    ('.yaml', 'a: 1\nb:\n  c: [1, 2]\n  d: x\n'),
    ('.yml', 'a: 1\nb: {c: [1, 2], d: x}\n'),
])
def test_fromfile_formats(tmp_path, ext, text):
    cfg = Config.fromfile(write(tmp_path, 'cfg' + ext, text))
    assert cfg.to_dict() == {'a': 1, 'b': {'c': [1, 2], 'd': 'x'}}
    assert isinstance(cfg.b, ConfigDict)
    assert cfg.filename.endswith(ext)
    # fromstring gives the same content
    assert Config.fromstring(text, ext).to_dict() == cfg.to_dict()


def test_fromfile_path_object_and_text(tmp_path):
    path = write(tmp_path, 'a.py', 'x = 1\n')
    from pathlib import Path
    cfg = Config.fromfile(Path(path))
    assert cfg.filename == path
    assert cfg.text.endswith('x = 1\n')


def test_init():
    cfg = Config()
    assert cfg.filename is None and cfg.text == '' and len(cfg) == 0
    cfg = Config(dict(a=1, b=dict(c=2)))
    assert cfg.b.c == 2 and isinstance(cfg.b, ConfigDict)
    with pytest.raises(TypeError, match='cfg_dict must be a dict'):
        Config([1, 2])
    with pytest.raises(KeyError, match='filename is reserved'):
        Config(dict(filename=1))
    with pytest.raises(KeyError, match='pretty_text is reserved'):
        Config().pretty_text = 'x'


def test_missing_and_unsupported_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='no_such_file.py'):
        Config.fromfile(osp.join(str(tmp_path), 'no_such_file.py'))
    path = write(tmp_path, 'a.xml', 'x')
    with pytest.raises(OSError, match=r"'\.xml'.*\.py, \.json, \.yaml"):
        Config.fromfile(path)
    with pytest.raises(OSError):
        Config.fromstring('a = 1', '.txt')
    with pytest.raises(TypeError, match='file path.*NoneType'):
        Config.fromfile(None)


def test_python_config_collects_only_values(tmp_path):
    path = write(
        tmp_path, 'a.py', """
        import os.path as osp
        from math import pi

        def helper(x):
            return x * 2

        class Local:
            pass

        __hidden__ = 1
        _private = 3
        value = helper(2)
        path = osp.join('a', 'b')
        """)
    cfg = Config.fromfile(path)
    assert cfg.to_dict() == {'_private': 3, 'value': 4, 'path': 'a/b'}


def test_access_and_mutation():
    cfg = Config(dict(item1=[1, 2], item2=dict(a=0), item3=True))
    assert cfg.item1 == cfg['item1'] == [1, 2]
    cfg.item3 = False
    assert cfg['item3'] is False
    cfg['item4'] = dict(x=dict(y=1))
    assert cfg.item4.x.y == 1 and isinstance(cfg.item4.x, ConfigDict)
    cfg.item1[0] = 5
    assert cfg.item1 == [5, 2]
    assert 'item1' in cfg and 'nope' not in cfg
    assert set(cfg) == set(cfg.keys()) == {'item1', 'item2', 'item3', 'item4'}
    assert cfg.get('nope', 7) == 7
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        cfg.nope
    with pytest.raises(KeyError, match='nope'):
        cfg['nope']
    cfg.update(dict(item2=dict(b=1)))
    assert cfg.item2 == dict(a=0, b=1)
    del cfg.item3
    assert 'item3' not in cfg
    # arbitrary objects can be stored
    gen = (i for i in range(3))
    cfg.item2.params = gen
    assert cfg.item2.params is gen


def test_repr():
    cfg = Config(dict(a=1, b=dict(c=2)), filename='./x.py')
    assert repr(cfg) == "Config (path: ./x.py): {'a': 1, 'b': {'c': 2}}"


def test_copy_deepcopy_pickle(tmp_path):
    path = write(tmp_path, 'a.py', 'a = dict(b=[1, dict(c=2)])\n')
    cfg = Config.fromfile(path)
    shallow = copy.copy(cfg)
    assert shallow._cfg_dict == cfg._cfg_dict
    assert shallow._cfg_dict is not cfg._cfg_dict
    assert shallow.a is cfg.a
    assert cfg.copy().filename == cfg.filename
    deep = copy.deepcopy(cfg)
    assert deep._cfg_dict == cfg._cfg_dict and deep.a is not cfg.a
    assert deep.text == cfg.text and deep.filename == cfg.filename
    restored = pickle.loads(pickle.dumps(cfg))
    assert restored.__dict__ == cfg.__dict__
    assert isinstance(restored.a.b[1], ConfigDict)


def test_custom_imports(tmp_path, monkeypatch):
    write(tmp_path, 'cfg_test_custom_mod.py', 'import os\n'
          "os.environ['CFG_TEST_CUSTOM'] = 'imported'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv('CFG_TEST_CUSTOM', raising=False)
    path = write(
        tmp_path, 'c.py',
        "custom_imports = dict(imports=['cfg_test_custom_mod'], "
        'allow_failed_imports=False)\n')
    cfg = Config.fromfile(path, import_custom_modules=False)
    assert 'CFG_TEST_CUSTOM' not in os.environ
    cfg = Config.fromfile(path)
    assert os.environ['CFG_TEST_CUSTOM'] == 'imported'
    assert cfg.custom_imports.imports == ['cfg_test_custom_mod']
    sys.modules.pop('cfg_test_custom_mod', None)

    path = write(tmp_path, 'd.py',
                 "custom_imports = dict(imports=['cfg_no_such_module_x'])\n")
    with pytest.raises(ImportError, match='Failed to import custom modules'):
        Config.fromfile(path)
    path = write(
        tmp_path, 'e.py', "custom_imports = dict(imports=['cfg_no_such_x'],"
        ' allow_failed_imports=True)\n')
    with pytest.warns(UserWarning, match='cfg_no_such_x'):
        Config.fromfile(path)


def test_deprecation_key(tmp_path):
    path = write(
        tmp_path, 'old.py', """
        a = 1
        _deprecation_ = dict(expected='new.py', reference='http://x')
        """)
    with pytest.warns(DeprecationWarning, match='new.py'):
        cfg = Config.fromfile(path)
    assert '_deprecation_' not in cfg


# -------------------------------------------------------------- overrides
def test_merge_from_dict():
    cfg = Config(
        dict(
            model=dict(type='M', in_channels=[1, 2, 3], head=dict(a=1)),
            pipeline=[dict(type='Load'), dict(type='Resize', scale=1)]))
    cfg.merge_from_dict({
        'model.in_channels': [1, 1, 1],
        'model.head.b': 2,
        'optimizer.lr': 0.1,
        'pipeline.1.scale': 2,
    })
    assert cfg.model.in_channels == [1, 1, 1]
    assert cfg.model.head == {'a': 1, 'b': 2}
    assert cfg.optimizer == {'lr': 0.1}
    assert cfg.pipeline[1] == {'type': 'Resize', 'scale': 2}
    cfg.merge_from_dict({'model': dict(_delete_=True, type='N')})
    assert cfg.model == {'type': 'N'}
    with pytest.raises(TypeError):
        cfg.merge_from_dict({'pipeline.0.type': 'X'}, allow_list_keys=False)
    with pytest.raises(KeyError, match='Index 5'):
        cfg.merge_from_dict({'pipeline.5.type': 'X'})
    with pytest.raises(TypeError, match='expects a dict.*NoneType'):
        cfg.merge_from_dict(None)


def test_merge_a_into_b_does_not_mutate_inputs():
    a = dict(x=dict(_delete_=True, y=1))
    b = ConfigDict(x=dict(z=2), w=1)
    merged = Config._merge_a_into_b(a, b)
    assert merged == {'x': {'y': 1}, 'w': 1}
    assert a == dict(x=dict(_delete_=True, y=1))
    assert b == {'x': {'z': 2}, 'w': 1}


# ---------------------------------------------------------------- dumping
ROUND_TRIP = dict(
    a=1,
    b=2.5,
    c='str with \'quotes\' and "double" \t\n\\',
    d=None,
    e=True,
    f=[1, [2, 3], dict(g=4)],
    h=dict(i=dict(j=[dict(k=1)]), l='x' * 100),
    m={
        'x/y': 1,
        2: 'int key',
        'class': 'keyword key'
    },
    n=[],
    o={},
    p=float('inf'),
    q=-1e-10,
)


@pytest.mark.parametrize('ext', ['.py', '.json', '.yaml', '.yml'])
def test_dump_round_trip(tmp_path, ext):
    data = copy.deepcopy(ROUND_TRIP)
    if ext == '.json':  # JSON keys are strings
        data['m'] = {'x/y': 1, '2': 'int key', 'class': 'keyword key'}
    cfg = Config(data)
    out = osp.join(str(tmp_path), 'out' + ext)
    cfg.dump(out)
    loaded = Config.fromfile(out)
    assert loaded.to_dict() == cfg.to_dict()
    assert list(loaded.keys()) == list(cfg.keys()) or ext in ('.yaml',
                                                              '.yml')


def test_dump_tuples_round_trip(tmp_path):
    cfg = Config(dict(a=(1, 2), b=[(3, ), ()], c=dict(d=(dict(e=1), ))))
    for ext in ('.py', '.yaml'):
        out = osp.join(str(tmp_path), 'out' + ext)
        cfg.dump(out)
        assert Config.fromfile(out)._cfg_dict == cfg._cfg_dict


def test_dump_formats_and_text(tmp_path):
    cfg = Config(dict(a=1, b=2))
    assert cfg.pretty_text == cfg.dump() == 'a = 1\nb = 2\n'
    cfg.dump(osp.join(str(tmp_path), 'x.json'))
    with open(osp.join(str(tmp_path), 'x.json')) as f:
        assert f.read() == '{"a": 1, "b": 2}'
    cfg.dump(osp.join(str(tmp_path), 'x.yaml'))
    with open(osp.join(str(tmp_path), 'x.yaml')) as f:
        assert f.read() == 'a: 1\nb: 2\n'
    # dump() without a file uses the format of the source file
    path = write(tmp_path, 'src.json', '{"b": 1, "a": [1]}')
    src = Config.fromfile(path)
    assert json.loads(src.dump()) == {'b': 1, 'a': [1]}
    path = write(tmp_path, 'src.py', 'b = 1\na = [1]\n')
    src = Config.fromfile(path)
    assert src.dump() == src.pretty_text == 'b = 1\na = [1]\n'
    # a dump overwrites a longer existing file completely
    out = osp.join(str(tmp_path), 'over.py')
    with open(out, 'w') as f:
        f.write('# long old content\n' * 100)
    cfg.dump(out)
    with open(out) as f:
        assert f.read() == 'a = 1\nb = 2\n'


def test_dump_merged_config_has_no_base(tmp_path):
    write(tmp_path, 'base.py', "optimizer = dict(type='SGD', lr=0.02)\n")
    child = write(tmp_path, 'child.py', "_base_ = './base.py'\n"
                  "model = dict(type='ResNet', depth=50)\n")
    cfg = Config.fromfile(child)
    text = cfg.pretty_text
    assert text == ("optimizer = dict(type='SGD', lr=0.02)\n"
                    "model = dict(type='ResNet', depth=50)\n")
    assert '_base_' not in text


def test_dump_non_identifier_top_level_key():
    cfg = Config({'bad-key': 1})
    with pytest.raises(ValueError, match='bad-key'):
        cfg.pretty_text
    assert cfg.dump.__self__ is cfg


def test_dump_to_unknown_extension(tmp_path):
    with pytest.raises(OSError, match='.txt'):
        Config(dict(a=1)).dump(osp.join(str(tmp_path), 'a.txt'))


def test_diff():
    cfg1 = Config(dict(a=1, b=2))
    cfg2 = Config(dict(b=3, a=1))
    assert Config.diff(cfg1, cfg2) == (
        '--- \n\n+++ \n\n@@ -1,3 +1,3 @@\n\n a = 1\n-b = 2\n+b = 3\n \n\n')
    assert Config.diff(cfg1, Config(dict(b=2, a=1))) == '\n'


def test_auto_argparser(tmp_path, monkeypatch):
    path = write(tmp_path, 'a.py', "x = 1\ny = 'a'\nz = False\n"
                 'w = [1, 2]\nd = dict(e=0.5)\n')
    monkeypatch.setattr(sys, 'argv', ['prog', path])
    parser, cfg = Config.auto_argparser()
    args = parser.parse_args([path, '--x', '3', '--z', '--d.e', '0.1'])
    assert args.x == 3 and args.z is True and getattr(args, 'd.e') == 0.1
    assert cfg.x == 1


def test_config_value_holding_a_config_is_dumped_as_mapping(tmp_path):
    cfg = Config(dict(inner=Config(dict(a=1)), b=2))
    assert cfg.pretty_text == 'inner = dict(a=1)\nb = 2\n'
    assert cfg.to_dict() == {'inner': {'a': 1}, 'b': 2}
    assert type(cfg.to_dict()['inner']) is dict
    for ext in ('.json', '.yaml'):
        out = osp.join(str(tmp_path), 'out' + ext)
        cfg.dump(out)
        assert Config.fromfile(out).to_dict() == cfg.to_dict()


def test_is_lazy_import(tmp_path):
    assert not Config._is_lazy_import(write(tmp_path, 'a.py', 'a = 1\n'))
    assert not Config._is_lazy_import(
        write(tmp_path, 'b.py', 'import os\nfrom mmengine import Config\n'))
    assert Config._is_lazy_import(
        write(tmp_path, 'c.py', 'from torch.optim import SGD\n'))
    assert Config._is_lazy_import(
        write(tmp_path, 'd.py', 'from .a import *\n'))
    assert not Config._is_lazy_import(
        write(tmp_path, 'e.py', "_base_ = './a.py'\nimport numpy\n"))
    assert not Config._is_lazy_import(write(tmp_path, 'f.json', '{}'))


def test_class_defined_in_a_config_is_not_dumped_as_an_import(tmp_path):
    path = write(tmp_path, 'cls.py', 'class A:\n    pass\n\n'
                 'item = dict(a=A)\n')
    cfg = Config.fromfile(path)
    with pytest.warns(UserWarning, match="'item'.*cannot be written"):
        text = cfg.pretty_text
    assert 'import' not in text and '__config__' in text
    out = osp.join(str(tmp_path), 'out.py')
    with pytest.warns(UserWarning):
        cfg.dump(out)
    assert isinstance(Config.fromfile(out).item.a, str)


@pytest.mark.parametrize('ext', ['.py', '.json', '.yaml', '.yml'])
def test_inherited_config_round_trips_in_every_format(tmp_path, ext):
    """A config built from bases (py + json + yaml) and references dumps to
    each format and reads back equal (JSON: tuples become lists)."""
    write(tmp_path, 'base_model.json',
          '{"model": {"type": "R", "depth": 50, "out": [0, 1]}}')
    write(tmp_path, 'base_sched.yaml',
          'param_scheduler:\n  - {type: LinearLR, end: 500}\n'
          '  - {type: MultiStepLR, milestones: [8, 11]}\n')
    child = write(
        tmp_path, 'child.py', """
        _base_ = ['./base_model.json', './base_sched.yaml']
        model = dict(depth=101, neck=dict(type='FPN', sizes=(1, 2)))
        head = {{_base_.model.out}}
        work_dir = './work_dirs/{{fileBasenameNoExtension}}'
        odd_keys = {'a.b': 1, 'class': None, 'x y': [1.5, -2, True]}
        """)
    cfg = Config.fromfile(child)
    out = osp.join(str(tmp_path), 'dumped' + ext)
    cfg.dump(out)
    back = Config.fromfile(out)
    expected = cfg.to_dict()
    if ext == '.json':
        expected['model']['neck']['sizes'] = [1, 2]
    assert back.to_dict() == expected
    if ext == '.py':
        assert list(back.keys()) == list(cfg.keys())
        assert back.pretty_text == cfg.pretty_text
    with open(out) as f:
        text = f.read()
    assert '_base_' not in text and '{{' not in text
    if ext == '.py':
        assert text == cfg.dump() == cfg.pretty_text


@pytest.mark.parametrize('ext', ['.json', '.yaml'])
def test_unwritable_value_error_names_the_key(tmp_path, ext):
    cfg = Config(dict(a=1, model=dict(steps=[1, dict(fn=lambda x: x)])))
    out = osp.join(str(tmp_path), 'out' + ext)
    with pytest.raises(TypeError, match=r'model\.steps\.1\.fn holds a '
                       r'function.*dump it to \.py'):
        cfg.dump(out)
    assert not osp.exists(out)
