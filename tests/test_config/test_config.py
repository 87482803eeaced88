"""Tests of mmengine.config.Config (text-style configs, merging, dumping)."""
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


# ------------------------------------------------------------ inheritance
def test_base_single_and_recursive(tmp_path):
    write(tmp_path, 'base.py', """
        item1 = [1, 2]
        item2 = dict(a=0, b=dict(c=1))
        item3 = True
        """)
    write(tmp_path, 'mid.py', """
        _base_ = './base.py'
        item2 = dict(b=dict(d=2))
        item4 = 'mid'
        """)
    child = write(tmp_path, 'sub/child.py', """
        _base_ = '../mid.py'
        item1 = [3]
        item5 = 'child'
        """)
    cfg = Config.fromfile(child)
    assert cfg.to_dict() == {
        'item1': [3],
        'item2': {'a': 0, 'b': {'c': 1, 'd': 2}},
        'item3': True,
        'item4': 'mid',
        'item5': 'child'
    }
    # inherited keys first, in base order, then the child's own keys
    assert list(cfg.keys()) == ['item1', 'item2', 'item3', 'item4', 'item5']
    assert '_base_' not in cfg
    assert 'base.py' in cfg.text and 'child.py' in cfg.text


def test_base_mixed_formats(tmp_path):
    write(tmp_path, 'a.json', '{"x": 1}')
    write(tmp_path, 'b.yaml', 'y: [1, 2]\n')
    child = write(tmp_path, 'c.py', "_base_ = ['./a.json', './b.yaml']\nz=3\n")
    assert Config.fromfile(child).to_dict() == {'x': 1, 'y': [1, 2], 'z': 3}
    child = write(tmp_path, 'd.yaml', "_base_: ['./c.py']\nw: 1\n")
    cfg = Config.fromfile(child)
    assert cfg.to_dict() == {'x': 1, 'y': [1, 2], 'z': 3, 'w': 1}
    child = write(tmp_path, 'e.json', '{"_base_": "./b.yaml", "x": 5}')
    assert Config.fromfile(child).to_dict() == {'y': [1, 2], 'x': 5}


def test_duplicate_key_across_bases(tmp_path):
    a = write(tmp_path, 'a.py', 'x = 1\n')
    b = write(tmp_path, 'b.py', 'x = 2\n')
    child = write(tmp_path, 'c.py', "_base_ = ['./a.py', './b.py']\n")
    with pytest.raises(KeyError) as info:
        Config.fromfile(child)
    msg = str(info.value)
    assert "'x'" in msg and 'a.py' in msg and 'b.py' in msg and 'c.py' in msg
    assert osp.basename(a) in msg and osp.basename(b) in msg


def test_missing_base(tmp_path):
    child = write(tmp_path, 'child.py', "_base_ = './missing_base.py'\n")
    with pytest.raises(FileNotFoundError) as info:
        Config.fromfile(child)
    assert 'missing_base.py' in str(info.value)
    assert 'child.py' in str(info.value)


def test_cycle_detection(tmp_path):
    write(tmp_path, 'a.py', "_base_ = './b.py'\nx = 1\n")
    write(tmp_path, 'b.py', "_base_ = './a.py'\ny = 1\n")
    with pytest.raises(RuntimeError, match='circular'):
        Config.fromfile(osp.join(str(tmp_path), 'a.py'))
    write(tmp_path, 'self.py', "_base_ = './self.py'\n")
    with pytest.raises(RuntimeError, match='circular'):
        Config.fromfile(osp.join(str(tmp_path), 'self.py'))


def test_delete_key(tmp_path):
    write(tmp_path, 'base.py', """
        optimizer = dict(type='SGD', lr=0.02, momentum=0.9)
        model = dict(backbone=dict(type='R', depth=50), neck=dict(a=1))
        """)
    child = write(tmp_path, 'child.py', """
        _base_ = './base.py'
        optimizer = dict(_delete_=True, type='Adam', lr=0.01)
        model = dict(backbone=dict(_delete_=True, type='S'),
                     head=dict(_delete_=True, x=1))
        """)
    cfg = Config.fromfile(child)
    assert cfg.optimizer == {'type': 'Adam', 'lr': 0.01}
    assert cfg.model == {
        'backbone': {'type': 'S'},
        'neck': {'a': 1},
        'head': {'x': 1}
    }
    assert '_delete_' not in cfg.pretty_text


