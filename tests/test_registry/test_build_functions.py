"""Tests of the builders in ``mmengine.registry.build_functions``."""
import contextlib
import functools
import logging

import pytest

from mmengine.logging import MMLogger
from mmengine.registry import (DefaultScope, Registry, build_from_cfg,
                               build_model_from_cfg, build_runner_from_cfg,
                               build_scheduler_from_cfg)
from mmengine.utils import ManagerMixin


@pytest.fixture(autouse=True)
def clean_default_scope():
    saved = dict(DefaultScope._instance_dict)
    DefaultScope._instance_dict.clear()
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)


@contextlib.contextmanager
def captured_log(name, level):
    """Messages logged by a fresh MMLogger ``name`` at ``level``, as a list
    that fills while the block runs; the logger is removed afterwards."""
    logger = MMLogger.get_instance(name, log_level=level)
    records = []

    class Collect(logging.Handler):

        def emit(self, record):
            records.append(record.getMessage())

    handler = Collect(level=getattr(logging, level))
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        MMLogger._instance_dict.pop(name)


def config_types():
    """dict and ConfigDict (and Config once mmengine.config provides it)."""
    types = [dict]
    try:
        from mmengine.config import Config, ConfigDict
    except ImportError:
        return types
    return types + [ConfigDict, Config]


@pytest.fixture
def backbones():
    registry = Registry('backbone', scope='bb')

    @registry.register_module()
    class ResNet:

        def __init__(self, depth, stages=4):
            self.depth = depth
            self.stages = stages

    @registry.register_module()
    def make_pair(a, b):
        return (a, b)

    return registry


@pytest.mark.parametrize('cfg_type', config_types())
def test_build_from_cfg_basic(backbones, cfg_type):
    ResNet = backbones.get('ResNet')
    cfg = cfg_type(dict(type='ResNet', depth=50))
    model = build_from_cfg(cfg, backbones)
    assert isinstance(model, ResNet) and (model.depth, model.stages) == (50,
                                                                         4)
    assert cfg['type'] == 'ResNet'  # the config is not modified
    # type as the class itself, and a function whose result is returned
    model = build_from_cfg(cfg_type(dict(type=ResNet, depth=18)), backbones)
    assert model.depth == 18
    assert backbones.build(cfg_type(dict(type='make_pair', a=1,
                                         b=2))) == (1, 2)
    # default_args: explicit cfg keys win, and may supply the type
    model = build_from_cfg(
        cfg_type(dict(type='ResNet', depth=50, stages=2)), backbones,
        cfg_type(dict(stages=3, depth=1)))
    assert (model.depth, model.stages) == (50, 2)
    model = build_from_cfg(
        cfg_type(dict(depth=50)), backbones, cfg_type(dict(type='ResNet')))
    assert model.depth == 50
    # a partial or lambda can be registered and built
    backbones.register_module('deep', module=functools.partial(ResNet, 101))
    assert backbones.build(cfg_type(dict(type='deep'))).depth == 101
    backbones.register_module('ident', module=lambda name: name)
    assert backbones.build(cfg_type(dict(type='ident', name='x'))) == 'x'


def test_build_from_cfg_errors(backbones):
    with pytest.raises(TypeError, match='cfg should be a dict, ConfigDict or '
                       "Config, but got <class 'str'>"):
        build_from_cfg('ResNet', backbones)
    with pytest.raises(KeyError, match='must contain the key "type"') as info:
        build_from_cfg(dict(depth=50), backbones, dict(stages=4))
    assert str(info.value).endswith(
        "\"backbone\" registry), but got cfg {'depth': 50} and default_args "
        "{'stages': 4}")
    with pytest.raises(TypeError, match='type must be a str or valid type, '
                       "but got <class 'int'>"):
        build_from_cfg(dict(type=1000), backbones)
    with pytest.raises(TypeError, match='default_args should be a dict'):
        build_from_cfg(dict(type='ResNet', depth=1), backbones, 1)
    with pytest.raises(TypeError, match='registry must be a mmengine.'
                       "Registry object, but got <class 'str'>"):
        build_from_cfg(dict(type='ResNet'), 'BACKBONES')
    with pytest.raises(KeyError, match="'Res' is not in the 'backbone'"):
        build_from_cfg(dict(type='Res'), backbones)


def test_constructor_error_keeps_type_and_traceback(backbones):

    @backbones.register_module()
    class Broken:

        def __init__(self, value):
            raise ValueError(f'bad value {value}')

    with pytest.raises(ValueError, match='bad value 3') as info:
        backbones.build(dict(type='Broken', value=3))
    note = info.value.__notes__[0]
    assert 'while building `Broken`' in note
    assert "'backbone' registry" in note or '"backbone" registry' in note
    assert "{'type': 'Broken', 'value': 3}" in note
    # the traceback still reaches the constructor
    assert info.traceback[-1].name == '__init__'

    # unexpected keyword: still a TypeError naming the class
    with pytest.raises(TypeError, match='non_existing_arg') as info:
        backbones.build(dict(type='ResNet', depth=1, non_existing_arg=2))
    assert 'while building `ResNet`' in info.value.__notes__[0]


