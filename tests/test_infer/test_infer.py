import os
import os.path as osp
import sys
import textwrap
import uuid
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn

from mmengine.config import Config, ConfigDict
from mmengine.dataset import default_collate, pseudo_collate
from mmengine.infer import BaseInferencer
from mmengine.model import BaseModel
from mmengine.registry import MODELS, DefaultScope
from mmengine.structures import BaseDataElement

# Most tests build models without weights on purpose.
pytestmark = pytest.mark.filterwarnings('ignore:No checkpoint is loaded')


@MODELS.register_module(force=True)
class H10InferToyModel(BaseModel):
    """Predicts ``fc(inputs)``; records whether grad was enabled."""

    def __init__(self, in_features=2, pretrained=None):
        super().__init__()
        if pretrained is not None:
            raise AssertionError('pretrained should be removed before build')
        self.fc = nn.Linear(in_features, 1)
        self.grad_enabled = []

    def forward(self, inputs, data_samples=None, mode='tensor'):
        self.grad_enabled.append(torch.is_grad_enabled())
        batch = torch.stack(list(inputs)) if isinstance(
            inputs, (list, tuple)) else inputs
        out = self.fc(batch)
        if mode != 'predict':
            return out
        return [BaseDataElement(pred=o) for o in out]


def _to_tensor(item):
    """Test pipeline: an image path becomes its size in bytes, an array its
    sum (no image decoding needed)."""
    if isinstance(item, str):
        value = float(osp.getsize(item))
    else:
        value = float(np.asarray(item).sum())
    return dict(inputs=torch.tensor([value, 1.0]))


class CustomInferencer(BaseInferencer):
    """EX-INF-01 toy inferencer: records what each stage receives."""
    preprocess_kwargs = {'a'}
    forward_kwargs = {'b'}
    visualize_kwargs = {'c', 'shared'}
    postprocess_kwargs = {'d', 'shared'}

    def _init_pipeline(self, cfg):
        return _to_tensor

    def preprocess(self, inputs, batch_size=1, a=None):
        self.calls['preprocess'] = dict(a=a, inputs=list(inputs))
        self.calls['batches'] = []
        for batch in super().preprocess(inputs, batch_size):
            self.calls['batches'].append(len(batch['inputs']))
            yield batch

    def forward(self, inputs, b=None):
        self.calls.setdefault('forward', []).append(b)
        return super().forward(inputs)

    def visualize(self, inputs, preds, c=None, shared=None):
        self.calls['visualize'] = dict(c=c, shared=shared)
        return [np.zeros((2, 2, 3), dtype=np.uint8) for _ in preds]

    def postprocess(self, preds, visualization, return_datasample=False,
                    d=None, shared=None):
        self.calls['postprocess'] = dict(
            d=d, shared=shared, return_datasample=return_datasample)
        predictions = preds if return_datasample else [
            dict(pred=p.pred.tolist()) for p in preds
        ]
        return dict(predictions=predictions, visualization=visualization)


def _inferencer(model=None, **kwargs):
    kwargs.setdefault('show_progress', False)
    kwargs.setdefault('device', 'cpu')
    inferencer = CustomInferencer(
        model if model is not None else dict(
            model=dict(type='H10InferToyModel')), **kwargs)
    inferencer.calls = {}
    return inferencer


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / 'imgs'
    folder.mkdir()
    for name, size in (('b.png', 5), ('a.jpg', 3), ('c.JPEG', 7)):
        (folder / name).write_bytes(b'x' * size)
    (folder / 'notes.txt').write_text('not an image')
    (folder / 'sub').mkdir()
    return folder


@pytest.fixture
def checkpoint(tmp_path):
    """A checkpoint with weights and the config text, as the Runner saves
    it."""
    torch.manual_seed(0)
    model = H10InferToyModel()
    cfg = Config(dict(model=dict(type='H10InferToyModel')))
    path = str(tmp_path / 'toy.pth')
    torch.save(
        dict(state_dict=model.state_dict(), meta=dict(cfg=cfg.pretty_text)),
        path)
    return path, model.state_dict()


def test_ex_inf_01_kwargs_routing(images):
    inferencer = _inferencer()
    img = str(images / 'a.jpg')
    result = inferencer(img, a=1, b=2, c=3, d=4)
    calls = inferencer.calls
    assert calls['preprocess']['a'] == 1
    assert calls['forward'] == [2]
    assert calls['visualize'] == dict(c=3, shared=None)
    assert calls['postprocess'] == dict(
        d=4, shared=None, return_datasample=False)
    assert set(result) == {'predictions', 'visualization'}
    assert len(result['predictions']) == 1
    assert len(result['visualization']) == 1
    # a name listed by two stages reaches both
    inferencer(img, shared='s')
    assert inferencer.calls['visualize']['shared'] == 's'
    assert inferencer.calls['postprocess']['shared'] == 's'


