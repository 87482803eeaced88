"""Tests of ``mmengine.registry.Registry``: construction, registration,
lookup through the tree, scopes, repr and error messages."""
import copy
import functools
import importlib.util
import pickle
import sys
import threading

import pytest

from mmengine.registry import DefaultScope, Registry, build_from_cfg


@pytest.fixture(autouse=True)
def clean_default_scope():
    saved = dict(DefaultScope._instance_dict)
    DefaultScope._instance_dict.clear()
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)


def make_tree():
    """DOGS -> (HOUNDS -> (LITTLE_HOUNDS, MID_HOUNDS), SAMOYEDS)."""
    dogs = Registry('dogs', scope='dog')
    hounds = Registry('hounds', parent=dogs, scope='hound')
    little = Registry('little hounds', parent=hounds, scope='little_hound')
    mid = Registry('mid hounds', parent=hounds, scope='mid_hound')
    samoyeds = Registry('samoyeds', parent=dogs, scope='samoyed')
    return dogs, hounds, little, mid, samoyeds


# ----------------------------------------------------------------- init
def test_init_defaults_and_properties():
    cats = Registry('cat')
    assert cats.name == 'cat'
    assert cats.module_dict == {}
    assert cats.build_func is build_from_cfg
    assert len(cats) == 0
    assert cats.parent is None
    assert cats.children == {}
    assert cats.root is cats
    # scope defaults to the top-level package of the calling module
    assert cats.scope == __name__.split('.')[0]


def test_init_scope_inferred_through_subclass_init():
    class MyRegistry(Registry):

        def __init__(self, name, **kwargs):
            super().__init__(name, **kwargs)

    assert MyRegistry('x').scope == __name__.split('.')[0]


def test_infer_scope_static_method():

    def make():
        return Registry.infer_scope()

    assert make() == __name__.split('.')[0]


def test_init_parent_and_build_func_inheritance():

    def custom_build(cfg, registry):
        return 'built'

    cats = Registry('cat', build_func=custom_build, scope='cat')
    little = Registry('little_cat', parent=cats, scope='little_cat')
    assert little.parent is cats
    assert cats.children['little_cat'] is little
    assert little.build_func is custom_build
    assert little.build(dict(type='anything')) == 'built'
    assert little.root is cats

    def other(cfg, registry):
        return 'other'

    other_child = Registry('o', parent=cats, scope='o', build_func=other)
    assert other_child.build_func is other


@pytest.mark.parametrize('kwargs, match', [
    (dict(parent='cat'), 'parent should be None or a Registry'),
    (dict(scope=1), 'scope should be None or a str'),
    (dict(locations='mmengine.optim'), 'locations should be a list'),
    (dict(build_func=3), 'build_func should be callable'),
])
def test_init_bad_arguments(kwargs, match):
    # TypeError and also AssertionError (what the original raised)
    with pytest.raises(TypeError, match=match):
        Registry('cat', **kwargs)
    with pytest.raises(AssertionError):
        Registry('cat', **kwargs)


def test_init_duplicate_child_scope():
    cats = Registry('cat', scope='cat')
    Registry('a', parent=cats, scope='kitten')
    with pytest.raises(AssertionError, match='scope "kitten" exists'):
        Registry('b', parent=cats, scope='kitten')


# ----------------------------------------------------------- registration
def test_register_decorator_direct_and_names():
    cats = Registry('cat')

    @cats.register_module()
    def munchkin(size):
        return size

    @cats.register_module(name='Shorthair')
    class BritishShorthair:
        pass

    @cats.register_module(name=['Siamese', 'Siamese2'])
    class SiameseCat:
        pass

    class Sphynx:
        pass

    assert cats.register_module(module=Sphynx) is Sphynx
    cats.register_module('Sphynx1', module=Sphynx)
    cats.register_module(name=('Sphynx2', 'Sphynx3'), module=Sphynx)
    partial = functools.partial(munchkin, size=0)
    cats.register_module('munchkin0', False, partial)
    cats.register_module(name='unknown cat', module=lambda: 'unknown')

    assert cats.get('munchkin') is munchkin
    assert cats.get('Shorthair') is BritishShorthair
    assert cats.get('Siamese') is cats.get('Siamese2') is SiameseCat
    assert cats.get('Sphynx3') is Sphynx
    assert cats.get('munchkin0') is partial
    assert 'unknown cat' in cats
    assert len(cats) == 10
    assert list(cats.module_dict) == [
        'munchkin', 'Shorthair', 'Siamese', 'Siamese2', 'Sphynx', 'Sphynx1',
        'Sphynx2', 'Sphynx3', 'munchkin0', 'unknown cat'
    ]
    assert list(cats) == list(cats.module_dict)


