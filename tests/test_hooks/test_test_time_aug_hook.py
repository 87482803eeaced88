import copy
from unittest.mock import Mock

import pytest

from mmengine.hooks import PrepareTTAHook
from mmengine.hooks.test_time_aug_hook import build_runner_with_tta
from mmengine.model import BaseTTAModel
from mmengine.registry import MODELS
from mmengine.testing import RunnerTestCase


class MeanTTAModel(BaseTTAModel):

    def merge_preds(self, data_samples_list):
        return [sum(samples) / len(samples) for samples in data_samples_list]


class TestPrepareTTAHook(RunnerTestCase):

    def setUp(self):
        super().setUp()
        MODELS.register_module(module=MeanTTAModel, force=True)

    def test_before_test_wraps_model(self):
        hook = PrepareTTAHook(dict(type='MeanTTAModel'))
        runner = Mock()
        model = MODELS.build(dict(type='ToyModel'))
        runner.model = model
        hook.before_test(runner)
        assert isinstance(runner.model, MeanTTAModel)
        assert runner.model.module is model
        with pytest.raises(TypeError, match='tta_cfg'):
            PrepareTTAHook('MeanTTAModel')

    def test_build_runner_with_tta_errors(self):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        with pytest.raises(KeyError, match='tta_model'):
            build_runner_with_tta(cfg)
        cfg.tta_model = dict(type='MeanTTAModel')
        with pytest.raises(KeyError, match='tta_pipeline'):
            build_runner_with_tta(cfg)
        cfg.tta_pipeline = []
        cfg.test_dataloader = None
        with pytest.raises(KeyError, match='test_dataloader'):
            build_runner_with_tta(cfg)

    def test_build_runner_with_tta(self):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.tta_model = dict(type='MeanTTAModel')
        cfg.tta_pipeline = dict(type='Compose', transforms=[])
        cfg.experiment_name = self.experiment_name
        runner = build_runner_with_tta(cfg)
        assert any(isinstance(h, PrepareTTAHook) for h in runner.hooks)
        assert runner.cfg.test_dataloader.dataset.pipeline == \
            cfg.tta_pipeline
