import copy
import json
import os
import os.path as osp
import sys
import warnings
from unittest.mock import MagicMock

import numpy as np
import pytest
import torch

from mmengine.config import Config
from mmengine.registry import VISBACKENDS
from mmengine.visualization import (AimVisBackend, BaseVisBackend,
                                    ClearMLVisBackend, DVCLiveVisBackend,
                                    LocalVisBackend, MLflowVisBackend,
                                    NeptuneVisBackend, TensorboardVisBackend,
                                    WandbVisBackend)


def read_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


# ----------------------------------------------------------------------
# LocalVisBackend


def test_local_registered_and_lazy(tmp_path):
    backend = VISBACKENDS.build(
        dict(type='LocalVisBackend', save_dir=str(tmp_path / 'vis')))
    assert isinstance(backend, LocalVisBackend)
    # Nothing is created before the first write.
    assert not (tmp_path / 'vis').exists()
    assert backend.experiment is backend
    assert (tmp_path / 'vis').is_dir()


def test_local_bad_file_names(tmp_path):
    with pytest.raises(AssertionError, match='config_save_file'):
        LocalVisBackend(str(tmp_path), config_save_file='a.txt')
    with pytest.raises(AssertionError, match='scalar_save_file'):
        LocalVisBackend(str(tmp_path), scalar_save_file='a.yaml')
    with pytest.raises(ValueError, match='save_dir'):
        LocalVisBackend(None)
    with pytest.raises(TypeError, match='save_dir'):
        LocalVisBackend(3)


def test_local_scalars_json_lines(tmp_path):
    backend = LocalVisBackend(str(tmp_path))
    backend.add_scalar('map', 1, step=0)
    backend.add_scalar('map', np.array(0.95), step=1)
    backend.add_scalar('map', torch.tensor(0.5), step=2)
    backend.add_scalar('n', np.int64(7), step=3)
    with open(tmp_path / 'scalars.json') as f:
        text = f.read()
    assert text == ('{"map": 1, "step": 0}\n{"map": 0.95, "step": 1}\n'
                    '{"map": 0.5, "step": 2}\n{"n": 7, "step": 3}\n')

    scalars = {'loss': torch.tensor(0.25), 'lr': 0.01}
    backend.add_scalars(scalars, step=10, file_path='run.json')
    # the caller's dict is not modified
    assert set(scalars) == {'loss', 'lr'}
    expected = {'loss': 0.25, 'lr': 0.01, 'step': 10}
    assert read_lines(tmp_path / 'scalars.json')[-1] == expected
    assert read_lines(tmp_path / 'run.json') == [expected]
    backend.add_scalars({'acc': 0.5}, step=11, file_path='run.json')
    assert len(read_lines(tmp_path / 'run.json')) == 2

    # non-scalar metric values (per-class lists) are kept as JSON lists
    backend.add_scalars({'per_class': np.array([0.5, 0.25]), 'name': 'x'},
                        step=12)
    assert read_lines(tmp_path / 'scalars.json')[-1] == {
        'per_class': [0.5, 0.25], 'name': 'x', 'step': 12}


def test_local_scalars_files_kept_open_but_each_line_written(tmp_path):
    backend = LocalVisBackend(str(tmp_path))
    backend.add_scalars({'a': 1}, step=1, file_path='run.json')
    # Each line reaches the file right away, before close().
    assert read_lines(tmp_path / 'run.json') == [{'a': 1, 'step': 1}]
    assert read_lines(tmp_path / 'scalars.json') == [{'a': 1, 'step': 1}]
    # A file removed or replaced meanwhile is re-created / appended to at
    # its current path, like a fresh open(path, 'a').
    os.remove(tmp_path / 'run.json')
    os.replace(tmp_path / 'scalars.json', tmp_path / 'old.json')
    (tmp_path / 'scalars.json').write_text('{"x": 0}\n')
    backend.add_scalars({'a': 2}, step=2, file_path='run.json')
    assert read_lines(tmp_path / 'run.json') == [{'a': 2, 'step': 2}]
    assert read_lines(tmp_path / 'scalars.json') == [{
        'x': 0
    }, {
        'a': 2,
        'step': 2
    }]
    assert read_lines(tmp_path / 'old.json') == [{'a': 1, 'step': 1}]
    backend.close()
    assert not backend.__dict__.get('_append_fds')
    # Writing after close() opens the files again.
    backend.add_scalar('b', 3, step=3)
    assert read_lines(tmp_path / 'scalars.json')[-1] == {'b': 3, 'step': 3}
    # Only a bounded number of files is held open.
    for i in range(20):
        backend.add_scalars({'i': i}, step=i, file_path=f'f{i}.json')
    assert len(backend.__dict__['_append_fds']) <= 16
    assert all(
        read_lines(tmp_path / f'f{i}.json') == [{'i': i, 'step': i}]
        for i in range(20))
    # A copy does not share (nor close) the original's open files.
    clone = copy.deepcopy(backend)
    assert not clone.__dict__.get('_append_fds')
    del clone
    backend.add_scalar('b', 4, step=4)
    assert read_lines(tmp_path / 'scalars.json')[-1] == {'b': 4, 'step': 4}
    backend.close()