def test_register_errors():
    cats = Registry('cat', scope='cats')

    @cats.register_module()
    class Munchkin:
        pass

    with pytest.raises(TypeError, match='name must be None, an instance of '
                       "str, or a sequence of str, but got <class 'int'>"):
        cats.register_module(name=7)
    with pytest.raises(TypeError, match='sequence of str'):
        cats.register_module(name=['a', 1])
    with pytest.raises(TypeError,
                       match="force must be a boolean, but got <class 'int'>"):
        cats.register_module(force=1)
    with pytest.raises(TypeError,
                       match="module must be Callable, but got <class 'str'>"):
        cats.register_module(module='string')
    with pytest.raises(TypeError, match='explicit name'):
        cats.register_module(module=functools.partial(print))

    # duplicate: the message names the existing class and how to replace it
    with pytest.raises(KeyError) as info:

        @cats.register_module()
        class Munchkin:  # noqa: F811
            pass

    msg = str(info.value)
    assert 'Munchkin is already registered in cat at ' + __name__ in msg
    assert 'test_register_errors.<locals>.Munchkin' in msg
    assert 'force=True' in msg

    @cats.register_module(force=True)
    class Munchkin:  # noqa: F811
        pass

    assert cats.get('Munchkin') is Munchkin
    assert len(cats) == 1


def test_register_aliases_all_or_nothing():
    # One taken alias fails the whole registration: the free aliases listed
    # with it must not end up registered either.
    cats = Registry('cat', scope='test_aliases')

    @cats.register_module()
    class Siamese:
        pass

    class Sphynx:
        pass

    with pytest.raises(KeyError, match='Siamese is already registered'):
        cats.register_module(name=['Sphynx', 'Siamese'])(Sphynx)

    assert list(cats.module_dict) == ['Siamese']
    assert cats.get('Sphynx') is None

    cats.register_module(name=['Sphynx', 'Siamese'], force=True,
                         module=Sphynx)
    assert cats.get('Siamese') is Sphynx and cats.get('Sphynx') is Sphynx


# ----------------------------------------------------------------- lookup
def test_split_scope_key():
    assert Registry.split_scope_key('BloodHound') == (None, 'BloodHound')
    assert Registry.split_scope_key('hound.BloodHound') == ('hound',
                                                            'BloodHound')
    assert Registry.split_scope_key('a.b.C') == ('a', 'b.C')


def test_get_through_tree():
    dogs, hounds, little, mid, samoyeds = make_tree()

    with pytest.raises(TypeError, match='must be a str'):
        mid.get(None)

    @dogs.register_module()
    class GoldenRetriever:
        pass

    @hounds.register_module()
    class BloodHound:
        pass

    @little.register_module()
    class Dachshund:
        pass

    @mid.register_module()
    class Beagle:
        pass

    @samoyeds.register_module()
    class Samoyed:
        pass

    assert hounds.get('BloodHound') is BloodHound
    assert dogs.get('hound.BloodHound') is BloodHound  # child
    assert hounds.get('hound.BloodHound') is BloodHound  # own scope
    assert hounds.get('GoldenRetriever') is GoldenRetriever  # parent
    assert little.get('GoldenRetriever') is GoldenRetriever  # grandparent
    assert little.get('hound.BloodHound') is BloodHound
    assert hounds.get('little_hound.Dachshund') is Dachshund
    assert dogs.get('hound.little_hound.Dachshund') is Dachshund
    assert little.get('hound.mid_hound.Beagle') is Beagle  # sibling
    assert little.get('samoyed.Samoyed') is Samoyed  # uncle
    assert little.get('dog.GoldenRetriever') is GoldenRetriever  # root

    assert little.get('Unknown') is None
    assert dogs.get('nosuchscope.Samoyed') is None
    assert dogs.get('samoyed.Dachshund') is None
    # a prefixed own scope does not fall back to the parents
    assert hounds.get('hound.GoldenRetriever') is None
    # an importable dotted path is the last resort
    import mmengine.utils
    assert little.get('mmengine.utils') is mmengine.utils
    assert little.get('mmengine.utils.is_str') is mmengine.utils.is_str
    assert little.get('mmengine.unknown') is None
    # but an undotted name never resolves to a module
    assert little.get('sys') is None


