import json
import os.path as osp
import subprocess
import sys
import time
import warnings
from unittest.mock import MagicMock

import numpy as np
import pytest
import torch

from mmengine.config import Config
from mmengine.registry import VISBACKENDS, VISUALIZERS
from mmengine.visualization import (AimVisBackend, BaseVisBackend,
                                    LocalVisBackend, Visualizer)
from mmengine.visualization.utils import wait_continue


class RecordingBackend(BaseVisBackend):
    """Backend that records every call (to check the fan-out)."""

    def __init__(self, save_dir=None):
        super().__init__(save_dir)
        self.calls = []

    @property
    def experiment(self):
        return self

    def _init_env(self):
        pass

    def add_config(self, config, **kwargs):
        self.calls.append(('config', config))

    def add_graph(self, model, data_batch, **kwargs):
        self.calls.append(('graph', model))

    def add_image(self, name, image, step=0, **kwargs):
        self.calls.append(('image', name, step))

    def add_scalar(self, name, value, step=0, **kwargs):
        self.calls.append(('scalar', name, value, step))

    def add_scalars(self, scalar_dict, step=0, file_path=None, **kwargs):
        self.calls.append(('scalars', scalar_dict, step, file_path))

    def close(self):
        self.calls.append(('close', ))


RECORDING = f'RecordingBackend{id(RecordingBackend)}'
VISBACKENDS.register_module(name=RECORDING, module=RecordingBackend)


def unique(prefix='vis'):
    return f'{prefix}_{time.time_ns()}'


@pytest.fixture
def image():
    rng = np.random.RandomState(0)
    return rng.randint(0, 256, size=(120, 160, 3)).astype(np.uint8)


# ----------------------------------------------------------------------
# construction, global access, backends


def test_import_and_storage_do_not_need_matplotlib(tmp_path):
    code = (
        'import sys\n'
        'import mmengine.visualization as v\n'
        "vis = v.Visualizer(vis_backends=[dict(type='LocalVisBackend'), "
        "dict(type='TensorboardVisBackend')], "
        f"save_dir={str(tmp_path)!r})\n"
        "local = vis.get_backend('LocalVisBackend')\n"
        "local.add_scalars({'loss': 1.0}, step=1)\n"
        "local.add_image('img', __import__('numpy').zeros((2, 2, 3), 'uint8'))\n"
        "heavy = {'matplotlib', 'PIL', 'tensorboard', 'cv2'} & set(sys.modules)\n"
        "assert not heavy, heavy\n")
    subprocess.run([sys.executable, '-c', code], check=True)
    assert osp.exists(tmp_path / 'vis_data' / 'scalars.json')


def test_drawing_without_matplotlib_names_extra(monkeypatch, image):
    vis = Visualizer(name=unique())
    for mod in ('matplotlib', 'matplotlib.figure',
                'matplotlib.backends.backend_agg'):
        monkeypatch.setitem(sys.modules, mod, None)
    with pytest.raises(ImportError, match=r"pip install 'mmengine\[vis\]'"):
        vis.set_image(image)
    with pytest.raises(ImportError, match=r'mmengine\[vis\]'):
        Visualizer(name=unique(), image=image)


def test_manager_mixin_and_registry(tmp_path):
    name = unique()
    vis = Visualizer.get_instance(name, save_dir=str(tmp_path))
    assert Visualizer.get_instance(name) is vis
    assert Visualizer.get_current_instance() is vis
    assert vis.instance_name == name
    built = VISUALIZERS.build(dict(type='Visualizer', name=unique()))
    assert isinstance(built, Visualizer)
    assert Visualizer.get_current_instance() is built


def test_backends_built_from_cfg_and_instances(tmp_path):
    own = RecordingBackend(str(tmp_path / 'own'))
    vis = Visualizer(
        name=unique(),
        save_dir=str(tmp_path),
        vis_backends=[
            dict(type='LocalVisBackend'),
            dict(type=RECORDING, name='rec'), own
        ])
    assert list(vis._vis_backends) == [
        'LocalVisBackend', 'rec', 'RecordingBackend'
    ]
    assert isinstance(vis.get_backend('LocalVisBackend'), LocalVisBackend)
    assert vis.get_backend('RecordingBackend') is own
    assert vis.get_backend('rec')._save_dir == osp.join(
        str(tmp_path), 'vis_data')
    assert vis.get_backend('missing') is None


