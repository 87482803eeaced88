"""Tests of loading text-style configs: ``_base_`` inheritance, base
variable references, predefined and environment variables, ``pkg::path``
bases, and the errors that name the file and line at fault."""
import os
import os.path as osp
import textwrap

import pytest

from mmengine.config import Config


def write(directory, name, text):
    path = osp.join(str(directory), name)
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(textwrap.dedent(text).lstrip('\n'))
    return path



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


# ------------------------------------------------------ more error paths
def test_syntax_errors_name_the_file_and_line(tmp_path):
    path = write(tmp_path, 'bad.py', 'a = 1\nb = dict(x=1,\nc = 3\n')
    with pytest.raises(SyntaxError, match=r'bad\.py, line 2'):
        Config.fromfile(path)
    # in a base: the base is named, not the child
    write(tmp_path, 'bad_base.py', 'x = 1\ny = [1, 2\n')
    child = write(tmp_path, 'child.py', "_base_ = './bad_base.py'\n")
    with pytest.raises(SyntaxError, match=r'bad_base\.py, line 2'):
        Config.fromfile(child)
    # in a pure-Python config
    path = write(tmp_path, 'bad_lazy.py',
                 'from mmengine.config import read_base\nx = (1,\n')
    with pytest.raises(SyntaxError, match=r'bad_lazy\.py, line 2'):
        Config.fromfile(path)


def test_runtime_error_in_a_base_names_the_base(tmp_path):
    write(tmp_path, 'rt_base.py', "x = 1\ny = x + 'a'\n")
    write(tmp_path, 'rt_mid.py', "_base_ = './rt_base.py'\n")
    child = write(tmp_path, 'rt_child.py', "_base_ = './rt_mid.py'\n")
    with pytest.raises(TypeError, match=r'rt_base\.py, line 2'):
        Config.fromfile(child)


def test_base_reference_without_base(tmp_path):
    path = write(tmp_path, 'orphan.py', 'a = {{_base_.model}}\n')
    with pytest.raises(KeyError) as info:
        Config.fromfile(path)
    msg = str(info.value)
    assert "'model'" in msg and 'orphan.py' in msg
    assert 'does not inherit any config' in msg
    # a reference that only appears in a comment is harmless
    path = write(tmp_path, 'comment.py', '# like {{_base_.model}}\na = 1\n')
    assert Config.fromfile(path).to_dict() == {'a': 1}


def test_reserved_key_names_the_file(tmp_path):
    for name, text in [('r.py', 'filename = 1\n'),
                       ('r.json', '{"text": 1}'),
                       ('r.yaml', 'pretty_text: 1\n')]:
        path = write(tmp_path, name, text)
        with pytest.raises(KeyError, match=r'is reserved for config file.*'
                           + name.replace('.', r'\.')):
            Config.fromfile(path)


def test_config_path_is_a_directory(tmp_path):
    os.makedirs(osp.join(str(tmp_path), 'folder.py'))
    with pytest.raises(IsADirectoryError, match=r'folder\.py.*directory'):
        Config.fromfile(osp.join(str(tmp_path), 'folder.py'))


def test_environment_variable_without_default(tmp_path, monkeypatch):
    path = write(tmp_path, 'env.py', "a = '{{$CFG_TEST_REQUIRED}}'\n"
                 "b = {{'$CFG_TEST_REQ_NUM'}}\n")
    monkeypatch.setenv('CFG_TEST_REQUIRED', '/x')
    monkeypatch.setenv('CFG_TEST_REQ_NUM', '7')
    cfg = Config.fromfile(path)
    assert (cfg.a, cfg.b) == ('/x', 7)
    monkeypatch.delenv('CFG_TEST_REQUIRED')
    with pytest.raises(KeyError, match=r'CFG_TEST_REQUIRED.*env\.py'):
        Config.fromfile(path)