def test_dotted_name_registered_literally():
    dogs, hounds, *_ = make_tree()
    dogs.register_module(name='hound.Literal', module=dict)
    assert dogs.get('hound.Literal') is dict
    assert dogs.build(dict(type='hound.Literal', a=1)) == {'a': 1}


def test_unknown_scope_prefix_is_a_plain_name_in_ancestors():
    dogs, hounds, little, *_ = make_tree()
    dogs.register_module(name='torchvision.RandomCrop', module=list)
    # 'torchvision' is no scope of the tree: the whole key is a name
    assert little.get('torchvision.RandomCrop') is list
    assert 'torchvision.RandomCrop' in hounds
    assert little.build(dict(type='torchvision.RandomCrop')) == []
    assert little.get('torchvision.CenterCrop') is None


def test_child_name_shadows_parent():
    dogs, hounds, *_ = make_tree()

    @dogs.register_module(name='Dog')
    class ParentDog:
        pass

    @hounds.register_module(name='Dog')
    class ChildDog:
        pass

    assert hounds.get('Dog') is ChildDog
    assert hounds.get('dog.Dog') is ParentDog


def test_contains_searches_tree_only():
    dogs, hounds, *_ = make_tree()

    @dogs.register_module()
    class GoldenRetriever:
        pass

    assert 'GoldenRetriever' in hounds
    assert 'dog.GoldenRetriever' in hounds
    assert 'Poodle' not in hounds
    assert 'os.path' not in hounds
    assert 3 not in hounds


def test_search_child_and_root():
    dogs, hounds, little, mid, samoyeds = make_tree()
    assert dogs._search_child('hound') is hounds
    assert dogs._search_child('little_hound') is little
    assert dogs._search_child('not a child') is None
    assert little._search_child('hound') is None
    for registry in (dogs, hounds, little, mid, samoyeds):
        assert registry._get_root_registry() is dogs
        assert registry.root is dogs


# ----------------------------------------------------------------- scopes
def test_switch_scope_and_registry():
    dogs = Registry('dogs', scope='dog')
    hounds = Registry('hounds', scope='hound', parent=dogs)
    samoyeds = Registry('samoyeds', scope='samoyed', parent=dogs)
    chihuahua = Registry('chihuahuas', scope='chihuahua', parent=dogs)

    with chihuahua.switch_scope_and_registry(None) as registry:
        assert registry is chihuahua  # no default scope at all
        assert DefaultScope.get_current_instance() is None

    DefaultScope.get_instance('switch-test', scope_name='chihuahua')
    with chihuahua.switch_scope_and_registry('hound') as registry:
        assert DefaultScope.get_current_instance().scope_name == 'hound'
        assert registry is hounds
        with chihuahua.switch_scope_and_registry('samoyed') as inner:
            assert inner is samoyeds
            assert DefaultScope.get_current_instance().scope_name == \
                'samoyed'
        assert DefaultScope.get_current_instance().scope_name == 'hound'
    assert DefaultScope.get_current_instance().scope_name == 'chihuahua'
    assert list(DefaultScope._instance_dict) == ['switch-test']

    with chihuahua.switch_scope_and_registry('unknown-scope') as registry:
        assert registry is chihuahua
        assert DefaultScope.get_current_instance().scope_name == \
            'unknown-scope'


def test_default_scope_selects_registry_for_lookup_in_build():
    dogs, hounds, little, mid, samoyeds = make_tree()

    @mid.register_module()
    class Beagle:
        pass

    with pytest.raises(KeyError):
        little.build(dict(type='Beagle'))
    DefaultScope.get_instance('scope-test', scope_name='mid_hound')
    assert isinstance(little.build(dict(type='Beagle')), Beagle)


def test_unknown_default_scope_warns_once_and_uses_self(capsys):
    dogs, hounds, *_ = make_tree()

    @hounds.register_module()
    class BloodHound:
        pass

    DefaultScope.get_instance('bad-scope', scope_name='scope-not-found')
    assert isinstance(hounds.build(dict(type='BloodHound')), BloodHound)
    assert isinstance(hounds.build(dict(type='BloodHound')), BloodHound)
    out = capsys.readouterr().out
    assert out.count('Failed to search registry with scope '
                     '"scope-not-found"') == 1