def test_dict_over_non_dict_is_type_error(tmp_path):
    write(tmp_path, 'base.py', 'item = True\nlst = dict(a=1)\n')
    child = write(tmp_path, 'c.py', "_base_ = './base.py'\nitem = dict(a=1)\n")
    with pytest.raises(TypeError, match='_delete_'):
        Config.fromfile(child)
    # a non-dict child value replaces a dict base value
    child = write(tmp_path, 'd.py', "_base_ = './base.py'\nlst = [1]\n")
    assert Config.fromfile(child).lst == [1]
    # and _delete_ lets a dict replace a non-dict
    child = write(tmp_path, 'e.py',
                  "_base_ = './base.py'\nitem = dict(_delete_=True, a=1)\n")
    assert Config.fromfile(child).item == {'a': 1}


def test_base_variable_references(tmp_path):
    write(tmp_path, 'base.py', """
        model = dict(type='ResNet', depth=50, cfg=dict(x=[1, 2]))
        name = 'base'
        """)
    child = write(tmp_path, 'child.py', """
        _base_ = './base.py'
        a = {{_base_.model}}
        b = {{_base_.model.cfg.x}}
        c = [{{ _base_.name }}, dict(d={{_base_.model.type}})]
        e = b
        """)
    cfg = Config.fromfile(child)
    assert cfg.a == {'type': 'ResNet', 'depth': 50, 'cfg': {'x': [1, 2]}}
    assert cfg.b == [1, 2] and cfg.e == [1, 2]
    assert cfg.c == ['base', {'d': 'ResNet'}]
    # the referenced values are copies
    cfg.a.cfg.x.append(3)
    assert cfg.model.cfg.x == [1, 2]
    # json and yaml children
    child = write(tmp_path, 'child.json',
                  '{"_base_": "./base.py", "a": {{_base_.model.depth}}}')
    assert Config.fromfile(child).a == 50
    child = write(tmp_path, 'child.yaml',
                  '_base_: ./base.py\na: {{ _base_.model }}\n')
    assert Config.fromfile(child).a.type == 'ResNet'


def test_bad_base_variable_reference(tmp_path):
    write(tmp_path, 'base.py', "model = dict(type='ResNet')\n")
    child = write(tmp_path, 'child.py',
                  "_base_ = './base.py'\na = {{_base_.model.depth}}\n")
    with pytest.raises(KeyError) as info:
        Config.fromfile(child)
    assert "'model.depth'" in str(info.value)
    assert 'child.py' in str(info.value)


def test_text_reference_then_python_mutation_fails(tmp_path):
    write(tmp_path, 'base.py', "model = dict(type='ResNet', depth=50)\n")
    child = write(tmp_path, 'child.py', """
        _base_ = './base.py'
        a = {{_base_.model}}
        a['type'] = 'MobileNet'
        """)
    with pytest.raises(TypeError, match=r'child\.py, line 3'):
        Config.fromfile(child)


def test_python_base_reference(tmp_path):
    write(tmp_path, 'base.py', "model = dict(type='ResNet', depth=50)\n"
          'lst = [1, 2, 3]\n')
    child = write(tmp_path, 'child.py', """
        _base_ = './base.py'
        a = _base_.model
        a.type = 'MobileNet'
        x, y, z = _base_.lst
        """)
    cfg = Config.fromfile(child)
    assert cfg.a == {'type': 'MobileNet', 'depth': 50}
    assert (cfg.x, cfg.y, cfg.z) == (1, 2, 3)


