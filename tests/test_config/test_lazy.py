"""Tests of pure-Python ("new-style") configs and LazyObject/LazyAttr."""
import copy
import os.path as osp
import pickle
import sys
import textwrap

import pytest

from mmengine.config import Config, ConfigDict
from mmengine.config.lazy import LazyAttr, LazyObject


def write(directory, name, text):
    path = osp.join(str(directory), name)
    import os
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(textwrap.dedent(text).lstrip('\n'))
    return path


@pytest.fixture
def target_pkg(tmp_path, monkeypatch):
    """A non-std-lib package whose import is observable."""
    name = 'cfg_lazy_target'
    site = tmp_path / 'site'
    write(site, f'{name}/__init__.py', """
        class Model:
            def __init__(self, depth=1):
                self.depth = depth

        def make():
            return 'made'

        class Outer:
            class Inner:
                pass
        """)
    write(site, f'{name}/sub.py', 'VALUE = 42\n')
    monkeypatch.syspath_prepend(str(site))
    for mod in [m for m in sys.modules if m.startswith(name)]:
        sys.modules.pop(mod)
    yield name
    for mod in [m for m in sys.modules if m.startswith(name)]:
        sys.modules.pop(mod)


# ------------------------------------------------------------ LazyObject
def test_lazy_object_build_and_str():
    obj = LazyObject('collections', 'OrderedDict')
    import collections
    assert obj.build() is collections.OrderedDict
    assert str(obj) == 'collections.OrderedDict'
    assert 'collections.OrderedDict' in repr(obj)
    mod = LazyObject('os.path')
    assert mod.build() is osp and str(mod) == 'os.path'
    attr = mod.join
    assert isinstance(attr, LazyAttr) and attr.build() is osp.join
    assert str(attr) == 'os.path.join'
    assert obj == LazyObject('collections', 'OrderedDict')
    assert hash(obj) == hash(LazyObject('collections', 'OrderedDict'))
    assert obj != LazyObject('collections', 'deque')
    assert pickle.loads(pickle.dumps(attr)) == attr
    assert copy.deepcopy(obj) == obj
    with pytest.raises(TypeError, match='lazily'):
        obj()
    with pytest.raises(AttributeError):
        obj.x = 1
    with pytest.raises(TypeError):
        LazyObject('')


def test_lazy_object_import_errors_name_location():
    with pytest.raises(ImportError, match=r'no_such_mod_q.*cfg\.py, line 3'):
        LazyObject('no_such_mod_q', location='cfg.py, line 3').build()
    with pytest.raises(ImportError, match='nothing_here'):
        LazyObject('os', 'nothing_here').build()
    with pytest.raises(ImportError, match='os.nope'):
        LazyAttr('nope', LazyObject('os')).build()


# -------------------------------------------------- pure-Python configs
def test_lazy_imports_are_not_executed(tmp_path, target_pkg):
    path = write(
        tmp_path, 'cfg.py', f"""
        import os
        import os.path as osp
        from math import pi
        from {target_pkg} import Model, make
        import {target_pkg}.sub as sub
        import {target_pkg}

        model = dict(type=Model, depth=3)
        fn = make
        value = sub.VALUE
        inner = {target_pkg}.Outer.Inner
        radius = pi
        joined = osp.join('a', 'b')
        name = os.path.basename(__file__)
        """)
    cfg = Config.fromfile(path)
    assert target_pkg not in sys.modules
    raw = cfg._cfg_dict._to_lazy_dict()
    assert raw['model']['type'] == LazyObject(target_pkg, 'Model')
    assert cfg.radius == pytest.approx(3.14159, rel=1e-5)
    assert cfg.joined == osp.join('a', 'b') and cfg.name == 'cfg.py'
    # names bound by imports are not config values
    assert set(cfg.to_dict()) == {
        'model', 'fn', 'value', 'inner', 'radius', 'joined', 'name'
    }
    assert cfg.to_dict()['model']['type'] == f'{target_pkg}.Model'
    assert target_pkg not in sys.modules
    # access builds
    model_cls = cfg.model.type
    assert model_cls.__name__ == 'Model' and target_pkg in sys.modules
    assert cfg.fn() == 'made'
    assert cfg.value == 42
    assert cfg.inner.__qualname__ == 'Outer.Inner'


def test_read_base_inheritance(tmp_path, target_pkg):
    write(
        tmp_path, 'configs/_base_/model.py', f"""
        from {target_pkg} import Model
        model = dict(type=Model, depth=50)
        lr = 0.1
        """)
    write(tmp_path, 'configs/_base_/runtime.py', """
        log_level = 'INFO'
        hooks = dict(timer=dict(interval=1))
        """)
    child = write(
        tmp_path, 'configs/det/child.py', """
        from mmengine.config import read_base

        with read_base():
            from .._base_.model import *
            from .._base_.runtime import hooks as my_hooks

        model.depth = 101
        my_hooks.timer.interval = 5
        optimizer = dict(lr=lr * 2)
        """)
    cfg = Config.fromfile(child)
    assert list(cfg.to_dict()) == ['model', 'lr', 'my_hooks', 'optimizer']
    assert cfg.model.depth == 101
    assert cfg.my_hooks == {'timer': {'interval': 5}}
    assert cfg.optimizer.lr == 0.2
    assert 'log_level' not in cfg
    assert target_pkg not in sys.modules
    assert cfg.model.type.__name__ == 'Model'


