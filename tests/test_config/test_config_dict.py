"""Tests of mmengine.config.ConfigDict."""
import copy
import pickle
from collections import OrderedDict

import pytest

import mmengine
from mmengine.config import ConfigDict
from mmengine.config.lazy import LazyObject


def test_attribute_and_item_access():
    cfg = ConfigDict(a=1, b=dict(c=[dict(d=2)], e=(dict(f=3), 4)))
    assert cfg.a == cfg['a'] == 1
    assert isinstance(cfg.b, ConfigDict)
    assert isinstance(cfg.b.c[0], ConfigDict) and cfg.b.c[0].d == 2
    assert isinstance(cfg.b.e, tuple) and cfg.b.e[0].f == 3
    cfg.g = dict(h=1)
    assert isinstance(cfg['g'], ConfigDict) and cfg.g.h == 1
    cfg['i'] = [dict(j=1)]
    assert isinstance(cfg.i[0], ConfigDict)
    del cfg.g
    assert 'g' not in cfg
    assert repr(ConfigDict(type='SGD', lr=0.02)) == \
        "{'type': 'SGD', 'lr': 0.02}"


def test_construction_forms():
    base = ConfigDict(x=1)
    cfg = ConfigDict(**base, module=dict(y=2))
    assert cfg == {'x': 1, 'module': {'y': 2}}
    assert ConfigDict([('a', 1)]) == {'a': 1}
    assert ConfigDict(None) == {}
    # user dict subclasses are kept as they are
    od = OrderedDict(a=1)
    assert ConfigDict(x=od).x is od


def test_missing_key_errors_name_the_key():
    cfg = ConfigDict(a=1)
    with pytest.raises(AttributeError, match="no attribute 'missing_key'"):
        cfg.missing_key
    with pytest.raises(KeyError, match='missing_key'):
        cfg['missing_key']
    with pytest.raises(AttributeError, match='missing_key'):
        del cfg.missing_key
    assert cfg.get('missing_key') is None
    assert cfg.get('missing_key', 3) == 3
    assert cfg.pop('missing_key', 4) == 4
    # no auto-vivification
    assert not hasattr(cfg, 'nested')


def test_update_is_recursive():
    cfg = ConfigDict(model=dict(type='R', depth=50), x=1)
    cfg.update(dict(model=dict(depth=101)), x=2)
    assert cfg == {'model': {'type': 'R', 'depth': 101}, 'x': 2}
    cfg.update(model=3)
    assert cfg.model == 3
    with pytest.raises(TypeError):
        cfg.update({}, {})


def test_merge_with_delete():
    cfg = ConfigDict(model=dict(type='R', depth=50))
    cfg.merge(dict(model=dict(_delete_=True, type='S')))
    assert cfg == {'model': {'type': 'S'}}


def test_to_dict_and_copies():
    cfg = ConfigDict(a=dict(b=[dict(c=1)]), d=(1, 2))
    plain = cfg.to_dict()
    assert type(plain) is dict and type(plain['a']) is dict
    assert type(plain['a']['b'][0]) is dict and plain['d'] == (1, 2)
    shallow = cfg.copy()
    assert isinstance(shallow, ConfigDict) and shallow.a is cfg.a
    assert copy.copy(cfg).a is cfg.a
    deep = copy.deepcopy(cfg)
    assert deep == cfg and deep.a is not cfg.a
    assert isinstance(deep.a.b[0], ConfigDict)
    restored = pickle.loads(pickle.dumps(cfg))
    assert restored == cfg and isinstance(restored.a, ConfigDict)


def test_lazy_values_are_built_on_access():
    lazy = LazyObject('mmengine')
    cfg = ConfigDict(a=lazy, b=dict(c=lazy, d=[dict(e=lazy)]))
    assert cfg.a is mmengine and cfg['a'] is mmengine
    assert cfg.get('a') is mmengine
    assert cfg.b.d[0].e is mmengine
    assert dict(cfg.items())['a'] is mmengine
    assert cfg.values()[0] is mmengine
    # dict(cfg) and **cfg see built objects too
    assert dict(cfg)['a'] is mmengine
    assert (lambda **kw: kw)(**cfg)['a'] is mmengine
    # the stored form keeps the lazy object
    assert cfg._to_lazy_dict()['b']['c'] is lazy
    assert cfg.to_dict()['a'] == 'mmengine'
    # copies and pickles keep it lazy
    assert copy.deepcopy(cfg)._to_lazy_dict()['a'] == lazy
    assert pickle.loads(pickle.dumps(cfg))._to_lazy_dict()['a'] == lazy
    assert cfg.pop('a') is mmengine
