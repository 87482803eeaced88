"""Tests of the root registries in ``mmengine.registry.root``."""
import importlib.util
import subprocess
import sys

import pytest

import mmengine
from mmengine import registry as reg
from mmengine.registry import (DATA_TRANSFORMS, OPTIM_WRAPPER,
                               OPTIM_WRAPPERS, TRANSFORMS, Registry,
                               build_model_from_cfg, build_runner_from_cfg,
                               build_scheduler_from_cfg, root)

NAMES = {
    'RUNNERS': 'runner',
    'RUNNER_CONSTRUCTORS': 'runner constructor',
    'LOOPS': 'loop',
    'HOOKS': 'hook',
    'STRATEGIES': 'strategy',
    'DATASETS': 'dataset',
    'DATA_SAMPLERS': 'data sampler',
    'TRANSFORMS': 'transform',
    'MODELS': 'model',
    'MODEL_WRAPPERS': 'model_wrapper',
    'WEIGHT_INITIALIZERS': 'weight initializer',
    'OPTIMIZERS': 'optimizer',
    'OPTIM_WRAPPERS': 'optim_wrapper',
    'OPTIM_WRAPPER_CONSTRUCTORS': 'optimizer wrapper constructor',
    'PARAM_SCHEDULERS': 'parameter scheduler',
    'METRICS': 'metric',
    'EVALUATOR': 'evaluator',
    'TASK_UTILS': 'task util',
    'VISUALIZERS': 'visualizer',
    'VISBACKENDS': 'vis_backend',
    'LOG_PROCESSORS': 'log_processor',
    'INFERENCERS': 'inferencer',
    'FUNCTIONS': 'function',
}


def test_root_registries_names_and_scope():
    assert set(root.ROOT_REGISTRY_NAMES) == set(NAMES)
    for attr, name in NAMES.items():
        registry = getattr(reg, attr)
        assert isinstance(registry, Registry)
        assert registry is getattr(root, attr)
        assert registry.name == name
        assert registry.scope == 'mmengine'
        assert registry.parent is None
        # also exported at top level
        assert getattr(mmengine, attr) is registry


def test_special_build_functions():
    assert reg.MODELS.build_func is build_model_from_cfg
    assert reg.RUNNERS.build_func is build_runner_from_cfg
    assert reg.PARAM_SCHEDULERS.build_func is build_scheduler_from_cfg


def test_locations_point_at_mmengine_packages():
    assert reg.OPTIMIZERS.locations == ['mmengine.optim']
    assert reg.DATASETS.locations == ['mmengine.dataset']
    assert reg.FUNCTIONS.locations == ['mmengine.dataset']
    assert reg.HOOKS.locations == ['mmengine.hooks']
    assert reg.MODELS.locations == ['mmengine.model']
    assert reg.METRICS.locations == ['mmengine.evaluator']
    assert reg.LOOPS.locations == ['mmengine.runner']
    assert reg.VISBACKENDS.locations == ['mmengine.visualization']
    for attr in NAMES:
        for location in getattr(reg, attr).locations:
            assert location.startswith('mmengine.')


def test_aliases():
    assert OPTIM_WRAPPER is OPTIM_WRAPPERS
    assert DATA_TRANSFORMS is TRANSFORMS


def test_import_is_light():
    code = ('import sys, mmengine.registry; '
            "print(sorted(m for m in ('torch', 'rich', 'numpy', 'yaml') "
            'if m in sys.modules))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == '[]'


def test_downstream_child_finds_root_members():
    """A library's child registry sees MMEngine's members by name."""
    child = Registry('model', parent=reg.MODELS, scope='test_root_child')
    try:

        @reg.MODELS.register_module(name='TestRootOnlyModule')
        class RootOnly:
            pass

        assert child.get('TestRootOnlyModule') is RootOnly
        assert child.get('mmengine.TestRootOnlyModule') is RootOnly
        # a prefixed child lookup falls back to the child's ancestors too
        assert reg.MODELS.get('test_root_child.TestRootOnlyModule') is \
            RootOnly
        assert reg.MODELS.get('test_root_child.NoSuchModule') is None
    finally:
        reg.MODELS.module_dict.pop('TestRootOnlyModule', None)
        reg.MODELS.children.pop('test_root_child')


def test_builtin_members_from_a_fresh_process():
    """Spec 02 §7: the members of the packages that exist are found through
    the root registries and through a child with another scope, with the
    packages imported only on demand."""
    code = """
import sys
from mmengine.registry import (DATA_SAMPLERS, DATASETS, EVALUATOR, FUNCTIONS,
                               METRICS, DefaultScope, Registry)
assert 'mmengine.dataset' not in sys.modules
expected = {
    DATA_SAMPLERS: ['DefaultSampler', 'InfiniteSampler'],
    DATASETS: ['ConcatDataset', 'RepeatDataset', 'ClassBalancedDataset'],
    EVALUATOR: ['Evaluator'],
    METRICS: ['DumpResults'],
    FUNCTIONS: ['pseudo_collate', 'default_collate'],
}
for root, names in expected.items():
    child = Registry(root.name, parent=root, scope='mylib')
    for name in names:
        obj = root.get(name)
        assert obj is not None and obj.__name__ == name, (root.name, name)
        assert child.get(name) is obj, name
        assert child.get('mmengine.' + name) is obj, name
        assert root.get('mylib.' + name) is obj, name
child = DATA_SAMPLERS.children['mylib']
DefaultScope.get_instance('fresh', scope_name='mylib')
sampler = DATA_SAMPLERS.build(dict(type='DefaultSampler', dataset=[1, 2, 3],
                                   shuffle=False))
assert list(sampler) == [0, 1, 2]
collate = FUNCTIONS.build(dict(type='pseudo_collate', data_batch=[1, 2]))
assert collate == [1, 2]
print('ok')
"""
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith('ok')


def test_missing_package_lookup_fails_clearly():
    """A root whose package is not importable names it in the KeyError."""
    registry = Registry('optimizer', scope='mmengine_missing_pkg_test',
                        locations=['mmengine.no_such_package'])
    assert registry.get('SGD') is None
    with pytest.raises(KeyError) as info:
        registry.build(dict(type='SGD', lr=0.1))
    msg = str(info.value)
    assert "'SGD' is not in the 'optimizer' registry" in msg
    assert 'mmengine.no_such_package (failed: ModuleNotFoundError' in msg
    if importlib.util.find_spec('mmengine.optim') is None:
        with pytest.raises(KeyError, match='mmengine.optim .failed'):
            reg.OPTIMIZERS.build(dict(type='SGD', lr=0.1))