def test_backend_names_must_be_unique(tmp_path):
    with pytest.raises(RuntimeError, match='used twice'):
        Visualizer(
            name=unique(),
            save_dir=str(tmp_path),
            vis_backends=[dict(type=RECORDING),
                          dict(type=RECORDING)])
    vis = Visualizer(
        name=unique(),
        save_dir=str(tmp_path),
        vis_backends=[
            dict(type=RECORDING, name='a'),
            dict(type=RECORDING, name='b')
        ])
    assert set(vis._vis_backends) == {'a', 'b'}


def test_bad_backend_cfgs(tmp_path):
    with pytest.raises(TypeError, match='vis_backends'):
        Visualizer(name=unique(), save_dir=str(tmp_path), vis_backends='x')
    with pytest.raises(TypeError, match='vis_backends'):
        Visualizer(name=unique(), save_dir=str(tmp_path), vis_backends=[1])
    with pytest.raises(KeyError, match='type'):
        Visualizer(
            name=unique(), save_dir=str(tmp_path), vis_backends=[dict()])
    with pytest.raises(KeyError, match='NoSuchBackend'):
        Visualizer(
            name=unique(),
            save_dir=str(tmp_path),
            vis_backends=[dict(type='NoSuchBackend')])


def test_without_save_dir(recwarn):
    # A backend that needs a directory is skipped with a warning; one that
    # does not need it is built.
    with pytest.warns(UserWarning, match='LocalVisBackend.*save_dir'):
        vis = Visualizer(
            name=unique(),
            vis_backends=[
                dict(type='LocalVisBackend'),
                dict(type='AimVisBackend')
            ])
    assert list(vis._vis_backends) == ['AimVisBackend']
    assert isinstance(vis.get_backend('AimVisBackend'), AimVisBackend)


def test_save_dir_gets_vis_data_once(tmp_path):
    vis = Visualizer(
        name=unique(),
        save_dir=str(tmp_path),
        vis_backends=dict(type='LocalVisBackend'))
    assert vis.get_backend('LocalVisBackend')._save_dir == osp.join(
        str(tmp_path), 'vis_data')
    vis = Visualizer(
        name=unique(),
        save_dir=osp.join(str(tmp_path), 'vis_data'),
        vis_backends=dict(type='LocalVisBackend'))
    assert vis.get_backend('LocalVisBackend')._save_dir == osp.join(
        str(tmp_path), 'vis_data')


def test_storage_fans_out(tmp_path):
    vis = Visualizer(
        name=unique(),
        save_dir=str(tmp_path),
        vis_backends=[
            dict(type=RECORDING, name='a'),
            dict(type=RECORDING, name='b')
        ])
    cfg = Config(dict(a=1))
    model = torch.nn.Linear(1, 1)
    vis.add_config(cfg)
    vis.add_graph(model, None)
    vis.add_image('img', np.zeros((2, 2, 3), np.uint8), step=3)
    vis.add_scalar('loss', 0.5, step=4)
    vis.add_scalars({'acc': 1.0}, step=5, file_path='x.json')
    vis.close()
    for name in ('a', 'b'):
        assert vis.get_backend(name).calls == [
            ('config', cfg), ('graph', model), ('image', 'img', 3),
            ('scalar', 'loss', 0.5, 4), ('scalars', {
                'acc': 1.0
            }, 5, 'x.json'), ('close', )
        ]


def test_storage_only_on_main_process(tmp_path, monkeypatch):
    import mmengine.dist.utils as dist_utils
    vis = Visualizer(
        name=unique(),
        save_dir=str(tmp_path),
        vis_backends=[dict(type=RECORDING)])
    monkeypatch.setattr(dist_utils, 'is_main_process', lambda *a: False)
    vis.add_scalars({'acc': 1.0})
    assert vis.get_backend('RecordingBackend').calls == []


def test_dataset_meta():
    vis = Visualizer(name=unique())
    assert vis.dataset_meta is None
    vis.dataset_meta = dict(classes=('cat', 'dog'))
    assert vis.dataset_meta['classes'] == ('cat', 'dog')
    with pytest.raises(TypeError, match='dataset_meta'):
        vis.dataset_meta = ['cat']