def test_unknown_kwarg_raises_value_error():
    inferencer = _inferencer()
    with pytest.raises(ValueError, match=r"\['e', 'zz'\]"):
        inferencer(np.zeros(2), a=1, e=5, zz=6)


def test_ex_inf_01_input_kinds(images):
    inferencer = _inferencer()
    # single path (str and Path)
    inferencer(str(images / 'a.jpg'))
    assert inferencer.calls['preprocess']['inputs'] == [str(images / 'a.jpg')]
    inferencer(images / 'a.jpg')
    assert inferencer.calls['preprocess']['inputs'] == [str(images / 'a.jpg')]
    # single ndarray
    arr = np.ones((4, 4, 3))
    out = inferencer(arr)
    assert inferencer.calls['preprocess']['inputs'][0] is arr
    assert len(out['predictions']) == 1
    # list (and tuple) of mixed inputs
    out = inferencer([arr, str(images / 'b.png')])
    assert len(out['predictions']) == 2
    inferencer((arr, arr))
    assert len(inferencer.calls['preprocess']['inputs']) == 2
    # directory: image files only, sorted, no sub directories
    out = inferencer(str(images))
    assert inferencer.calls['preprocess']['inputs'] == [
        osp.join(str(images), name) for name in ('a.jpg', 'b.png', 'c.JPEG')
    ]
    assert len(out['predictions']) == 3


def test_directory_errors_and_custom_exts(tmp_path, images):
    empty = tmp_path / 'empty'
    empty.mkdir()
    (empty / 'readme.md').write_text('x')
    with pytest.raises(ValueError, match='empty'):
        _inferencer()(str(empty))

    class AllFiles(CustomInferencer):
        input_file_exts = None

    inferencer = AllFiles(
        dict(model=dict(type='H10InferToyModel')),
        device='cpu',
        show_progress=False)
    inferencer.calls = {}
    inferencer(str(images))
    assert [osp.basename(p) for p in inferencer.calls['preprocess']['inputs']
            ] == ['a.jpg', 'b.png', 'c.JPEG', 'notes.txt']


def test_predictions_and_batches(images):
    inferencer = _inferencer()
    inputs = [np.full(2, i, dtype=np.float32) for i in range(5)]
    out = inferencer(inputs, batch_size=2, return_datasamples=True)
    assert inferencer.calls['batches'] == [2, 2, 1]
    assert len(inferencer.calls['forward']) == 3
    assert inferencer.calls['postprocess']['return_datasample'] is True
    assert all(isinstance(p, BaseDataElement) for p in out['predictions'])
    # predictions follow the inputs, and equal a direct model call
    for i, pred in enumerate(out['predictions']):
        x = torch.tensor([2.0 * i, 1.0])
        with torch.no_grad():
            expected = inferencer.model.fc(x)
        assert torch.allclose(pred.pred, expected)
    # forward runs without autograd and the model is in eval mode
    assert inferencer.model.grad_enabled and not any(
        inferencer.model.grad_enabled)
    assert not inferencer.model.training
    # doc spelling return_datasample is an alias
    inferencer(inputs[:1], return_datasample=True)
    assert inferencer.calls['postprocess']['return_datasample'] is True
    with pytest.raises(ValueError, match='batch_size'):
        inferencer(inputs, batch_size=0)


def test_show_progress_runs(capsys):
    inferencer = _inferencer(show_progress=True)
    out = inferencer([np.zeros(2)] * 3, batch_size=2)
    assert len(out['predictions']) == 3


def test_kwargs_class_attributes_are_checked():
    with pytest.raises(TypeError, match='Bad.forward_kwargs'):

        class Bad(CustomInferencer):
            forward_kwargs = 'b'

    class AsList(CustomInferencer):
        forward_kwargs = ['b', 'x']

    assert AsList.forward_kwargs == {'b', 'x'}
    assert 'x' in AsList.all_kwargs and 'a' in AsList.all_kwargs

    with pytest.raises(TypeError, match='abstract'):
        BaseInferencer(dict(model=dict(type='H10InferToyModel')))