def test_local_scalar_errors(tmp_path):
    backend = LocalVisBackend(str(tmp_path))
    with pytest.raises(TypeError, match="'map'"):
        backend.add_scalar('map', 'high')
    with pytest.raises(TypeError, match="'map'"):
        backend.add_scalar('map', torch.ones(3))
    with pytest.raises(TypeError, match="'obj'"):
        backend.add_scalars({'obj': object()})
    with pytest.raises(TypeError, match='dict'):
        backend.add_scalars([('a', 1)])
    with pytest.raises(AssertionError, match='must differ'):
        backend.add_scalars({'a': 1}, file_path='scalars.json')
    with pytest.raises(AssertionError, match='.json'):
        backend.add_scalars({'a': 1}, file_path='x.txt')
    # nothing half-written by the failed calls
    assert not osp.exists(osp.join(tmp_path, 'scalars.json'))


def test_local_config_and_image(tmp_path):
    backend = LocalVisBackend(str(tmp_path), img_save_dir='imgs')
    backend.add_config(Config(dict(a=1, b=dict(b1=[0, 1]))))
    cfg = Config.fromfile(str(tmp_path / 'config.py'))
    assert cfg.a == 1 and cfg.b.b1 == [0, 1]
    backend.add_config(dict(c=2))
    assert Config.fromfile(str(tmp_path / 'config.py')).c == 2
    with pytest.raises(TypeError, match='Config'):
        backend.add_config(['not', 'a', 'config'])

    image = np.random.RandomState(0).randint(
        0, 256, size=(6, 7, 3)).astype(np.uint8)
    with pytest.raises(AssertionError, match='uint8'):
        backend.add_image('img', image.astype(np.int64))
    backend.add_image('img', image)
    backend.add_image('val/img', image, step=3)
    from PIL import Image
    for path in (tmp_path / 'imgs' / 'img_0.png',
                 tmp_path / 'imgs' / 'val' / 'img_3.png'):
        with Image.open(path) as im:
            assert im.mode == 'RGB'
            np.testing.assert_array_equal(np.asarray(im), image)


# ----------------------------------------------------------------------
# TensorboardVisBackend: real event files, read back


# add_graph goes through torch.jit.trace, which newer torch marks deprecated
@pytest.mark.filterwarnings('ignore::DeprecationWarning')
def test_tensorboard_writes_events(tmp_path):
    pytest.importorskip('tensorboard')
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    save_dir = str(tmp_path / 'tb')
    backend = VISBACKENDS.build(
        dict(type='TensorboardVisBackend', save_dir=save_dir))
    assert not osp.exists(save_dir)  # lazy
    backend.add_scalar('loss', 0.5, step=1)
    backend.add_scalar('loss', torch.tensor(0.25), step=2)
    backend.add_scalars({'lr': np.float32(0.1), 'acc': np.array(0.75)},
                        step=3)
    image = np.zeros((8, 9, 3), dtype=np.uint8)
    image[:, :4] = 255
    backend.add_image('img', image, step=4)
    backend.add_config(Config(dict(a=1)))
    backend.add_graph(torch.nn.Linear(2, 3), torch.rand(1, 2))
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        backend.add_scalar('n', np.array([9])[0], step=5)
    with pytest.warns(UserWarning, match="'bad'"):
        backend.add_scalar('bad', [0.95])
    with pytest.raises(AssertionError, match='step'):
        backend.add_scalars({'a': 1, 'step': 2})
    backend.close()

    acc = EventAccumulator(save_dir, size_guidance={'images': 0})
    acc.Reload()
    tags = acc.Tags()
    assert {'loss', 'lr', 'acc', 'n'} <= set(tags['scalars'])
    assert 'bad' not in tags['scalars']
    loss = acc.Scalars('loss')
    assert [e.step for e in loss] == [1, 2]
    assert [e.value for e in loss] == pytest.approx([0.5, 0.25])
    assert acc.Scalars('lr')[0].step == 3
    assert acc.Scalars('lr')[0].value == pytest.approx(0.1)
    assert acc.Scalars('acc')[0].value == pytest.approx(0.75)
    assert 'img' in tags['images']
    img_event = acc.Images('img')[0]
    assert (img_event.step, img_event.width, img_event.height) == (4, 9, 8)
    assert any('config' in tag for tag in tags['tensors'])
    assert tags['graph']
    assert 'aten::linear' in [node.op for node in acc.Graph().node]