def test_scope_registry_module_is_imported(tmp_path, monkeypatch):
    """'<scope>.X' imports '<scope>.registry', which attaches the child."""
    pkg = tmp_path / 'fake_downstream_pkg'
    pkg.mkdir()
    (pkg / '__init__.py').write_text('')
    (pkg / 'registry.py').write_text(
        'from fake_root_holder import ROOT\n'
        'from mmengine.registry import Registry\n'
        "CHILD = Registry('thing', parent=ROOT, scope='fake_downstream_pkg')\n"
        '@CHILD.register_module()\n'
        'class Widget:\n'
        '    pass\n')
    holder = type(sys)('fake_root_holder')
    holder.ROOT = Registry('thing', scope='fake_root')
    monkeypatch.setitem(sys.modules, 'fake_root_holder', holder)
    monkeypatch.syspath_prepend(str(tmp_path))
    widget = holder.ROOT.get('fake_downstream_pkg.Widget')
    assert widget is not None and widget.__name__ == 'Widget'
    monkeypatch.delitem(sys.modules, 'fake_downstream_pkg.registry')
    monkeypatch.delitem(sys.modules, 'fake_downstream_pkg')


# -------------------------------------------------------------- locations
def test_locations_imported_once_on_first_lookup(tmp_path, monkeypatch):
    module = tmp_path / 'fake_location_mod.py'
    module.write_text(
        'import fake_location_holder as h\n'
        'h.COUNT += 1\n'
        '@h.REG.register_module()\n'
        'class Lazy:\n'
        '    pass\n')
    holder = type(sys)('fake_location_holder')
    holder.COUNT = 0
    holder.REG = Registry(
        'lazy', scope='lazy', locations=['fake_location_mod'])
    monkeypatch.setitem(sys.modules, 'fake_location_holder', holder)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert holder.COUNT == 0  # nothing imported at construction
    assert holder.REG.get('Lazy').__name__ == 'Lazy'
    assert holder.REG.get('Lazy') is holder.REG.get('Lazy')
    assert holder.COUNT == 1
    # a child looking a name up in its parent imports the parent's locations
    monkeypatch.delitem(sys.modules, 'fake_location_mod')
    holder.REG2 = Registry(
        'lazy', scope='lazy2', locations=['fake_location_mod'])
    holder.REG = holder.REG2
    child = Registry('child', parent=holder.REG2, scope='child')
    assert child.get('Lazy').__name__ == 'Lazy'
    assert holder.COUNT == 2
    monkeypatch.delitem(sys.modules, 'fake_location_mod')


def test_locations_import_is_thread_safe(tmp_path, monkeypatch):
    """Threads that look up while another imports the locations wait for
    the import to finish instead of seeing a half-filled registry."""
    (tmp_path / 'slow_location_mod.py').write_text(
        'import threading, time\n'
        'import slow_location_holder as h\n'
        'h.STARTED.set()\n'
        'time.sleep(0.2)\n'
        '@h.REG.register_module()\n'
        'class Slow:\n'
        '    pass\n')
    holder = type(sys)('slow_location_holder')
    holder.STARTED = threading.Event()
    holder.REG = Registry(
        'slow', scope='slow', locations=['slow_location_mod'])
    monkeypatch.setitem(sys.modules, 'slow_location_holder', holder)
    monkeypatch.syspath_prepend(str(tmp_path))
    results = []

    def build():
        try:
            results.append(type(holder.REG.build(dict(type='Slow'))).__name__)
        except Exception as e:  # collected: asserted below
            results.append(repr(e))

    first = threading.Thread(target=build)
    first.start()
    holder.STARTED.wait(5)  # the import is under way
    others = [threading.Thread(target=build) for _ in range(3)]
    for thread in others:
        thread.start()
    for thread in [first] + others:
        thread.join()
    assert results == ['Slow'] * 4
    monkeypatch.delitem(sys.modules, 'slow_location_mod')


def test_location_may_look_itself_up_while_importing(tmp_path, monkeypatch):
    (tmp_path / 'self_lookup_mod.py').write_text(
        'import self_lookup_holder as h\n'
        '@h.REG.register_module()\n'
        'class First:\n'
        '    pass\n'
        'h.SEEN = h.REG.get("First")\n')
    holder = type(sys)('self_lookup_holder')
    holder.REG = Registry('s', scope='s', locations=['self_lookup_mod'])
    monkeypatch.setitem(sys.modules, 'self_lookup_holder', holder)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert holder.REG.get('First').__name__ == 'First'
    assert holder.SEEN is holder.REG.get('First')  # no deadlock, no re-import
    monkeypatch.delitem(sys.modules, 'self_lookup_mod')


def test_registry_pickles_and_copies():
    cats = Registry('cat', scope='pickle_cats', locations=['json'])
    cats.register_module(name='OrderedDict', module=dict)
    for clone in (pickle.loads(pickle.dumps(cats)), copy.deepcopy(cats)):
        assert clone.name == 'cat' and clone.scope == 'pickle_cats'
        assert clone.get('OrderedDict') is dict
        assert clone.locations == ['json']


