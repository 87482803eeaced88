"""The ``python -m mmengine`` command line, run as a user runs it: in a
fresh process, on config files written by the test."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

TOY_MODULE = '''
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset

from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, METRICS, MODELS


@DATASETS.register_module()
class CliToyDataset(Dataset):
    def __init__(self, size=32):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(size, 4, generator=g)
        self.y = (self.x.sum(1) > 0).long()

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return dict(inputs=self.x[i], labels=self.y[i])


@MODELS.register_module()
class CliToyModel(BaseModel):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, inputs, labels=None, mode='tensor'):
        logits = self.fc(inputs)
        if mode == 'loss':
            return dict(loss=F.cross_entropy(logits, labels))
        if mode == 'predict':
            return logits, labels
        return logits


@METRICS.register_module()
class CliToyAccuracy(BaseMetric):
    def process(self, data_batch, data_samples):
        logits, labels = data_samples
        self.results.append((len(labels), int((logits.argmax(1) == labels).sum())))

    def compute_metrics(self, results):
        return dict(accuracy=100.0 * sum(c for _, c in results) / sum(n for n, _ in results))
'''

TOY_CONFIG = '''
custom_imports = dict(imports=['cli_toy'])
model = dict(type='CliToyModel')
_loader = dict(
    batch_size=8, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='CliToyDataset'),
    collate_fn=dict(type='default_collate'))
train_dataloader = _loader
val_dataloader = _loader
test_dataloader = _loader
val_evaluator = dict(type='CliToyAccuracy')
test_evaluator = dict(type='CliToyAccuracy')
train_cfg = dict(by_epoch=True, max_epochs=2, val_interval=1)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1))
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1))
randomness = dict(seed=0)
'''


def run_cli(*args, cwd, timeout=120):
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [ROOT, env.get('PYTHONPATH', '')]).rstrip(os.pathsep)
    return subprocess.run([sys.executable, '-m', 'mmengine', *args],
                          cwd=cwd,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=timeout)


@pytest.fixture
def project(tmp_path):
    (tmp_path / 'cli_toy.py').write_text(TOY_MODULE)
    (tmp_path / 'toy_config.py').write_text(TOY_CONFIG)
    return tmp_path


def test_help_lists_commands(tmp_path):
    result = run_cli('--help', cwd=tmp_path)
    assert result.returncode == 0
    for command in ('train', 'test', 'print-config', 'collect-env'):
        assert command in result.stdout


def test_no_command_is_a_usage_error(tmp_path):
    result = run_cli(cwd=tmp_path)
    assert result.returncode == 2
    assert 'COMMAND' in result.stderr


def test_collect_env(tmp_path):
    result = run_cli('collect-env', cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'PyTorch: ' + torch.__version__ in result.stdout
    assert 'Python: ' in result.stdout


def test_print_config_applies_cfg_options(tmp_path):
    (tmp_path / 'base.py').write_text("optimizer = dict(type='SGD', lr=0.01)\n")
    (tmp_path / 'child.py').write_text(
        "_base_ = './base.py'\nmodel = dict(in_channels=[1, 2, 3])\n")
    result = run_cli('print-config', 'child.py', '--cfg-options',
                     'optimizer.lr=0.1', 'model.in_channels=[4,5]',
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('Config (path: child.py):')
    assert "lr=0.1" in result.stdout
    assert 'in_channels=[4, 5]' in result.stdout


def test_print_config_bad_option_names_expected_form(tmp_path):
    (tmp_path / 'c.py').write_text('a = 1\n')
    result = run_cli('print-config', 'c.py', '--cfg-options', 'novalue',
                     cwd=tmp_path)
    assert result.returncode != 0
    assert 'novalue' in result.stderr and 'KEY=VALUE' in result.stderr


def test_train_then_resume_then_test(project):
    work_dir = project / 'work'
    result = run_cli('train', 'toy_config.py', '--work-dir', str(work_dir),
                     cwd=project)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (work_dir / 'epoch_2.pth').is_file()
    assert (work_dir / 'last_checkpoint').read_text().strip().endswith(
        'epoch_2.pth')
    ckpt = torch.load(work_dir / 'epoch_2.pth', weights_only=True)
    assert ckpt['meta']['epoch'] == 2

    # resume from the latest checkpoint with one more epoch
    result = run_cli('train', 'toy_config.py', '--work-dir', str(work_dir),
                     '--resume', '--cfg-options', 'train_cfg.max_epochs=3',
                     cwd=project)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (work_dir / 'epoch_3.pth').is_file()
    ckpt3 = torch.load(work_dir / 'epoch_3.pth', weights_only=True)
    assert ckpt3['meta']['epoch'] == 3

    out = project / 'preds.pkl'
    result = run_cli('test', 'toy_config.py', str(work_dir / 'epoch_3.pth'),
                     '--work-dir', str(project / 'test_work'), '--out',
                     str(out), cwd=project)
    assert result.returncode == 0, result.stderr[-3000:]
    assert out.is_file()
    logs = result.stdout + result.stderr
    assert 'accuracy' in logs


def test_test_rejects_non_pickle_out(project):
    result = run_cli('test', 'toy_config.py', 'missing.pth', '--out',
                     'preds.json', cwd=project)
    assert result.returncode != 0
    assert '--out' in result.stderr and '.pkl' in result.stderr


def test_amp_needs_optim_wrapper(tmp_path):
    (tmp_path / 'c.py').write_text("model = dict(type='X')\n")
    result = run_cli('train', 'c.py', '--amp', cwd=tmp_path)
    assert result.returncode != 0
    assert '--amp needs an `optim_wrapper`' in result.stderr
    assert 'c.py' in result.stderr


def test_bundled_digits_example_reaches_real_accuracy(tmp_path):
    """README's first command: train the bundled example to a real
    accuracy (scikit-learn's digits ship with scikit-learn)."""
    pytest.importorskip('sklearn')
    work_dir = tmp_path / 'digits'
    result = run_cli('train', 'examples/digits/config.py', '--work-dir',
                     str(work_dir), cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    scalars = [
        json.loads(line)
        for line in open(next(work_dir.glob('*/vis_data/scalars.json')))
    ]
    accuracies = [s['accuracy'] for s in scalars if 'accuracy' in s]
    assert len(accuracies) == 10
    assert accuracies[-1] >= 90.0
    assert list(work_dir.glob('best_accuracy_epoch_*.pth'))