def test_helpers_are_dropped_but_assigned_classes_are_kept(tmp_path):
    path = write(
        tmp_path, 'helpers.py', """
        import os.path as osp
        from fractions import Fraction

        class Local:
            pass

        def helper():
            return 1

        cast = int
        number = Fraction
        join = osp.join
        value = helper()
        holder = dict(cls=Local)
        """)
    cfg = Config.fromfile(path)
    assert list(cfg.keys()) == ['cast', 'number', 'join', 'value', 'holder']
    assert cfg.cast is int and cfg.holder.cls.__name__ == 'Local'
    # the same rule in a pure-Python config
    write(tmp_path, 'helpers_base.py', 'y = 2\n')
    path = write(tmp_path, 'helpers_lazy.py', """
        from fractions import Fraction
        from mmengine.config import read_base

        with read_base():
            from .helpers_base import *

        def helper():
            return 1

        number = Fraction
        value = helper()
        """)
    assert Config._is_lazy_import(path)
    assert Config.fromfile(path).to_dict() == {
        'y': 2,
        'number': __import__('fractions').Fraction,
        'value': 1
    }


def test_quoted_base_variable_reference(tmp_path):
    """``'{{_base_.x}}'`` (quotes keep a YAML/py file valid for editors) is
    replaced by the value like the bare form."""
    write(tmp_path, 'base.py', "model = dict(type='R', depth=50)\n")
    child = write(tmp_path, 'child.yaml', "_base_: ./base.py\n"
                  "a: '{{_base_.model}}'\nb: \"{{ _base_.model.depth }}\"\n")
    cfg = Config.fromfile(child)
    assert cfg.a == {'type': 'R', 'depth': 50} and cfg.b == 50
    child = write(tmp_path, 'child.py', "_base_ = './base.py'\n"
                  "a = ['{{_base_.model.type}}', \"{{_base_.model.depth}}\"]\n")
    assert Config.fromfile(child).a == ['R', 50]
    # still an error when the reference is only part of a string
    child = write(tmp_path, 'part.py', "_base_ = './base.py'\n"
                  "a = 'x{{_base_.model.type}}'\n")
    with pytest.raises(RuntimeError, match=r'inside an expression'):
        Config.fromfile(child)


def test_base_bound_by_an_unreadable_statement_is_an_error(tmp_path):
    write(tmp_path, 'base.py', 'x = 1\n')
    path = write(tmp_path, 'annotated.py',
                 "_base_: list = ['./base.py']\ny = 2\n")
    with pytest.raises(RuntimeError, match=r'annotated\.py.*`_base_ = '):
        Config.fromfile(path)


def test_base_statement_sharing_a_line_keeps_the_rest(tmp_path):
    # the fast text path must not blank code that shares the `_base_` line
    write(tmp_path, 'base.py', 'a = 1\nb = dict(x=1)\n')
    child = write(tmp_path, 'child.py',
                  "_base_ = './base.py'; c = 3\nb = dict(y=2)\n")
    assert Config.fromfile(child).to_dict() == {
        'a': 1, 'b': {'x': 1, 'y': 2}, 'c': 3}
    # `_base_=` at the start of a line as a keyword argument is no
    # inheritance statement
    kwarg = write(tmp_path, 'kwarg.py', 'model = dict(\n_base_=1, d=2)\n')
    assert Config.fromfile(kwarg).to_dict() == {
        'model': {'_base_': 1, 'd': 2}}
    broken = write(tmp_path, 'broken.py',
                   "x = 1\n_base_ = ['./base.py',\ny = 2\n")
    with pytest.raises(SyntaxError, match=r'broken\.py, line'):
        Config.fromfile(broken)


def test_names_imported_in_blocks_are_not_config_keys(tmp_path):
    # the text loader drops imported names wherever the pure-Python loader
    # treats an import as module level (inside if/try blocks too)
    path = write(tmp_path, 'cfg.py', """
        try:
            from collections import OrderedDict
        except ImportError:
            OrderedDict = None
        if True:
            from os.path import join
        x = 1
        """)
    assert Config.fromfile(path).to_dict() == {'x': 1}
