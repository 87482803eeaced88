"""RunnerTestCase: toy configs, unique names, clean global state."""
import os
import os.path as osp

from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger
from mmengine.registry import DATASETS, MODELS, DefaultScope
from mmengine.testing import RunnerTestCase
from mmengine.testing.runner_test_case import ToyDataset, ToyModel


class TestRunnerTestCase(RunnerTestCase):

    def test_configs(self):
        self.assertIsInstance(self.epoch_based_cfg, Config)
        self.assertEqual(self.epoch_based_cfg.train_cfg.max_epochs, 2)
        self.assertEqual(self.iter_based_cfg.train_cfg,
                         dict(by_epoch=False, max_iters=12))
        self.assertEqual(self.iter_based_cfg.train_dataloader.sampler.type,
                         'InfiniteSampler')
        self.assertIs(MODELS.get('ToyModel'), ToyModel)
        self.assertIs(DATASETS.get('ToyDataset'), ToyDataset)

    def test_train_val_test_both_modes(self):
        runner = self.build_runner(self.epoch_based_cfg)
        runner.train()
        self.assertEqual((runner.epoch, runner.iter), (2, 8))
        self.assertEqual(runner.val(), dict(acc=1))
        runner = self.build_runner(self.iter_based_cfg)
        runner.train()
        self.assertEqual(runner.iter, 12)
        self.assertTrue(
            osp.isfile(osp.join(self.temp_dir.name, 'iter_12.pth')))
        self.assertEqual(runner.test(), dict(acc=1))

    def test_unique_experiment_names_and_clear_work_dir(self):
        first = self.build_runner(self.epoch_based_cfg)
        second = self.build_runner(self.epoch_based_cfg)
        self.assertNotEqual(first.experiment_name, second.experiment_name)
        self.assertTrue(os.listdir(self.temp_dir.name))
        self.clear_work_dir()
        self.assertEqual(os.listdir(self.temp_dir.name), [])

    def test_teardown_restores_state(self):
        MODELS.register_module(name='ExtraModelForTearDown',
                               module=ToyModel)
        self.build_runner(self.epoch_based_cfg)
        self.tearDown()
        from mmengine.visualization import Visualizer
        for cls in (MMLogger, MessageHub, Visualizer, DefaultScope):
            self.assertEqual(cls._instance_dict, {})
        self.assertNotIn('ExtraModelForTearDown', MODELS.module_dict)
        self.assertFalse(osp.exists(self.temp_dir.name))
        self.setUp()  # so the real tearDown has something to clean

    def test_setup_dist_env_new_port(self):
        self.setup_dist_env()
        port = os.environ['MASTER_PORT']
        self.assertEqual(os.environ['WORLD_SIZE'], '1')
        self.setup_dist_env()
        self.assertEqual(int(os.environ['MASTER_PORT']), int(port) + 1)