def test_nested_build_errors_add_one_note_per_level(backbones):

    @backbones.register_module()
    class Outer:

        def __init__(self, inner):
            self.inner = backbones.build(inner)

    with pytest.raises(TypeError) as info:
        backbones.build(dict(type='Outer', inner=dict(type='ResNet')))
    notes = info.value.__notes__
    assert len(notes) == 2
    assert '`ResNet`' in notes[0] and '`Outer`' in notes[1]


def test_long_config_is_truncated_in_note(backbones):
    with pytest.raises(TypeError) as info:
        backbones.build(dict(type='ResNet', depth=1, junk='x' * 5000))
    assert len(info.value.__notes__[0]) < 800


def test_manager_mixin_built_through_get_instance():
    visualizers = Registry('visualizer', scope='vis')

    @visualizers.register_module()
    class Visualizer(ManagerMixin):

        def __init__(self, name):
            super().__init__(name)

    with pytest.raises(RuntimeError):
        Visualizer.get_current_instance()
    first = visualizers.build(dict(type='Visualizer', name='v1'))
    assert Visualizer.get_current_instance() is first
    assert visualizers.build(dict(type='Visualizer', name='v1')) is first


def test_scope_key_switches_scope_for_nested_builds():
    dogs = Registry('dogs', scope='dog')
    hounds = Registry('hounds', parent=dogs, scope='hound')
    samoyeds = Registry('samoyeds', parent=dogs, scope='samoyed')

    @hounds.register_module()
    class BloodHound:
        pass

    @samoyeds.register_module()
    class YourSamoyed:
        pass

    seen = []

    @samoyeds.register_module()
    class MySamoyed:

        def __init__(self, friend):
            seen.append(DefaultScope.get_current_instance().scope_name)
            self.friend = dogs.build(friend)

    cfg = dict(_scope_='samoyed', type='MySamoyed',
               friend=dict(type='YourSamoyed'))
    dog = dogs.build(cfg)
    assert isinstance(dog, MySamoyed) and isinstance(dog.friend, YourSamoyed)
    assert seen == ['samoyed']
    assert cfg['_scope_'] == 'samoyed'  # not popped from the caller's dict
    assert DefaultScope.get_current_instance() is None

    dog = dogs.build(dict(_scope_='samoyed', type='MySamoyed',
                          friend=dict(type='hound.BloodHound')))
    assert isinstance(dog.friend, BloodHound)
    # an exception inside restores the scope too
    with pytest.raises(KeyError):
        dogs.build(dict(_scope_='samoyed', type='MySamoyed',
                        friend=dict(type='Nope')))
    assert DefaultScope.get_current_instance() is None


def test_default_scope_sees_registries_added_later():
    # The registry of a default scope is looked up once per build; a
    # registry joining the tree later must be found from then on, also when
    # it comes before an earlier answer in the depth-first search order.
    root = Registry('animal', scope='test_late_root')
    cats = Registry('animal', parent=root, scope='test_late_cat')
    dogs = Registry('animal', parent=root, scope='test_late_dog')

    class Animal:
        pass

    root.register_module(name='Pet', module=Animal)
    DefaultScope.get_instance('test_late', scope_name='test_late_pet')
    assert type(root.build(dict(type='Pet'))) is Animal  # no such scope yet

    puppies = Registry('animal', parent=dogs, scope='test_late_pet')
    Puppy = type('Puppy', (), {})
    puppies.register_module(name='Pet', module=Puppy)
    assert type(root.build(dict(type='Pet'))) is Puppy
    assert type(root.build(dict(type='Pet'))) is Puppy

    kittens = Registry('animal', parent=cats, scope='test_late_pet')
    Kitten = type('Kitten', (), {})
    kittens.register_module(name='Pet', module=Kitten)
    # cats come before dogs among root's children
    assert type(root.build(dict(type='Pet'))) is Kitten


def test_debug_log_lines(backbones):
    with captured_log('registry-debug-test', 'DEBUG') as records:
        backbones.build(dict(type='ResNet', depth=1))
    assert 'Get class `ResNet` from "backbone" registry in "bb"' in records
    assert ('An `ResNet` instance is built from registry, its implementation '
            f'can be found in {__name__}') in records


def test_debug_log_lines_of_nested_and_failing_builds(backbones):
    """The 'Get class' line precedes the construction, so nested builds read
    top-down and a failing constructor is preceded by its class."""

    @backbones.register_module()
    class Neck:

        def __init__(self, inner):
            self.inner = backbones.build(inner)

    with captured_log('registry-debug-order', 'DEBUG') as records:
        backbones.build(dict(type='Neck', inner=dict(type='ResNet', depth=1)))
        nested = list(records)
        records.clear()
        with pytest.raises(TypeError):
            backbones.build(dict(type='ResNet'))
    built = ('An `{}` instance is built from registry, its implementation '
             f'can be found in {__name__}')
    assert nested == [
        'Get class `Neck` from "backbone" registry in "bb"',
        'Get class `ResNet` from "backbone" registry in "bb"',
        built.format('ResNet'),
        built.format('Neck'),
    ]
    assert records == ['Get class `ResNet` from "backbone" registry in "bb"']