def test_model_from_config_file_config_and_dict(tmp_path, checkpoint):
    path, state = checkpoint
    cfg_file = tmp_path / 'cfg.py'
    cfg_file.write_text("model = dict(type='H10InferToyModel', "
                        "pretrained='torchvision://x')\n")
    for model in (str(cfg_file), cfg_file, Config.fromfile(str(cfg_file)),
                  dict(model=dict(type='H10InferToyModel')),
                  ConfigDict(model=dict(type='H10InferToyModel'))):
        inferencer = _inferencer(model, weights=path)
        assert isinstance(inferencer.model, H10InferToyModel)
        for key, value in state.items():
            assert torch.equal(inferencer.model.state_dict()[key], value)
        assert inferencer.cfg.model.type == 'H10InferToyModel'
        assert inferencer.model.cfg is inferencer.cfg
    # the caller's config is not modified (pretrained removed on a copy)
    cfg = Config.fromfile(str(cfg_file))
    _inferencer(cfg, weights=path)
    assert cfg.model.pretrained == 'torchvision://x'


def test_weight_alias_and_missing_weights(checkpoint):
    path, state = checkpoint
    inferencer = _inferencer(weight=path)
    assert torch.equal(inferencer.model.fc.weight, state['fc.weight'])
    with pytest.raises(ValueError, match='alias'):
        _inferencer(weights=path, weight='other.pth')
    with pytest.warns(UserWarning, match='randomly initialised'):
        _inferencer()


def test_model_none_reads_config_from_checkpoint(checkpoint, tmp_path):
    path, state = checkpoint
    inferencer = CustomInferencer(weights=path, device='cpu')
    assert isinstance(inferencer.model, H10InferToyModel)
    assert inferencer.cfg.model.type == 'H10InferToyModel'
    assert torch.equal(inferencer.model.fc.bias, state['fc.bias'])
    bare = str(tmp_path / 'bare.pth')
    torch.save(dict(state_dict=state), bare)
    with pytest.raises(ValueError, match='holds no config'):
        CustomInferencer(weights=bare, device='cpu')


def test_model_argument_errors(tmp_path):
    with pytest.raises(ValueError, match='both None'):
        CustomInferencer()
    with pytest.raises(TypeError, match='int'):
        CustomInferencer(3)
    with pytest.raises(FileNotFoundError, match='missing.py'):
        CustomInferencer(str(tmp_path / 'missing.py'))
    with pytest.raises(ValueError, match='scope'):
        CustomInferencer('some-model-name')
    with pytest.raises(KeyError, match='no "model"'):
        CustomInferencer(dict(optimizer=dict(type='SGD')), device='cpu')


def test_collate_fn_from_config():
    base = dict(model=dict(type='H10InferToyModel'))
    assert _inferencer(base).collate_fn is pseudo_collate
    inferencer = _inferencer(
        dict(base, test_dataloader=dict(collate_fn=dict(
            type='default_collate'))))
    assert inferencer.collate_fn is default_collate
    # batches collated by default_collate still run
    out = inferencer([np.zeros(2)] * 2, batch_size=2)
    assert len(out['predictions']) == 2
    assert _inferencer(dict(base, test_dataloader=dict(
        collate_fn='default_collate'))).collate_fn is default_collate
    with pytest.raises(KeyError, match='not_a_collate'):
        _inferencer(
            dict(base,
                 test_dataloader=dict(collate_fn=dict(type='not_a_collate'))))


def test_visualizer_from_config():
    from mmengine.visualization import Visualizer
    base = dict(model=dict(type='H10InferToyModel'))
    assert _inferencer(base).visualizer is None
    cfg = dict(base, visualizer=dict(type='Visualizer', name='h10_vis'))
    first = _inferencer(cfg).visualizer
    second = _inferencer(cfg).visualizer
    assert isinstance(first, Visualizer) and isinstance(second, Visualizer)
    assert first.instance_name != second.instance_name
    assert first.instance_name.startswith('h10_vis')