def test_predefined_variables(tmp_path):
    path = write(
        tmp_path, 'my_cfg.py', """
        a = '{{fileDirname}}'
        b = '{{ fileBasename }}'
        c = './work_dir/{{fileBasenameNoExtension}}'
        d = '{{fileExtname}}'
        """)
    cfg = Config.fromfile(path)
    assert cfg.a == str(tmp_path).replace('\\', '/')
    assert (cfg.b, cfg.c, cfg.d) == ('my_cfg.py', './work_dir/my_cfg', '.py')
    raw = Config.fromfile(path, use_predefined_variables=False)
    assert raw.b == '{{ fileBasename }}'
    path = write(tmp_path, 'y.yaml', "a: '{{fileBasename}}'\n")
    assert Config.fromfile(path).a == 'y.yaml'


def test_environment_variables(tmp_path, monkeypatch):
    path = write(
        tmp_path, 'env.py', """
        data_root = '{{$CFG_TEST_ROOT:/data/coco/}}'
        ann_file = data_root + 'train.json'
        num = {{'$CFG_TEST_NUM:80'}}
        """)
    monkeypatch.delenv('CFG_TEST_ROOT', raising=False)
    monkeypatch.delenv('CFG_TEST_NUM', raising=False)
    cfg = Config.fromfile(path)
    assert cfg.ann_file == '/data/coco/train.json' and cfg.num == 80
    assert cfg.env_variables == {
        'CFG_TEST_ROOT': '/data/coco/',
        'CFG_TEST_NUM': '80'
    }
    monkeypatch.setenv('CFG_TEST_ROOT', '/new/')
    monkeypatch.setenv('CFG_TEST_NUM', '20')
    cfg = Config.fromfile(path)
    assert cfg.ann_file == '/new/train.json' and cfg.num == 20
    # no default and unset -> KeyError naming the variable
    path = write(tmp_path, 'env2.py', "a = '{{$CFG_TEST_UNSET:}}'\n")
    monkeypatch.delenv('CFG_TEST_UNSET', raising=False)
    with pytest.raises(KeyError, match='CFG_TEST_UNSET'):
        Config.fromfile(path)
    raw = Config.fromfile(path, use_environment_variables=False)
    assert raw.a == '{{$CFG_TEST_UNSET:}}'


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


# ----------------------------------------------------------------- errors
def test_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, 'bad.py', 'a = 1\nb = dict(x=1,\nc = 3\n')
    with pytest.raises(SyntaxError) as info:
        Config.fromfile(path)
    assert 'bad.py' in str(info.value) and 'line' in str(info.value)
    path = write(tmp_path, 'bad2.py', "_base_ = './x.py'\na = (1,\n")
    with pytest.raises(SyntaxError, match='bad2.py'):
        Config.fromfile(path)
    with pytest.raises(SyntaxError, match='bad.py'):
        Config._validate_py_syntax(osp.join(str(tmp_path), 'bad.py'))


def test_runtime_error_names_file_and_line(tmp_path):
    path = write(tmp_path, 'bad.py', 'a = 1\nb = 2\nc = 1 / 0\n')
    with pytest.raises(ZeroDivisionError, match=r'bad\.py, line 3'):
        Config.fromfile(path)
    path = write(tmp_path, 'bad_name.py', 'a = undefined_name\n')
    with pytest.raises(NameError, match=r'bad_name\.py, line 1'):
        Config.fromfile(path)


def test_json_yaml_errors(tmp_path):
    path = write(tmp_path, 'bad.json', '{"a": 1,\n "b": }')
    with pytest.raises(RuntimeError, match=r'bad\.json, line 2'):
        Config.fromfile(path)
    path = write(tmp_path, 'bad.yaml', 'a: [1, 2\nb: 3\n')
    with pytest.raises(RuntimeError, match=r'bad\.yaml'):
        Config.fromfile(path)
    path = write(tmp_path, 'list.yaml', '- 1\n- 2\n')
    with pytest.raises(RuntimeError, match='mapping'):
        Config.fromfile(path)


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


# -------------------------------------------------------- pkg:: bases
@pytest.fixture
def fake_package(tmp_path, monkeypatch):
    pkg = tmp_path / 'site' / 'cfgtestpkg'
    configs = pkg / '.mim' / 'configs' / '_base_'
    configs.mkdir(parents=True)
    (pkg / '__init__.py').write_text('')
    (configs / 'schedule.py').write_text(
        "train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, "
        'val_interval=1)\n'
        "model = dict(type='Det', backbone=dict(type='R'), "
        "neck=dict(_scope_='other', type='F'))\n"
        'plain = 3\n')
    monkeypatch.syspath_prepend(str(tmp_path / 'site'))
    return 'cfgtestpkg'


