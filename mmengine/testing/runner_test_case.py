"""``RunnerTestCase``: a TestCase with ready-made tiny runner configs.

It registers a toy model, dataset and metric, provides an epoch-based and
an iteration-based config (``self.epoch_based_cfg``, ``self.iter_based_cfg``)
training on 12 random 2-d points, and cleans every global instance (loggers,
message hubs, visualizers, default scopes) and registration afterwards.
"""
import copy
import logging
import os
import shutil
import tempfile
import time
from typing import Any, Dict, Optional
from unittest import TestCase
from uuid import uuid4

import torch
import torch.nn as nn
from torch.utils.data import Dataset

from mmengine.config import Config
from mmengine.dist import is_distributed
from mmengine.evaluator import BaseMetric
from mmengine.logging import MessageHub, MMLogger
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, METRICS, MODELS, DefaultScope

__all__ = ['RunnerTestCase', 'ToyModel', 'ToyDataset', 'ToyMetric']


class ToyModel(BaseModel):
    """Two linear layers on 2-d inputs; loss is ``sum(target - output)``.

    Args:
        data_preprocessor (dict or nn.Module, optional): Preprocessor.
    """

    def __init__(self, data_preprocessor: Optional[Any] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor)
        self.linear1 = nn.Linear(2, 2)
        self.linear2 = nn.Linear(2, 1)

    def forward(self,
                inputs: Any,
                data_samples: Optional[Any] = None,
                mode: str = 'tensor') -> Any:
        """``'tensor'``/``'predict'``: outputs; ``'loss'``: ``dict(loss)``.
        """
        if isinstance(inputs, list):
            inputs = torch.stack(inputs)
        if isinstance(data_samples, list):
            data_samples = torch.stack(data_samples)
        outputs = self.linear2(self.linear1(inputs))
        if mode == 'loss':
            return dict(loss=(data_samples - outputs).sum())
        if mode in ('tensor', 'predict'):
            return outputs
        raise ValueError(f'ToyModel: unknown mode {mode!r}, expected '
                         "'tensor', 'loss' or 'predict'")


class ToyDataset(Dataset):
    """12 random 2-d points labelled 1 (``dict(inputs, data_samples)``)."""
    METAINFO: Dict = dict()
    data = torch.randn(12, 2)
    label = torch.ones(12)

    @property
    def metainfo(self) -> Dict:
        """dict: The (empty) dataset meta."""
        return self.METAINFO

    def __len__(self) -> int:
        return self.data.size(0)

    def __getitem__(self, index: int) -> Dict:
        return dict(inputs=self.data[index], data_samples=self.label[index])


class ToyMetric(BaseMetric):
    """A metric that always reports ``acc=1``.

    Args:
        collect_device (str): Device to gather results on.
        dummy_metrics (Any): Unused, accepted for config compatibility.
    """

    def __init__(self,
                 collect_device: str = 'cpu',
                 dummy_metrics: Optional[Any] = None) -> None:
        super().__init__(collect_device=collect_device)
        self.dummy_metrics = dummy_metrics

    def process(self, data_batch: Any, predictions: Any) -> None:
        """Record one result per batch."""
        self.results.append({'acc': 1})

    def compute_metrics(self, results: list) -> Dict:
        """Return ``dict(acc=1)``."""
        return dict(acc=1)


