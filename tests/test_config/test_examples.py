"""The EX-CFG example programs of spec 01-config, as tests."""
import argparse
import os
import os.path as osp
import subprocess
import sys
import textwrap

import pytest

from mmengine.config import Config, DictAction

OPTIMIZER_CFG = """
optimizer = dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001)
"""
RUNTIME_CFG = """
gpu_ids = [0, 1]
"""
RESNET50 = """
_base_ = ['optimizer_cfg.py']
model = dict(type='ResNet', depth=50)
"""


def write(directory, name, text):
    path = osp.join(str(directory), name)
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(textwrap.dedent(text).lstrip('\n'))
    return path


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_ex_cfg_01_read_three_formats(in_tmp, capsys):
    write(in_tmp, 'learn_read_config.py', """
        test_int = 1
        test_list = [1, 2, 3]
        test_dict = dict(key1='value1', key2=0.1)
        """)
    write(in_tmp, 'learn_read_config.json', """
        {"test_int": 1, "test_list": [1, 2, 3],
         "test_dict": {"key1": "value1", "key2": 0.1}}
        """)
    write(in_tmp, 'learn_read_config.yaml', """
        test_int: 1
        test_list: [1, 2, 3]
        test_dict:
          key1: 'value1'
          key2: 0.1
        """)
    cfgs = [
        Config.fromfile(f'learn_read_config.{ext}')
        for ext in ('py', 'json', 'yaml')
    ]
    assert cfgs[0]._cfg_dict == cfgs[1]._cfg_dict == cfgs[2]._cfg_dict
    print(cfgs[0])
    assert capsys.readouterr().out == (
        "Config (path: learn_read_config.py): {'test_int': 1, 'test_list': "
        "[1, 2, 3], 'test_dict': {'key1': 'value1', 'key2': 0.1}}\n")


def test_ex_cfg_02_access_modify(in_tmp, capsys):
    write(in_tmp, 'learn_read_config.py', """
        test_int = 1
        test_list = [1, 2, 3]
        test_dict = dict(key1='value1', key2=0.1)
        """)
    cfg = Config.fromfile('learn_read_config.py')
    print(cfg.test_int)
    print(cfg.test_list)
    print(cfg.test_dict)
    cfg.test_int = 2
    print(cfg['test_int'])
    cfg['test_list'][1] = 3
    print(cfg['test_list'])
    assert capsys.readouterr().out.splitlines() == [
        '1', '[1, 2, 3]', "{'key1': 'value1', 'key2': 0.1}", '2', '[1, 3, 3]'
    ]


def _optimizers_registry():
    """OPTIMIZERS, with torch optimizers when mmengine.optim registers
    them; otherwise a child registry with torch.optim.SGD registered."""
    from mmengine.registry import OPTIMIZERS, Registry
    try:
        import mmengine.optim  # noqa: F401  registers torch optimizers
    except ImportError:
        pass
    if OPTIMIZERS.get('SGD') is not None:
        return OPTIMIZERS
    import torch
    registry = Registry('optimizer', parent=OPTIMIZERS, scope='ex_cfg_03')
    registry.register_module(module=torch.optim.SGD)
    return registry


def test_ex_cfg_03_config_and_registry(in_tmp):
    import torch
    write(in_tmp, 'config_sgd.py', """
        optimizer = dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0001)
        """)
    cfg = Config.fromfile('config_sgd.py')
    cfg.optimizer.params = torch.nn.Conv2d(1, 1, 1).parameters()
    optimizer = _optimizers_registry().build(cfg.optimizer)
    assert isinstance(optimizer, torch.optim.SGD)
    text = repr(optimizer)
    assert 'lr: 0.1' in text and 'momentum: 0.9' in text
    assert 'weight_decay: 0.0001' in text