def test_failed_location_is_reported_not_raised(capsys):
    reg = Registry(
        'optimizer', scope='loc', locations=['no_such_module_for_registry'])

    @reg.register_module()
    class SGD:
        pass

    assert reg.get('SGD') is SGD  # lookup continues
    assert 'Failed to import "no_such_module_for_registry"' in \
        capsys.readouterr().out
    with pytest.raises(KeyError) as info:
        reg.build(dict(type='Adam'))
    msg = str(info.value)
    assert 'no_such_module_for_registry (failed: ModuleNotFoundError' in msg


def test_error_inside_location_propagates(tmp_path, monkeypatch):
    (tmp_path / 'broken_location_mod.py').write_text('1 / 0\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = Registry('b', scope='b', locations=['broken_location_mod'])
    with pytest.raises(ZeroDivisionError):
        reg.get('X')
    # not retried, but later failures name the broken location
    with pytest.raises(KeyError, match='broken_location_mod .failed: '
                       'ZeroDivisionError'):
        reg.build(dict(type='X'))


# --------------------------------------------------------- unknown types
def test_unknown_type_error_message():
    dogs, hounds, little, mid, samoyeds = make_tree()

    @dogs.register_module()
    class SGD:
        pass

    @samoyeds.register_module()
    class LogSoftmax:
        pass

    with pytest.raises(KeyError) as info:
        little.build(dict(type='SDG'))
    msg = str(info.value)
    # shown as written, not as repr() with escaped quotes
    assert msg.startswith("'SDG' is not in the 'little hounds' registry")
    assert '\\' not in msg
    assert "Searched scopes: 'little_hound' -> 'hound' -> 'dog'" in msg
    assert "Did you mean 'SGD'?" in msg
    assert 'Import locations: none set.' in msg

    # the name exists only in another scope: suggest the prefixed name
    with pytest.raises(KeyError, match="Did you mean 'samoyed.LogSoftmax'"):
        little.build(dict(type='LogSoftmax'))
    # case differences are suggested too
    with pytest.raises(KeyError, match="Did you mean 'SGD'"):
        little.build(dict(type='sgd'))
    # an unknown scope prefix says so
    with pytest.raises(KeyError, match="No registry with scope 'nosuch'"):
        little.build(dict(type='nosuch.SGD'))
    # nothing close: no suggestion
    with pytest.raises(KeyError) as info:
        little.build(dict(type='Zzzzzzzz'))
    assert 'Did you mean' not in str(info.value)


# ------------------------------------------------------------------ repr
def test_repr_is_a_table():
    cats = Registry('cat')

    @cats.register_module()
    class BritishShorthair:
        pass

    @cats.register_module()
    class Munchkin:
        pass

    text = repr(cats)
    assert 'Registry of cat' in text
    assert 'Names' in text and 'Objects' in text
    lines = [line for line in text.splitlines() if 'Munchkin' in line]
    assert len(lines) == 1 and 'class' in lines[0]
    assert '\x1b[' not in text  # no colour codes in a repr


def test_old_downstream_register_all_modules(tmp_path, monkeypatch, capsys):
    """A known downstream scope without ``locations`` falls back to
    ``<scope>.utils.register_all_modules`` (how old libraries register)."""
    pkg = tmp_path / 'mmflow'
    pkg.mkdir()
    (pkg / '__init__.py').write_text('')
    (pkg / 'utils.py').write_text(
        'CALLS = []\n'
        'def register_all_modules(init_default_scope=True):\n'
        '    import fake_flow_holder as h\n'
        '    CALLS.append(init_default_scope)\n'
        "    h.REG.register_module('FlowNet', module=dict)\n")
    holder = type(sys)('fake_flow_holder')
    monkeypatch.setitem(sys.modules, 'fake_flow_holder', holder)
    monkeypatch.syspath_prepend(str(tmp_path))
    holder.REG = Registry('model', scope='mmflow')
    try:
        assert holder.REG.get('FlowNet') is dict
        assert sys.modules['mmflow.utils'].CALLS == [False]
    finally:
        sys.modules.pop('mmflow.utils', None)
        sys.modules.pop('mmflow', None)

    # not installed: a warning that says what to install
    missing = Registry('model', scope='mmhuman3d')
    if importlib.util.find_spec('mmhuman3d') is None:
        assert missing.get('Anything') is None
        assert 'pip install mmhuman3d' in capsys.readouterr().out