class RunnerTestCase(TestCase):
    """TestCase providing tiny runner configs and a clean global state.

    Attributes:
        epoch_based_cfg (Config): 2 epochs of 4 iterations, validation every
            epoch, log every iteration.
        iter_based_cfg (Config): 12 iterations with an InfiniteSampler and a
            checkpoint at iteration 12.
        dist_cfg (dict): Environment variables for a 1-process distributed
            run (see :meth:`setup_dist_env`).
    """

    dist_cfg = dict(
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=29600,
        RANK='0',
        WORLD_SIZE='1',
        LOCAL_RANK='0')

    def setUp(self) -> None:
        self.temp_dir = tempfile.TemporaryDirectory()
        # Restored in tearDown, so tests may register their own modules.
        self._models = copy.copy(MODELS.module_dict)
        self._datasets = copy.copy(DATASETS.module_dict)
        self._metrics = copy.copy(METRICS.module_dict)
        MODELS.register_module(module=ToyModel, force=True)
        METRICS.register_module(module=ToyMetric, force=True)
        DATASETS.register_module(module=ToyDataset, force=True)

        def loader(sampler: str, shuffle: bool) -> Dict:
            return dict(
                dataset=dict(type='ToyDataset'),
                sampler=dict(type=sampler, shuffle=shuffle),
                batch_size=3,
                num_workers=0)

        epoch_based_cfg = dict(
            work_dir=self.temp_dir.name,
            model=dict(type='ToyModel'),
            train_dataloader=loader('DefaultSampler', True),
            val_dataloader=loader('DefaultSampler', False),
            val_evaluator=[dict(type='ToyMetric')],
            test_dataloader=loader('DefaultSampler', False),
            test_evaluator=[dict(type='ToyMetric')],
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
            train_cfg=dict(by_epoch=True, max_epochs=2, val_interval=1),
            val_cfg=dict(),
            test_cfg=dict(),
            default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
            custom_hooks=[],
            env_cfg=dict(dist_cfg=dict(backend='nccl')),
            experiment_name='test1')
        self.epoch_based_cfg = Config(epoch_based_cfg)
        self.iter_based_cfg: Config = copy.deepcopy(self.epoch_based_cfg)
        self.iter_based_cfg.train_dataloader = loader('InfiniteSampler', True)
        self.iter_based_cfg.log_processor = dict(by_epoch=False)
        self.iter_based_cfg.train_cfg = dict(by_epoch=False, max_iters=12)
        self.iter_based_cfg.default_hooks = dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(
                type='CheckpointHook', interval=12, by_epoch=False))

    def tearDown(self) -> None:
        # Close the FileHandlers (Windows cannot delete open files).
        logging.shutdown()
        MMLogger._instance_dict.clear()
        from mmengine.visualization import Visualizer
        Visualizer._instance_dict.clear()
        DefaultScope._instance_dict.clear()
        MessageHub._instance_dict.clear()
        for registry, saved in ((MODELS, self._models),
                                (DATASETS, self._datasets),
                                (METRICS, self._metrics)):
            registry.module_dict.clear()
            registry.module_dict.update(saved)
        # In distributed tests every rank shares the directory; the caller
        # cleans it.
        if not is_distributed():
            self.temp_dir.cleanup()

    def build_runner(self, cfg: Config) -> Any:
        """Build a runner from ``cfg`` with a unique experiment name."""
        from mmengine.runner import Runner
        cfg.experiment_name = self.experiment_name
        return Runner.from_cfg(cfg)

    @property
    def experiment_name(self) -> str:
        """str: A unique name (runners built in the same second would
        otherwise share their timestamp-based name)."""
        return f'{self._testMethodName}_{time.time()}_{uuid4()}'

    def setup_dist_env(self) -> None:
        """Set the environment of a 1-process ``pytorch`` launch, with a new
        port each call."""
        self.dist_cfg['MASTER_PORT'] += 1
        os.environ['MASTER_PORT'] = str(self.dist_cfg['MASTER_PORT'])
        os.environ['MASTER_ADDR'] = self.dist_cfg['MASTER_ADDR']
        os.environ['RANK'] = self.dist_cfg['RANK']
        os.environ['WORLD_SIZE'] = self.dist_cfg['WORLD_SIZE']
        os.environ['LOCAL_RANK'] = self.dist_cfg['LOCAL_RANK']

    def clear_work_dir(self) -> None:
        """Remove everything in the work directory."""
        logging.shutdown()
        for name in os.listdir(self.temp_dir.name):
            path = os.path.join(self.temp_dir.name, name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