def test_ex_cfg_04_single_base(in_tmp):
    write(in_tmp, 'optimizer_cfg.py', OPTIMIZER_CFG)
    write(in_tmp, 'resnet50.py', RESNET50)
    cfg = Config.fromfile('resnet50.py')
    assert cfg.optimizer == {
        'type': 'SGD',
        'lr': 0.02,
        'momentum': 0.9,
        'weight_decay': 0.0001
    }
    assert str(cfg.optimizer) == \
        "{'type': 'SGD', 'lr': 0.02, 'momentum': 0.9, 'weight_decay': 0.0001}"


def test_ex_cfg_05_two_bases(in_tmp):
    write(in_tmp, 'optimizer_cfg.py', OPTIMIZER_CFG)
    write(in_tmp, 'runtime_cfg.py', RUNTIME_CFG)
    write(in_tmp, 'resnet50_runtime.py', """
        _base_ = ['optimizer_cfg.py', 'runtime_cfg.py']
        model = dict(type='ResNet', depth=50)
        """)
    cfg = Config.fromfile('resnet50_runtime.py')
    assert set(cfg.keys()) == {'model', 'optimizer', 'gpu_ids'}
    write(in_tmp, 'runtime_cfg2.py', 'optimizer = dict(lr=1)\n')
    write(in_tmp, 'clash.py',
          "_base_ = ['optimizer_cfg.py', 'runtime_cfg2.py']\n")
    with pytest.raises(KeyError, match='optimizer'):
        Config.fromfile('clash.py')


def test_ex_cfg_06_partial_override(in_tmp):
    write(in_tmp, 'optimizer_cfg.py', OPTIMIZER_CFG)
    write(in_tmp, 'runtime_cfg.py', RUNTIME_CFG)
    write(in_tmp, 'resnet50_lr0.01.py', """
        _base_ = ['optimizer_cfg.py', 'runtime_cfg.py']
        model = dict(type='ResNet', depth=50)
        optimizer = dict(lr=0.01)
        gpu_ids = [0]
        """)
    cfg = Config.fromfile('resnet50_lr0.01.py')
    assert cfg.optimizer == {
        'type': 'SGD',
        'lr': 0.01,
        'momentum': 0.9,
        'weight_decay': 0.0001
    }
    assert cfg.gpu_ids == [0]


def test_ex_cfg_07_delete(in_tmp):
    write(in_tmp, 'optimizer_cfg.py', OPTIMIZER_CFG)
    write(in_tmp, 'resnet50_delete_key.py', """
        _base_ = ['optimizer_cfg.py', 'runtime_cfg.py']
        model = dict(type='ResNet', depth=50)
        optimizer = dict(_delete_=True, type='SGD', lr=0.01)
        """)
    write(in_tmp, 'runtime_cfg.py', RUNTIME_CFG)
    cfg = Config.fromfile('resnet50_delete_key.py')
    assert cfg.optimizer == {'type': 'SGD', 'lr': 0.01}


def test_ex_cfg_08_text_reference(in_tmp):
    write(in_tmp, 'resnet50.py', "model = dict(type='ResNet', depth=50)\n")
    write(in_tmp, 'refer_base_var.py', """
        _base_ = ['resnet50.py']
        a = {{_base_.model}}
        """)
    cfg = Config.fromfile('refer_base_var.py')
    assert cfg.a == {'type': 'ResNet', 'depth': 50}
    write(in_tmp, 'refer_base_var.json',
          '{"_base_": ["resnet50.py"], "a": {{_base_.model}}}')
    assert Config.fromfile('refer_base_var.json').a == cfg.a
    write(in_tmp, 'refer_base_var.yaml',
          "_base_: ['resnet50.py']\na: {{_base_.model}}\n")
    assert Config.fromfile('refer_base_var.yaml').a == cfg.a
    write(in_tmp, 'refer_mutate.py', """
        _base_ = ['resnet50.py']
        a = {{_base_.model}}
        a['type'] = 'MobileNet'
        """)
    with pytest.raises(TypeError, match='refer_mutate.py'):
        Config.fromfile('refer_mutate.py')