def test_relative_import_outside_read_base(tmp_path):
    write(tmp_path, 'base.py', 'a = 1\nb = dict(c=2)\n')
    child = write(tmp_path, 'child.py', 'from .base import b\nd = b.c + 1\n')
    cfg = Config.fromfile(child)
    assert cfg.to_dict() == {'b': {'c': 2}, 'd': 3}


def test_lazy_dump_round_trip(tmp_path, target_pkg):
    path = write(
        tmp_path, 'cfg.py', f"""
        from {target_pkg} import Model
        import {target_pkg}.sub as sub
        import {target_pkg}
        model = dict(type=Model, fn={target_pkg}.make, v=sub.VALUE)
        Model_1 = 'a key that clashes with an import alias'
        """)
    cfg = Config.fromfile(path)
    text = cfg.pretty_text
    assert f'from {target_pkg} import Model' in text
    out = osp.join(str(tmp_path), 'dumped.py')
    cfg.dump(out)
    assert cfg.dump() == text
    dumped = Config.fromfile(out)
    assert dumped.to_dict() == cfg.to_dict()
    assert dumped._cfg_dict._to_lazy_dict()['model'] == \
        cfg._cfg_dict._to_lazy_dict()['model']
    assert target_pkg not in sys.modules
    # a copy dumps the same text
    assert cfg.copy().pretty_text == text


def test_lazy_config_pickle_and_deepcopy(tmp_path, target_pkg):
    path = write(tmp_path, 'cfg.py', f"""
        from {target_pkg} import Model
        model = dict(type=Model)
        """)
    cfg = Config.fromfile(path)
    restored = pickle.loads(pickle.dumps(cfg))
    assert restored.__dict__ == cfg.__dict__
    assert copy.deepcopy(cfg).__dict__ == cfg.__dict__
    assert target_pkg not in sys.modules


def test_lazy_import_errors(tmp_path):
    path = write(tmp_path, 'err_obj.py',
                 'from mmengine.fileio import no_such_object_x\n')
    with pytest.raises(ImportError, match='err_obj.py'):
        Config.fromfile(path).no_such_object_x
    path = write(tmp_path, 'err_mod.py',
                 'import no_such_module_x\nv = no_such_module_x.y\n')
    cfg = Config.fromfile(path)
    with pytest.raises(ImportError, match=r'err_mod\.py, line 1'):
        cfg.v
    path = write(tmp_path, 'star.py', 'from mmengine.fileio import *\n')
    with pytest.raises(RuntimeError, match=r'star\.py, line 1.*import \*'):
        Config.fromfile(path)
    path = write(tmp_path, 'call.py', 'import numpy as np\na = np.zeros(3)\n')
    with pytest.raises(TypeError, match=r'call\.py, line 2.*lazily'):
        Config.fromfile(path)
    path = write(tmp_path, 'child.py',
                 'from mmengine.config import read_base\n'
                 'with read_base():\n    from .missing_base import *\n')
    with pytest.raises(ImportError, match=r'missing_base.*child\.py, line 3'):
        Config.fromfile(path)
    write(tmp_path, 'b1.py', 'x = 1\n')
    path = write(tmp_path, 'child2.py', 'from .b1 import y\n')
    with pytest.raises(ImportError, match="'y'.*b1.py"):
        Config.fromfile(path)
    path = write(tmp_path, 'rb.py', 'from mmengine.config import read_base\n'
                 'with read_base():\n    x = 1\n')
    with pytest.raises(RuntimeError, match='only `from <config> import'):
        Config.fromfile(path)


def test_mixing_styles_is_an_error(tmp_path):
    write(tmp_path, 'lazy_base.py', 'import mmengine.utils as mu\nx = 1\n')
    text_child = write(tmp_path, 'text_child.py',
                       "_base_ = './lazy_base.py'\ny = 2\n")
    with pytest.raises(RuntimeError, match=r'with read_base\(\)'):
        Config.fromfile(text_child)
    assert Config.fromfile(text_child, lazy_import=False).to_dict() == {
        'x': 1,
        'y': 2
    }
    write(tmp_path, 'text_base.py', "_base_ = './plain.py'\n")
    write(tmp_path, 'plain.py', 'z = 1\n')
    lazy_child = write(tmp_path, 'lazy_child.py',
                       'from .text_base import *\n')
    with pytest.raises(RuntimeError, match='_base_ ='):
        Config.fromfile(lazy_child)