def test_no_debug_formatting_at_info_level(backbones):
    with captured_log('registry-info-test', 'INFO') as records:
        backbones.build(dict(type='ResNet', depth=1))
    assert records == []


# ------------------------------------------------------- model builder
def test_build_model_from_cfg_list_builds_sequential():
    nn = pytest.importorskip('torch.nn')
    models = Registry('backbone', build_func=build_model_from_cfg, scope='m')

    @models.register_module()
    class ResNet(nn.Module):

        def __init__(self, depth, stages=4):
            super().__init__()
            self.depth, self.stages = depth, stages

        def forward(self, x):
            return x

    model = models.build(dict(type='ResNet', depth=50))
    assert isinstance(model, ResNet)
    seq = models.build([dict(type='ResNet', depth=50),
                        dict(type='ResNet', depth=18, stages=3)])
    assert isinstance(seq, nn.Sequential)
    assert [m.depth for m in seq] == [50, 18] and seq[1].stages == 3
    child = Registry('models', parent=models, scope='new')
    assert child.build_func is build_model_from_cfg


# ------------------------------------------------------ runner builder
class _FakeRunner:

    def __init__(self, cfg):
        self.cfg = cfg

    @classmethod
    def from_cfg(cls, cfg):
        return cls(cfg)


def test_build_runner_from_cfg():
    runners = Registry('runner', build_func=build_runner_from_cfg, scope='r')
    runners.register_module('Runner', module=_FakeRunner)

    class CustomRunner(_FakeRunner):
        pass

    runners.register_module(module=CustomRunner)
    cfg = dict(work_dir='w')
    runner = runners.build(cfg)
    assert type(runner) is _FakeRunner and runner.cfg == cfg
    assert type(runners.build(dict(runner_type='CustomRunner'))) is \
        CustomRunner
    assert type(runners.build(dict(runner_type=CustomRunner))) is \
        CustomRunner
    with pytest.raises(KeyError, match="'Nope' is not in the 'runner'"):
        runners.build(dict(runner_type='Nope'))
    with pytest.raises(TypeError, match='runner_type must be a str or a'):
        runners.build(dict(runner_type=3))
    with pytest.raises(TypeError, match='cfg should be a dict'):
        runners.build('cfg')


# --------------------------------------------------- scheduler builder
class _FakeScheduler:

    def __init__(self, optimizer, milestones, by_epoch=True, begin=0,
                 end=100):
        self.optimizer, self.milestones = optimizer, milestones
        self.by_epoch, self.begin, self.end = by_epoch, begin, end

    @classmethod
    def build_iter_from_epoch(cls, *args, milestones, begin=0, end=100,
                              epoch_length, by_epoch=True, **kwargs):
        return cls(*args, milestones=[m * epoch_length for m in milestones],
                   begin=begin * epoch_length, end=end * epoch_length,
                   by_epoch=False, **kwargs)


@pytest.fixture
def schedulers():
    registry = Registry('parameter scheduler', scope='s',
                        build_func=build_scheduler_from_cfg)
    registry.register_module('MultiStepLR', module=_FakeScheduler)
    return registry


def test_build_scheduler_plain_drops_epoch_length(schedulers):
    sched = schedulers.build(
        dict(type='MultiStepLR', milestones=[1, 2]),
        default_args=dict(optimizer='opt', epoch_length=4))
    assert sched.by_epoch and sched.milestones == [1, 2]
    assert sched.optimizer == 'opt'


def test_build_scheduler_convert_to_iter_based(schedulers):
    sched = schedulers.build(
        dict(type='MultiStepLR', milestones=[1, 2], begin=1, end=7,
             convert_to_iter_based=True),
        default_args=dict(optimizer='opt', epoch_length=4))
    assert not sched.by_epoch
    assert (sched.begin, sched.end, sched.milestones) == (4, 28, [4, 8])


def test_build_scheduler_convert_errors(schedulers):
    with pytest.raises(ValueError, match='needs `epoch_length`'):
        schedulers.build(
            dict(type='MultiStepLR', milestones=[1],
                 convert_to_iter_based=True),
            default_args=dict(optimizer='opt'))
    with pytest.raises(ValueError, match='by_epoch=False'):
        schedulers.build(
            dict(type='MultiStepLR', milestones=[1], by_epoch=False,
                 convert_to_iter_based=True),
            default_args=dict(optimizer='opt', epoch_length=3))
    schedulers.register_module('Plain', module=lambda optimizer: optimizer)
    with pytest.raises(TypeError, match='build_iter_from_epoch'):
        schedulers.build(
            dict(type='Plain', convert_to_iter_based=True),
            default_args=dict(optimizer='opt', epoch_length=3))
    with pytest.raises(KeyError, match="'Nope' is not in"):
        schedulers.build(
            dict(type='Nope', convert_to_iter_based=True),
            default_args=dict(optimizer='opt', epoch_length=3))