def test_package_base(tmp_path, fake_package):
    child = write(
        tmp_path, 'cross_repo.py', """
        _base_ = ['cfgtestpkg::_base_/schedule.py', './local.py']
        model = dict(backbone=dict(depth=50))
        """)
    write(tmp_path, 'local.py', "toy = dict(type='Toy')\n")
    cfg = Config.fromfile(child)
    assert cfg.train_cfg == {
        'type': 'EpochBasedTrainLoop',
        'max_epochs': 12,
        'val_interval': 1,
        '_scope_': 'cfgtestpkg'
    }
    assert cfg.model._scope_ == 'cfgtestpkg'
    # only the outermost buildable dict gets the scope
    assert '_scope_' not in cfg.model.backbone
    assert cfg.model.neck._scope_ == 'other'
    assert cfg.plain == 3
    assert '_scope_' not in cfg.toy
    path, scope = Config._get_cfg_path('cfgtestpkg::_base_/schedule.py', child)
    assert scope == 'cfgtestpkg' and osp.isfile(path)
    # a pkg:: path can be loaded directly too
    direct = Config.fromfile('cfgtestpkg::_base_/schedule.py')
    assert direct.plain == 3


def test_package_base_errors(tmp_path, fake_package):
    child = write(tmp_path, 'a.py', "_base_ = 'cfgtestpkg::missing.py'\n")
    with pytest.raises(FileNotFoundError, match='cfgtestpkg::missing.py'):
        Config.fromfile(child)
    child = write(tmp_path, 'b.py', "_base_ = 'no_such_pkg_xyz::a.py'\n")
    with pytest.raises(ModuleNotFoundError, match='no_such_pkg_xyz'):
        Config.fromfile(child)


def test_line_numbers_after_multiline_base(tmp_path):
    write(tmp_path, 'b1.py', 'x = 1\n')
    write(tmp_path, 'b2.py', 'y = 1\n')
    child = write(
        tmp_path, 'child.py', """
        _base_ = [
            './b1.py',
            './b2.py',
        ]
        z = x_undefined
        """)
    with pytest.raises(NameError, match=r'child\.py, line 5'):
        Config.fromfile(child)
    # same with imports and docstrings (the ast-based path)
    child = write(
        tmp_path, 'child2.py', '''
        """Docstring mentioning
        _base_ = 'nothing'
        """
        import os
        _base_ = [
            './b1.py',
        ]
        z = x_undefined
        ''')
    with pytest.raises(NameError, match=r'child2\.py, line 8'):
        Config.fromfile(child)


def test_config_value_holding_a_config_is_dumped_as_mapping():
    cfg = Config(dict(inner=Config(dict(a=1)), b=2))
    assert cfg.pretty_text == 'inner = dict(a=1)\nb = 2\n'


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


def test_base_reference_inside_expression_is_an_error(tmp_path):
    write(tmp_path, 'base.py', "name = 'base'\nnum = 2\n")
    child = write(tmp_path, 'child.py', "_base_ = './base.py'\n"
                  "a = {{_base_.name}} + '_suffix'\n")
    with pytest.raises(RuntimeError,
                       match=r'\{\{_base_\.name\}\}.*_base_\.name'):
        Config.fromfile(child)
    # the Python form works in expressions
    child = write(tmp_path, 'child2.py', "_base_ = './base.py'\n"
                  "a = _base_.name + '_suffix'\nb = _base_.num * 2\n")
    cfg = Config.fromfile(child)
    assert (cfg.a, cfg.b) == ('base_suffix', 4)


def test_delete_false_is_removed(tmp_path):
    write(tmp_path, 'base.py', 'd = dict(a=1)\n')
    child = write(tmp_path, 'c.py',
                  "_base_ = './base.py'\nd = dict(_delete_=False, b=2)\n")
    assert Config.fromfile(child).d == {'a': 1, 'b': 2}