def test_ex_vis_04_local_files(tmp_path):
    """EX-VIS-04: scalars.json has one JSON object per logged step and
    config.py holds the config."""
    vis = Visualizer(
        name=unique(),
        save_dir=str(tmp_path),
        vis_backends=[dict(type='LocalVisBackend')])
    vis.add_config(Config(dict(model=dict(type='ToyModel'), lr=0.1)))
    for step in (10, 20, 30):
        vis.add_scalars({'loss': torch.tensor(1.0 / step), 'lr': 0.1},
                        step=step,
                        file_path='20240101_000000.json')
    out = tmp_path / 'vis_data'
    with open(out / 'scalars.json') as f:
        records = [json.loads(line) for line in f]
    assert [r['step'] for r in records] == [10, 20, 30]
    assert records[0]['loss'] == pytest.approx(0.1)
    assert (out / '20240101_000000.json').exists()
    assert Config.fromfile(str(out / 'config.py')).lr == 0.1


def test_ex_vis_03_wandb_project(tmp_path, monkeypatch):
    """EX-VIS-03: init_kwargs reach wandb.init."""
    wandb = MagicMock(name='wandb')
    monkeypatch.setitem(sys.modules, 'wandb', wandb)
    vis = Visualizer(
        name=unique(),
        save_dir=str(tmp_path),
        vis_backends=[
            dict(
                type='WandbVisBackend',
                init_kwargs=dict(project='toy-example'))
        ])
    vis.add_scalars({'loss': 0.5}, step=1)
    assert wandb.init.call_args.kwargs['project'] == 'toy-example'
    wandb.log.assert_called_once_with({'loss': 0.5}, commit=True)


# ----------------------------------------------------------------------
# drawing


def changed(before, after):
    return (before != after).any(-1)