# --- model names from a package's model index ------------------------------
@pytest.fixture(scope='module')
def fake_pkg(tmp_path_factory):
    root = tmp_path_factory.mktemp('site')
    pkg = f'h10infer_{uuid.uuid4().hex[:8]}'
    base = osp.join(root, pkg)
    files = {
        '__init__.py': '',
        'registry.py': f"""
            from mmengine.registry import MODELS as MMENGINE_MODELS
            from mmengine.registry import Registry
            MODELS = Registry('model', parent=MMENGINE_MODELS,
                              locations=['{pkg}.models'])
            """,
        'models.py': """
            import torch.nn as nn
            from mmengine.model import BaseModel
            from .registry import MODELS

            @MODELS.register_module()
            class PkgNet(BaseModel):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(2, 1)

                def forward(self, inputs, data_samples=None, mode='tensor'):
                    return []
            """,
        '.mim/configs/net/net.py': "model = dict(type='PkgNet')\n",
        '.mim/model-index.yml': 'Import:\n  - configs/net/metafile.yml\n',
    }
    for rel, text in files.items():
        path = osp.join(base, rel)
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(textwrap.dedent(text))
    ckpt = osp.join(root, 'net.pth')
    state = {'fc.weight': torch.full((1, 2), 3.0), 'fc.bias': torch.ones(1)}
    torch.save({'state_dict': state}, ckpt)
    with open(osp.join(base, '.mim/configs/net/metafile.yml'), 'w') as f:
        f.write(
            textwrap.dedent(f"""
            Models:
              - Name: pkg-net_8xb32
                Alias: [pkgnet]
                Config: configs/net/net.py
                Weights: [{ckpt}, /nonexistent/other.pth]
              - Name: other-net
                Config: configs/net/net.py
            """))
    sys.path.insert(0, str(root))
    yield dict(pkg=pkg, state=state)
    sys.path.remove(str(root))


def test_model_name_from_model_index(fake_pkg):
    pkg = fake_pkg['pkg']
    DefaultScope.get_instance('h10_infer_outer', scope_name='h10_outer')
    try:
        for name in ('pkg-net_8xb32', 'PKGNET'):
            inferencer = _inferencer(name, scope=pkg)
            assert type(inferencer.model).__name__ == 'PkgNet'
            assert torch.equal(inferencer.model.fc.weight,
                               fake_pkg['state']['fc.weight'])
            assert inferencer.scope == pkg
        # the caller's default scope is untouched
        assert DefaultScope.get_current_instance().scope_name == 'h10_outer'
    finally:
        DefaultScope._instance_dict.pop('h10_infer_outer')
    with pytest.raises(ValueError, match="'pkg-net_8xb32'"):
        _inferencer('no-such-net', scope=pkg)
    assert BaseInferencer.list_models(pkg) == ['pkg-net_8xb32', 'other-net']
    assert BaseInferencer.list_models(pkg, patterns='^other') == ['other-net']
    # the default scope is used when scope is not given
    with DefaultScope.overwrite_default_scope(pkg):
        inferencer = _inferencer('pkgnet')
        assert inferencer.scope == pkg
        assert BaseInferencer.list_models() == ['pkg-net_8xb32', 'other-net']
    with pytest.raises(ModuleNotFoundError, match='h10_no_such_pkg'):
        _inferencer('net', scope='h10_no_such_pkg')


def test_pkg_config_path(fake_pkg):
    pkg = fake_pkg['pkg']
    inferencer = _inferencer(f'{pkg}::net/net.py')
    # the package config is built in the package scope (its type is only
    # registered there)
    assert type(inferencer.model).__name__ == 'PkgNet'
    assert inferencer.scope == pkg


def test_config_default_scope_used_when_no_scope(fake_pkg, tmp_path,
                                                monkeypatch):
    # No scope argument, no 'pkg::' path and no default scope: the config's
    # own default_scope decides where its types are looked up.
    from collections import OrderedDict
    monkeypatch.setattr(DefaultScope, '_instance_dict', OrderedDict())
    pkg = fake_pkg['pkg']
    cfg_file = tmp_path / 'net.py'
    cfg_file.write_text(f"default_scope = '{pkg}'\n"
                        "model = dict(type='PkgNet')\n")
    inferencer = _inferencer(str(cfg_file))
    assert type(inferencer.model).__name__ == 'PkgNet'
    assert inferencer.scope == pkg
    assert DefaultScope.get_current_instance() is None
    # an explicit scope still wins over the config's
    with pytest.raises(KeyError, match='PkgNet'):
        _inferencer(str(cfg_file), scope='mmengine')


def test_path_like_model_argument(tmp_path):
    cfg_file = Path(tmp_path) / 'c.py'
    cfg_file.write_text("model = dict(type='H10InferToyModel')\n")
    assert isinstance(_inferencer(cfg_file).model, H10InferToyModel)


def test_registered_in_child_inferencers_registry():
    from mmengine.registry import INFERENCERS, Registry
    scope = f'h10inf_{uuid.uuid4().hex[:8]}'
    registry = Registry('inferencer', parent=INFERENCERS, scope=scope)
    registry.register_module(module=CustomInferencer)
    inferencer = registry.build(
        dict(
            type='CustomInferencer',
            model=dict(model=dict(type='H10InferToyModel')),
            device='cpu',
            show_progress=False))
    assert isinstance(inferencer, CustomInferencer)
    assert INFERENCERS.get('CustomInferencer') is None