def test_ex_cfg_09_python_reference(in_tmp):
    write(in_tmp, 'resnet50.py', "model = dict(type='ResNet', depth=50)\n")
    write(in_tmp, 'modify_base_var.py', """
        _base_ = ['resnet50.py']
        a = _base_.model
        a.type = 'MobileNet'
        """)
    cfg = Config.fromfile('modify_base_var.py')
    assert cfg.a == {'type': 'MobileNet', 'depth': 50}


@pytest.mark.parametrize('ext', ['py', 'yaml', 'json'])
def test_ex_cfg_10_dump(in_tmp, ext):
    write(in_tmp, 'optimizer_cfg.py', OPTIMIZER_CFG)
    write(in_tmp, 'resnet50.py', RESNET50)
    cfg = Config.fromfile('resnet50.py')
    cfg.dump(f'resnet50_dump.{ext}')
    with open(f'resnet50_dump.{ext}') as f:
        text = f.read()
    assert '_base_' not in text
    assert Config.fromfile(f'resnet50_dump.{ext}').to_dict() == cfg.to_dict()
    if ext == 'py':
        assert text == (
            "optimizer = dict(type='SGD', lr=0.02, momentum=0.9, "
            'weight_decay=0.0001)\n'
            "model = dict(type='ResNet', depth=50)\n")
    elif ext == 'yaml':
        assert text.index('model:') < text.index('optimizer:')
        assert text.index('depth:') < text.index('type: ResNet')


def test_ex_cfg_11_dump_dict_config(in_tmp):
    Config(dict(a=1, b=2)).dump('dump_dict.py')
    assert Config.fromfile('dump_dict.py').to_dict() == {'a': 1, 'b': 2}


def test_ex_cfg_12_predefined_variable(in_tmp):
    write(in_tmp, 'predefined_var.py',
          "work_dir = './work_dir/{{fileBasenameNoExtension}}'\n")
    cfg = Config.fromfile('predefined_var.py')
    assert cfg.work_dir == './work_dir/predefined_var'


DEMO_TRAIN = """
import argparse

from mmengine.config import Config, DictAction


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file.')
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    print(cfg)


if __name__ == '__main__':
    main()
"""