def test_circular_lazy_bases(tmp_path):
    write(tmp_path, 'a.py', 'from .b import *\n')
    write(tmp_path, 'b.py', 'from .a import *\n')
    with pytest.raises(RuntimeError, match='circular'):
        Config.fromfile(osp.join(str(tmp_path), 'a.py'))


def test_runtime_error_in_lazy_config(tmp_path):
    path = write(tmp_path, 'bad.py', 'import numpy as np\nx = 1\ny = x / 0\n')
    with pytest.raises(ZeroDivisionError, match=r'bad\.py, line 3'):
        Config.fromfile(path)


def test_configdict_from_lazy_config_is_configdict(tmp_path):
    write(tmp_path, 'base.py', 'import numpy as np\nd = dict(a=dict(b=1))\n')
    path = write(tmp_path, 'c.py', 'from .base import *\ne = [dict(f=1)]\n')
    cfg = Config.fromfile(path)
    assert isinstance(cfg.d.a, ConfigDict) and isinstance(cfg.e[0], ConfigDict)


def test_read_base_from_installed_package(tmp_path, monkeypatch):
    site = tmp_path / 'site'
    write(site, 'cfg_pkg_abs/__init__.py', 'raise RuntimeError("not run")\n')
    write(site, 'cfg_pkg_abs/configs/base_cfg.py',
          "model = dict(type='Det', depth=50)\nlr = 0.1\n")
    monkeypatch.syspath_prepend(str(site))
    child = write(
        tmp_path, 'child.py', """
        from mmengine.config import read_base

        with read_base():
            from cfg_pkg_abs.configs.base_cfg import *

        model.depth = 101
        """)
    cfg = Config.fromfile(child)
    assert cfg.to_dict() == {'model': {'type': 'Det', 'depth': 101}, 'lr': 0.1}
    assert 'cfg_pkg_abs' not in sys.modules  # the package is never imported
    bad = write(tmp_path, 'bad.py', 'from mmengine.config import read_base\n'
                'with read_base():\n'
                '    from cfg_pkg_nonexistent_q.configs import *\n')
    with pytest.raises(ImportError, match='cfg_pkg_nonexistent_q'):
        Config.fromfile(bad)


def test_import_whole_base_config_module(tmp_path):
    write(tmp_path, 'base_a.py', 'x = 1\ny = dict(z=2)\n')
    child = write(tmp_path, 'child.py', 'from . import base_a\n'
                  'w = base_a.y.z + base_a.x\n')
    cfg = Config.fromfile(child)
    assert cfg.w == 3 and cfg.base_a == {'x': 1, 'y': {'z': 2}}


def test_imports_in_nested_blocks_are_lazy(tmp_path, target_pkg):
    path = write(
        tmp_path, 'nested.py', f"""
        for _ in range(1):
            from {target_pkg} import Model
        try:
            from {target_pkg} import make
        except ImportError:
            make = None
        model = dict(type=Model, fn=make)
        """)
    cfg = Config.fromfile(path)
    assert target_pkg not in sys.modules
    assert cfg.to_dict()['model'] == {
        'type': f'{target_pkg}.Model',
        'fn': f'{target_pkg}.make'
    }


def test_mixing_styles_errors_share_one_type_and_say_how_loaded(tmp_path):
    from mmengine.config.utils import ConfigParsingError
    write(tmp_path, 'plain.py', 'z = 1\n')
    write(tmp_path, 'lazy_base.py', 'import mmengine.utils as mu\nx = 1\n')
    text_child = write(tmp_path, 'text_child.py',
                       "_base_ = './lazy_base.py'\ny = 2\n")
    with pytest.raises(ConfigParsingError, match=r'text_child\.py inherits'):
        Config.fromfile(text_child)
    forced = write(tmp_path, 'forced.py', "_base_ = './plain.py'\ny = 2\n")
    with pytest.raises(ConfigParsingError,
                       match=r'forced\.py, line 1.*lazy_import=True'):
        Config.fromfile(forced, lazy_import=True)


def test_lazy_submodule_import_failure_is_reported(tmp_path, monkeypatch):
    # an existing submodule that fails to import (a missing dependency)
    # must not be reported as "has no attribute"
    pkg = tmp_path / 'lazy_pkg_q'
    pkg.mkdir()
    (pkg / '__init__.py').write_text('')
    (pkg / 'broken.py').write_text('import no_such_dep_q\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    for lazy in (LazyObject('lazy_pkg_q', 'broken', 'cfg.py, line 2'),
                 LazyAttr('broken', LazyObject('lazy_pkg_q'),
                          'cfg.py, line 2')):
        with pytest.raises(ImportError,
                           match=r'lazy_pkg_q\.broken.*cfg\.py, line 2.*'
                           'no_such_dep_q'):
            lazy.build()
    with pytest.raises(ImportError, match="has no attribute 'missing'"):
        LazyObject('lazy_pkg_q', 'missing').build()
    sys.modules.pop('lazy_pkg_q', None)