def test_ex_vis_01_bboxes(image):
    """EX-VIS-01: boxes change the canvas along their edges only."""
    vis = Visualizer(name=unique(), image=image)
    np.testing.assert_array_equal(vis.get_image(), image)
    vis.draw_bboxes(torch.tensor([72, 13, 179, 147]) // 2)
    vis.draw_bboxes(
        torch.tensor([[33, 120, 209, 220], [72, 13, 179, 147]]) // 2,
        edge_colors=['r', (0, 0, 255)])
    out = vis.get_image()
    assert out.shape == image.shape and out.dtype == np.uint8
    diff = changed(image, out)
    assert diff[6, 50]  # top edge of the first box (y=13//2)
    assert diff[40, 36]  # left edge (x=72//2)
    assert not diff[40, 60]  # inside, face colour 'none'
    assert not diff[2, 2]  # far outside
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        vis.show()  # non-interactive backend: warns, does not block
    assert any('cannot open a window' in str(w.message) for w in caught)


def test_bbox_errors(image):
    vis = Visualizer(name=unique(), image=image)
    with pytest.raises(TypeError, match='bboxes'):
        vis.draw_bboxes([1, 2, 3, 4])
    with pytest.raises(ValueError, match=r'\(N, 4\)'):
        vis.draw_bboxes(np.array([1, 2, 3]))
    with pytest.raises(ValueError, match='x1 <= x2'):
        vis.draw_bboxes(np.array([10, 10, 5, 20]))
    with pytest.raises(AssertionError, match='edge_colors'):
        vis.draw_bboxes(np.array([[0, 0, 5, 5], [1, 1, 6, 6]]),
                        edge_colors=['r'])
    with pytest.warns(UserWarning, match='out of bounds'):
        vis.draw_bboxes(np.array([0, 0, 500, 50]))
    with pytest.raises(RuntimeError, match='set_image'):
        Visualizer(name=unique()).draw_bboxes(np.array([0, 0, 1, 1]))


@pytest.mark.parametrize('as_tensor', [False, True])
def test_ex_vis_05_primitives(image, as_tensor):
    """EX-VIS-05: each primitive accepts numpy and tensor input and changes
    the canvas."""
    conv = torch.tensor if as_tensor else np.array
    vis = Visualizer(name=unique(), image=image)

    def check(draw):
        before = vis.get_image()
        draw()
        assert changed(before, vis.get_image()).any()

    check(lambda: vis.draw_points(
        conv([[10, 10], [30, 30]]), colors=['r', 'b'], sizes=conv([40, 40])))
    check(lambda: vis.draw_texts(
        ['cat', 'dog'], conv([[5, 60], [80, 60]]), colors=(255, 0, 0)))
    check(lambda: vis.draw_lines(conv([[0, 150], [10, 10]]),
                                 conv([[0, 100], [110, 5]])))
    check(lambda: vis.draw_circles(
        conv([[80, 60], [20, 100]]), conv([15, 5]), face_colors='y'))
    check(lambda: vis.draw_polygons(
        [conv([[100, 10], [150, 10], [125, 50]])], edge_colors='b'))
    mask = np.zeros((120, 160), dtype=bool)
    mask[90:110, 120:150] = True
    before = vis.get_image()
    vis.draw_binary_masks(
        torch.from_numpy(mask) if as_tensor else mask,
        colors=(255, 0, 0),
        alphas=0.5)
    after = vis.get_image()
    diff = changed(before, after)
    assert diff[90:110, 120:150].all() and not diff[:80].any()
    expected = (before[100, 130].astype(float) + [255, 0, 0]) / 2
    np.testing.assert_allclose(after[100, 130], expected, atol=2)


def test_primitive_errors(image):
    vis = Visualizer(name=unique(), image=image)
    with pytest.raises(TypeError, match='texts'):
        vis.draw_texts(3, np.array([1, 1]))
    with pytest.raises(TypeError, match=r'texts\[1\]'):
        vis.draw_texts(['a', 2], np.array([[1, 1], [2, 2]]))
    with pytest.raises(ValueError, match='one position per text'):
        vis.draw_texts(['a', 'b'], np.array([1, 1]))
    with pytest.raises(TypeError, match='positions'):
        vis.draw_points([[1, 1]])
    with pytest.raises(ValueError, match='same shape'):
        vis.draw_lines(np.array([0, 1]), np.array([[0, 1], [2, 3]]))
    with pytest.raises(ValueError, match='radii'):
        vis.draw_circles(np.array([[1, 1], [2, 2]]), np.array([1.0]))
    with pytest.raises(TypeError, match='boolean'):
        vis.draw_binary_masks(np.zeros((120, 160), dtype=np.uint8))
    with pytest.raises(ValueError, match='matching'):
        vis.draw_binary_masks(np.zeros((10, 10), dtype=bool))
    with pytest.raises(ValueError, match='alphas'):
        vis.draw_binary_masks(np.zeros((120, 160), dtype=bool), alphas=2.0)
    with pytest.warns(UserWarning, match='out of the image'):
        vis.draw_points(np.array([500, 500]))
    with pytest.raises(ValueError, match='edge_colors: unknown color'):
        vis.draw_bboxes(np.array([0, 0, 5, 5]), edge_colors='not-a-colour')
    with pytest.raises(ValueError, match='colors: unknown color'):
        vis.draw_points(np.array([0, 0]), colors='not-a-colour')
    with pytest.raises(ValueError, match='unknown color'):
        vis.draw_binary_masks(
            np.zeros((120, 160), dtype=bool), colors='not-a-colour')


def test_set_image_resets_and_accepts_gray():
    vis = Visualizer(name=unique(), image=np.zeros((20, 30, 3), np.uint8))
    vis.draw_bboxes(np.array([2, 2, 20, 15]))
    assert vis.get_image().any()
    gray = np.full((10, 12), 7, np.uint8)
    vis.set_image(gray)
    out = vis.get_image()
    assert out.shape == (10, 12, 3) and (out == 7).all()
    with pytest.raises(ValueError, match=r'\(H, W, 3\)'):
        vis.set_image(np.zeros((2, 2, 2, 2)))
    with pytest.raises(TypeError, match='image'):
        vis.set_image('img.png')


def test_draw_featmap(image):
    featmap = torch.rand(8, 30, 40)
    out = Visualizer.draw_featmap(featmap)
    assert out.shape == (30, 40, 3) and out.dtype == np.uint8
    out = Visualizer.draw_featmap(featmap, channel_reduction='select_max')
    assert out.shape == (30, 40, 3)
    with pytest.warns(UserWarning, match='resized'):
        out = Visualizer.draw_featmap(featmap, overlaid_image=image)
    assert out.shape == image.shape
    with pytest.warns(UserWarning, match='resized'):
        out = Visualizer.draw_featmap(
            featmap, overlaid_image=image, resize_shape=(60, 80))
    assert out.shape == (60, 80, 3)
    tiled = Visualizer.draw_featmap(
        featmap, channel_reduction=None, topk=6, arrangement=(2, 3))
    assert tiled.shape == (2 * 30 + 2, 3 * 40 + 4, 3)
    single = Visualizer.draw_featmap(
        torch.rand(1, 5, 6), channel_reduction=None, topk=0)
    assert single.shape == (5, 6, 3)
    # the hottest spot is red, the coldest blue (jet palette)
    feat = torch.zeros(1, 4, 4)
    feat[0, 0, 0] = 1
    heat = Visualizer.draw_featmap(feat)
    assert heat[0, 0, 0] > 100 and heat[0, 0, 2] == 0
    assert heat[3, 3, 2] > 100 and heat[3, 3, 0] == 0

    with pytest.raises(TypeError, match='torch.Tensor'):
        Visualizer.draw_featmap(np.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match=r'\(C, H, W\)'):
        Visualizer.draw_featmap(torch.zeros(4, 4))
    with pytest.raises(ValueError, match='channel_reduction'):
        Visualizer.draw_featmap(featmap, channel_reduction='sum')
    with pytest.raises(ValueError, match='1 or 3 channels'):
        Visualizer.draw_featmap(featmap, channel_reduction=None, topk=0)
    with pytest.raises(ValueError, match='arrangement'):
        Visualizer.draw_featmap(
            featmap, channel_reduction=None, topk=8, arrangement=(2, 3))


def test_wait_continue_with_fake_figure():

    class FakeCanvas:

        def __init__(self):
            self.handlers = {}

        def mpl_connect(self, event, fn):
            self.handlers[event] = fn
            return event

        def mpl_disconnect(self, cid):
            self.handlers.pop(cid, None)

        def stop_event_loop(self):
            self.stopped = True

    class FakeFigure:

        def __init__(self, script):
            self.canvas = FakeCanvas()
            self.script = list(script)

        def waitforbuttonpress(self, timeout):
            action = self.script.pop(0)
            if action == 'timeout':
                return None
            if action == 'close':
                self.canvas.handlers['close_event'](None)
                return None
            self.canvas.handlers['key_press_event'](
                MagicMock(key=action))
            return True

    # other keys are ignored until the continue key comes
    fig = FakeFigure(['a', 'b', ' '])
    assert wait_continue(fig, 0, ' ') == 0 and fig.script == []
    assert fig.canvas.handlers == {}
    closing = FakeFigure(['close'])
    assert wait_continue(closing, 0, ' ') == 1
    assert closing.canvas.stopped
    assert wait_continue(FakeFigure(['timeout']), 1, ' ') == 0


def test_show_with_interactive_backend(monkeypatch, image):
    import matplotlib
    import matplotlib.pyplot as plt

    import mmengine.visualization.canvas as canvas
    vis = Visualizer(name=unique(), image=image)
    vis.draw_bboxes(np.array([10, 10, 50, 50]))
    waits = []
    monkeypatch.setattr(matplotlib, 'get_backend', lambda: 'TkAgg')
    monkeypatch.setattr(plt, 'show', lambda *a, **k: None)
    monkeypatch.setattr(canvas, 'wait_continue',
                        lambda fig, timeout, continue_key: waits.append(
                            (fig, timeout, continue_key)))
    vis.show(win_name='demo', wait_time=2, continue_key='q')
    fig = vis.fig_show
    assert waits == [(fig, 2, 'q')]
    shown = fig.axes[0].images[0].get_array()
    np.testing.assert_array_equal(np.asarray(shown), vis.get_image())
    # a second call reuses the window
    vis.show(drawn_img=image)
    assert vis.fig_show is fig
    np.testing.assert_array_equal(
        np.asarray(fig.axes[0].images[0].get_array()), image)
    vis.close()
    assert vis.fig_show is None
    with pytest.raises(ValueError, match='matplotlib'):
        vis.show(backend='cv2')