def _run(in_tmp, *args, env=None):
    full_env = dict(os.environ)
    full_env['PYTHONPATH'] = os.pathsep.join(
        [osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))] +
        [p for p in [os.environ.get('PYTHONPATH')] if p])
    full_env.update(env or {})
    out = subprocess.run([sys.executable, *args],
                         cwd=str(in_tmp),
                         env=full_env,
                         capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_ex_cfg_13_demo_train_cli(in_tmp):
    write(in_tmp, 'demo_train.py', DEMO_TRAIN)
    write(in_tmp, 'example.py', """
        model = dict(type='CustomModel', in_channels=[1, 2, 3])
        optimizer = dict(type='SGD', lr=0.01)
        """)
    out = _run(in_tmp, 'demo_train.py', './example.py', '--cfg-options',
               'optimizer.lr=0.1')
    assert out == (
        "Config (path: ./example.py): {'model': {'type': 'CustomModel', "
        "'in_channels': [1, 2, 3]}, 'optimizer': {'type': 'SGD', 'lr': 0.1}}")
    out = _run(in_tmp, 'demo_train.py', './example.py', '--cfg-options',
               'model.in_channels=[1, 1, 1]')
    assert "'in_channels': [1, 1, 1]" in out
    out = _run(in_tmp, 'demo_train.py', './example.py', '--cfg-options',
               'optimizer.type=Adam', '--cfg-options',
               'model.in_channels=[1, 1, 1]')
    assert out == (
        "Config (path: ./example.py): {'model': {'type': 'CustomModel', "
        "'in_channels': [1, 1, 1]}, 'optimizer': {'type': 'Adam', "
        "'lr': 0.01}}")


REPLACE_DATA_ROOT = """
dataset_type = 'CocoDataset'
data_root = '{{$DATASET:/data/coco/}}'
dataset=dict(ann_file= data_root + 'train.json')
"""


def test_ex_cfg_14_env_var_data_root(in_tmp, monkeypatch, capsys):
    write(in_tmp, 'replace_data_root.py', REPLACE_DATA_ROOT)
    monkeypatch.delenv('DATASET', raising=False)
    cfg = Config.fromfile('replace_data_root.py')
    print(cfg)
    assert capsys.readouterr().out.strip() == (
        "Config (path: replace_data_root.py): {'dataset_type': 'CocoDataset',"
        " 'data_root': '/data/coco/', 'dataset': {'ann_file': "
        "'/data/coco/train.json'}}")
    monkeypatch.setenv('DATASET', '/new/dataset/path/')
    cfg = Config.fromfile('replace_data_root.py')
    assert cfg.data_root == '/new/dataset/path/'
    assert cfg.dataset.ann_file == '/new/dataset/path/train.json'
    monkeypatch.delenv('DATASET')
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(
        ['--cfg-options', "data_root='/new/dataset/path/'"])
    cfg = Config.fromfile('replace_data_root.py')
    cfg.merge_from_dict(args.cfg_options)
    assert cfg.data_root == '/new/dataset/path/'
    assert cfg.dataset.ann_file == '/data/coco/train.json'


def test_ex_cfg_15_env_var_non_string(in_tmp, monkeypatch):
    write(in_tmp, 'replace_num_classes.py', """
        model=dict(
            bbox_head=dict(
                num_classes={{'$NUM_CLASSES:80'}}))
        """)
    monkeypatch.delenv('NUM_CLASSES', raising=False)
    cfg = Config.fromfile('replace_num_classes.py')
    assert cfg.to_dict() == {'model': {'bbox_head': {'num_classes': 80}}}
    monkeypatch.setenv('NUM_CLASSES', '20')
    cfg = Config.fromfile('replace_num_classes.py')
    assert cfg.model.bbox_head.num_classes == 20
    assert isinstance(cfg.model.bbox_head.num_classes, int)


def test_ex_cfg_16_custom_imports(in_tmp, monkeypatch):
    from mmengine.registry import OPTIMIZERS
    monkeypatch.syspath_prepend(str(in_tmp))
    write(in_tmp, 'ex_cfg16_my_module.py', """
        from mmengine.registry import OPTIMIZERS

        @OPTIMIZERS.register_module(name='ExCfg16CustomOptim', force=True)
        class CustomOptim:
            def __init__(self, lr=0.1):
                self.lr = lr
        """)
    write(in_tmp, 'custom_imports.py', """
        custom_imports = dict(imports=['ex_cfg16_my_module'],
                              allow_failed_imports=False)
        optimizer = dict(type='ExCfg16CustomOptim', lr=0.5)
        """)
    sys.modules.pop('ex_cfg16_my_module', None)
    cfg = Config.fromfile('custom_imports.py')
    optimizer = OPTIMIZERS.build(cfg.optimizer)
    assert type(optimizer).__module__ == 'ex_cfg16_my_module'
    assert type(optimizer).__name__ == 'CustomOptim' and optimizer.lr == 0.5
    sys.modules.pop('ex_cfg16_my_module', None)


def test_ex_cfg_17_cross_repo_base(in_tmp, monkeypatch):
    pkg = in_tmp / 'site' / 'fake_mmdet_excfg'
    write(pkg, '__init__.py', '')
    write(
        pkg, '.mim/configs/_base_/schedules/schedule_1x.py', """
        train_cfg = dict(
            type='EpochBasedTrainLoop', max_epochs=12, val_interval=1)
        val_cfg = dict(type='ValLoop')
        """)
    write(pkg, '.mim/configs/_base_/default_runtime.py',
          "default_scope = 'fake_mmdet_excfg'\n")
    monkeypatch.syspath_prepend(str(in_tmp / 'site'))
    write(
        in_tmp, 'cross_repo.py', """
        _base_ = [
            'fake_mmdet_excfg::_base_/schedules/schedule_1x.py',
            'fake_mmdet_excfg::_base_/default_runtime.py',
        ]
        """)
    cfg = Config.fromfile('cross_repo.py')
    assert cfg.train_cfg == {
        'type': 'EpochBasedTrainLoop',
        'max_epochs': 12,
        'val_interval': 1,
        '_scope_': 'fake_mmdet_excfg'
    }
    assert cfg.default_scope == 'fake_mmdet_excfg'


EXAMPLE_CONFIG = """
model = dict(type='ExCfg18Model', layers=2)
work_dir = 'exp/my_awesome_model'

train_dataloader = dict(
    dataset=dict(type='ExCfg18Dataset', is_train=True, size=64),
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    batch_size=16,
    pin_memory=False,
    num_workers=0)
train_cfg = dict(by_epoch=True, max_epochs=2, val_begin=1, val_interval=1)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=0.001))
param_scheduler = dict(
    type='MultiStepLR', by_epoch=True, milestones=[1], gamma=0.1)
val_dataloader = dict(
    dataset=dict(type='ExCfg18Dataset', is_train=False, size=32),
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    batch_size=16,
    pin_memory=False,
    num_workers=0)
val_cfg = dict()
val_evaluator = dict(type='ExCfg18Accuracy')
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1))
launcher = 'none'
env_cfg = dict(
    cudnn_benchmark=False,
    backend='gloo',
    mp_cfg=dict(mp_start_method='fork'))
log_level = 'INFO'
load_from = None
resume = False
"""


def test_ex_cfg_18_runner_config_file(in_tmp):
    write(in_tmp, 'example_config.py', EXAMPLE_CONFIG)
    cfg = Config.fromfile('example_config.py')
    assert cfg.train_dataloader.sampler == {
        'type': 'DefaultSampler',
        'shuffle': True
    }
    assert cfg.optim_wrapper.optimizer.type == 'Adam'
    import mmengine.runner as runner_mod
    if not hasattr(runner_mod, 'Runner'):
        pytest.skip('mmengine.runner.Runner is not available yet')
    import torch
    from mmengine.evaluator import BaseMetric
    from mmengine.model import BaseModel
    from mmengine.registry import DATASETS, METRICS, MODELS

    @MODELS.register_module(name='ExCfg18Model', force=True)
    class Model(BaseModel):

        def __init__(self, layers=2):
            super().__init__()
            self.net = torch.nn.Sequential(
                *[torch.nn.Linear(2, 2) for _ in range(layers)])

        def forward(self, x, labels, mode='tensor'):
            out = self.net(x)
            if mode == 'loss':
                return dict(loss=torch.nn.functional.cross_entropy(
                    out, labels))
            if mode == 'predict':
                return out.argmax(1), labels
            return out

    @DATASETS.register_module(name='ExCfg18Dataset', force=True)
    class Dataset(torch.utils.data.Dataset):

        def __init__(self, is_train, size):
            gen = torch.Generator().manual_seed(0 if is_train else 3407)
            self.x = torch.randn(size, 2, generator=gen)
            self.y = (self.x.norm(dim=1) > 1).long()

        def __len__(self):
            return len(self.x)

        def __getitem__(self, i):
            return self.x[i], self.y[i]

    @METRICS.register_module(name='ExCfg18Accuracy', force=True)
    class Accuracy(BaseMetric):

        def process(self, data_batch, data_samples):
            pred, labels = data_samples
            self.results.append(
                dict(correct=(pred == labels).sum().item(), n=len(labels)))

        def compute_metrics(self, results):
            return dict(accuracy=100 * sum(r['correct'] for r in results) /
                        sum(r['n'] for r in results))

    runner = runner_mod.Runner.from_cfg(cfg)
    runner.train()
    assert osp.isfile(osp.join('exp/my_awesome_model', 'epoch_2.pth'))