def test_tensorboard_missing_package(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, 'torch.utils.tensorboard', None)
    backend = TensorboardVisBackend(str(tmp_path / 'tb'))
    with pytest.raises(ImportError, match=r'mmengine\[tensorboard\]'):
        backend.add_scalar('a', 1)
    with pytest.raises(ValueError, match='save_dir'):
        TensorboardVisBackend(None)


# ----------------------------------------------------------------------
# tracker backends with fake clients


@pytest.fixture
def fake_wandb(monkeypatch):
    wandb = MagicMock(name='wandb')
    monkeypatch.setitem(sys.modules, 'wandb', wandb)
    return wandb


def test_wandb(tmp_path, fake_wandb):
    save_dir = str(tmp_path / 'wb')
    backend = VISBACKENDS.build(
        dict(
            type='WandbVisBackend',
            save_dir=save_dir,
            init_kwargs=dict(project='toy-example'),
            define_metric_cfg=dict(acc='max'),
            log_code_name='code',
            commit=False))
    fake_wandb.init.assert_not_called()  # lazy
    assert backend.experiment is fake_wandb
    fake_wandb.init.assert_called_once_with(project='toy-example',
                                            dir=save_dir)
    fake_wandb.define_metric.assert_called_once_with('acc', summary='max')
    assert osp.isdir(save_dir)

    backend.add_config(Config(dict(a=1)))
    fake_wandb.config.update.assert_called_once_with({'a': 1})
    fake_wandb.run.log_code.assert_called_once_with(name='code')
    backend.add_scalar('loss', torch.tensor(0.5))
    fake_wandb.log.assert_called_with({'loss': 0.5}, commit=False)
    backend.add_scalars({'acc': np.float64(0.25), 'per_class': [1, 2]})
    fake_wandb.log.assert_called_with({'acc': 0.25, 'per_class': [1, 2]},
                                      commit=False)
    image = np.zeros((4, 4, 3), np.uint8)
    backend.add_image('img', image)
    fake_wandb.Image.assert_called_once_with(image)
    model = torch.nn.Linear(1, 1)
    backend.add_graph(model, None)
    fake_wandb.watch.assert_called_once_with(model)
    backend.close()
    fake_wandb.finish.assert_called_once_with()


def test_wandb_define_metric_list_and_errors(tmp_path, fake_wandb):
    backend = WandbVisBackend(
        str(tmp_path),
        define_metric_cfg=[dict(name='a', step_metric='iter')])
    backend._init_env()
    fake_wandb.define_metric.assert_called_once_with(
        name='a', step_metric='iter')
    with pytest.raises(TypeError, match='define_metric_cfg'):
        WandbVisBackend(str(tmp_path), define_metric_cfg='acc')


@pytest.mark.parametrize('cls,module,pip_name', [
    (WandbVisBackend, 'wandb', 'wandb'),
    (MLflowVisBackend, 'mlflow', 'mlflow'),
    (ClearMLVisBackend, 'clearml', 'clearml'),
    (NeptuneVisBackend, 'neptune', 'neptune'),
    (DVCLiveVisBackend, 'dvclive', 'dvclive'),
    (AimVisBackend, 'aim', 'aim'),
])
def test_missing_client_is_lazy_and_clear(tmp_path, monkeypatch, cls, module,
                                          pip_name):
    monkeypatch.setitem(sys.modules, module, None)
    save_dir = str(tmp_path / 'out')
    backend = cls(save_dir)  # construction never imports the client
    with pytest.raises(ImportError, match=f'pip install {pip_name}'):
        backend.add_scalar('a', 1)
    # no directory is left behind by a failed start
    assert not osp.exists(save_dir)


def test_mlflow(tmp_path, monkeypatch):
    mlflow = MagicMock(name='mlflow')
    mlflow.get_experiment_by_name.return_value = None
    monkeypatch.setitem(sys.modules, 'mlflow', mlflow)
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    (work_dir / 'run.log').write_text('x')
    (work_dir / 'model.pth').write_text('x')
    backend = MLflowVisBackend(
        str(tmp_path / 'ml'),
        exp_name='exp',
        run_name='run',
        tags=dict(t=1),
        params=dict(p=2),
        artifact_location='foo',
        tracked_config_keys=['a', 'b.c'])
    assert backend.experiment is mlflow
    mlflow.create_experiment.assert_called_once_with(
        'exp', artifact_location='foo')
    mlflow.set_experiment.assert_called_once_with('exp')
    mlflow.set_tag.assert_called_once_with('mlflow.runName', 'run')
    mlflow.set_tags.assert_called_once_with(dict(t=1))
    assert mlflow.set_tracking_uri.call_args[0][0].startswith('file://')

    backend.add_config(
        Config(dict(a=1, b=dict(c=2, d=3), work_dir=str(work_dir))))
    mlflow.log_params.assert_called_with({'a': 1, 'b.c': 2})
    assert mlflow.log_text.call_args[0][1] == 'config.py'
    backend.add_scalar('loss', torch.tensor(0.5), step=3)
    mlflow.log_metric.assert_called_once_with('loss', 0.5, step=3)
    backend.add_scalars({'acc': 0.25}, step=4)
    mlflow.log_metrics.assert_called_once_with({'acc': 0.25}, step=4)
    backend.add_image('img.png', np.zeros((2, 2, 3), np.uint8))
    assert mlflow.log_image.call_args[0][1] == 'img.png'
    backend.close()
    mlflow.log_artifact.assert_called_once_with(str(work_dir / 'run.log'))
    mlflow.end_run.assert_called_once_with()


def test_clearml(tmp_path, monkeypatch):
    clearml = MagicMock(name='clearml')
    monkeypatch.setitem(sys.modules, 'clearml', clearml)
    backend = ClearMLVisBackend(init_kwargs=dict(project_name='p'))
    assert backend.experiment is clearml
    clearml.Task.init.assert_called_once_with(project_name='p')
    task = clearml.Task.init.return_value
    logger = task.get_logger.return_value
    backend.add_scalars({'loss': torch.tensor(0.5)}, step=2)
    logger.report_scalar.assert_called_once_with(
        title='loss', series='loss', value=0.5, iteration=2)
    with pytest.raises(AssertionError, match='step'):
        backend.add_scalars({'step': 1})
    backend.add_config(Config(dict(a=1)))
    task.connect_configuration.assert_called_once_with({'a': 1})
    backend.close()
    task.close.assert_called_once_with()


def test_dvclive(tmp_path, monkeypatch):
    dvclive = MagicMock(name='dvclive')
    monkeypatch.setitem(sys.modules, 'dvclive', dvclive)
    backend = DVCLiveVisBackend(str(tmp_path / 'dvc'))
    live = backend.experiment
    dvclive.Live.assert_called_once_with(dir=str(tmp_path / 'dvc'))
    backend.add_scalars({'a': 1, 'b': np.float32(0.5)}, step=7)
    assert live.step == 7
    live.log_metric.assert_any_call('a', 1)
    live.log_metric.assert_any_call('b', 0.5)
    backend.add_image('img', np.zeros((2, 2, 3), np.uint8), step=8)
    assert live.log_image.call_args[0][0] == 'img.png'
    backend.add_config(Config(dict(a=(1, 2))))
    live.log_params.assert_called_once_with({'a': [1, 2]})
    backend.close()
    live.end.assert_called_once_with()


def test_aim_and_neptune(monkeypatch):
    aim = MagicMock(name='aim')
    monkeypatch.setitem(sys.modules, 'aim', aim)
    backend = VISBACKENDS.build(dict(type='AimVisBackend'))
    run = backend.experiment
    aim.Run.assert_called_once_with()
    backend.add_scalar('loss', 0.5, step=3)
    run.track.assert_called_once_with(name='loss', value=0.5, step=3)
    backend.close()
    run.close.assert_called_once_with()

    neptune = MagicMock(name='neptune')
    monkeypatch.setitem(sys.modules, 'neptune', neptune)
    monkeypatch.setitem(sys.modules, 'neptune.types', neptune.types)
    backend = NeptuneVisBackend(init_kwargs=dict(project='p'))
    run = backend.experiment
    neptune.init_run.assert_called_once_with(project='p')
    backend.add_scalar('loss', 0.5, step=3)
    run.__getitem__.assert_called_with('loss')
    run.__getitem__.return_value.append.assert_called_with(0.5, step=3)
    backend.close()
    run.stop.assert_called_once_with()


def test_base_backend_is_abstract():
    with pytest.raises(TypeError):
        BaseVisBackend('x')

    class Minimal(BaseVisBackend):

        @property
        def experiment(self):
            return None

        def _init_env(self):
            pass

    backend = Minimal(os.curdir)
    # unsupported kinds of data are ignored, not errors
    backend.add_image('a', np.zeros((1, 1, 3), np.uint8))
    backend.add_scalars({'a': 1})
    backend.close()
