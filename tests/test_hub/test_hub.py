import os.path as osp
import sys
import textwrap
import uuid

import pytest
import torch

from mmengine.config import Config
from mmengine.hub import get_config, get_model
from mmengine.registry import DefaultScope

_REGISTRY = """
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import Registry

MODELS = Registry('model', parent=MMENGINE_MODELS,
                  locations=['{pkg}.models'])
"""

_MODELS = """
import torch.nn as nn

from mmengine.model import BaseModel
from .registry import MODELS


@MODELS.register_module()
class ToyNet(BaseModel):

    def __init__(self, in_features=2, out_features=1, data_preprocessor=None,
                 extra=None):
        super().__init__(data_preprocessor=data_preprocessor)
        self.fc = nn.Linear(in_features, out_features)
        self.extra = extra

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return self.fc(inputs)
"""


def _write(path, text):
    import os
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(textwrap.dedent(text))


@pytest.fixture(scope='module')
def fake_pkg(tmp_path_factory):
    """An installed-looking package following the ``.mim`` convention,
    with a child registry, a model, configs, a model index and a local
    checkpoint; plus a second package using the plain ``configs/``
    layout without a model index."""
    root = tmp_path_factory.mktemp('site')
    pkg = f'h10hub_{uuid.uuid4().hex[:8]}'
    plain = f'{pkg}_plain'
    base = osp.join(root, pkg)
    _write(osp.join(base, '__init__.py'), '')
    _write(osp.join(base, 'registry.py'), _REGISTRY.format(pkg=pkg))
    _write(osp.join(base, 'models.py'), _MODELS)
    mim = osp.join(base, '.mim')
    _write(osp.join(mim, 'configs', '_base_', 'models', 'toy.py'),
           "model = dict(type='ToyNet', in_features=2)\n")
    _write(
        osp.join(mim, 'configs', 'toy', 'toy_net.py'), """
        _base_ = '../_base_/models/toy.py'
        model = dict(out_features=3)
        data_preprocessor = dict(type='BaseDataPreprocessor')
        """)
    _write(osp.join(mim, 'configs', 'toy', 'toy_noweights.py'),
           "model = dict(type='ToyNet')\n")
    ckpt = osp.join(root, 'toy_net.pth')
    torch.manual_seed(0)
    state = {
        'fc.weight': torch.randn(3, 2),
        'fc.bias': torch.randn(3),
    }
    torch.save({'state_dict': state}, ckpt)
    _write(osp.join(mim, 'model-index.yml'), """
        Import:
          - configs/toy/metafile.yml
        """)
    _write(
        osp.join(mim, 'configs', 'toy', 'metafile.yml'), f"""
        Models:
          - Name: toy-net_1x
            Config: configs/toy/toy_net.py
            Weights: {ckpt}
          - Name: toy-net_second_weights
            Config: configs/toy/toy_net.py
            Weights: /nonexistent/second.pth
          - Name: toy-noweights
            Config: configs/toy/toy_noweights.py
          - Name: no-config-entry
        """)
    plain_dir = osp.join(root, plain)
    _write(osp.join(plain_dir, '__init__.py'), '')
    _write(osp.join(plain_dir, 'configs', 'a.py'), 'value = 1\n')
    sys.path.insert(0, str(root))
    yield dict(pkg=pkg, plain=plain, ckpt=ckpt, state=state, mim=mim)
    sys.path.remove(str(root))


def test_get_config_matches_fromfile(fake_pkg):
    pkg, mim = fake_pkg['pkg'], fake_pkg['mim']
    cfg = get_config(f'{pkg}::toy/toy_net.py')
    ref = Config.fromfile(osp.join(mim, 'configs', 'toy', 'toy_net.py'))
    assert cfg._cfg_dict == ref._cfg_dict
    assert cfg.model == dict(type='ToyNet', in_features=2, out_features=3)
    assert 'model_path' not in cfg
    # a base config, not listed in the model index
    base = get_config(f'{pkg}::_base_/models/toy.py')
    assert base.model == dict(type='ToyNet', in_features=2)


def test_get_config_pretrained_sets_model_path(fake_pkg):
    """EX-HUB-01: model_path is the (first) weights of the model index."""
    pkg = fake_pkg['pkg']
    cfg = get_config(f'{pkg}::toy/toy_net.py', pretrained=True)
    assert cfg.model_path == fake_pkg['ckpt']


def test_get_config_plain_configs_layout(fake_pkg):
    cfg = get_config(f"{fake_pkg['plain']}::a.py")
    assert cfg.value == 1


def test_get_config_errors(fake_pkg):
    pkg = fake_pkg['pkg']
    with pytest.raises(ValueError, match='<package>::'):
        get_config('toy/toy_net.py')
    with pytest.raises(ValueError, match='<package>::'):
        get_config(f'{pkg}::')
    with pytest.raises(TypeError, match='int'):
        get_config(3)
    with pytest.raises(ModuleNotFoundError, match='h10_not_a_package'):
        get_config('h10_not_a_package::a.py')
    with pytest.raises(FileNotFoundError, match='missing.py'):
        get_config(f'{pkg}::toy/missing.py')
    # pretrained but the config is in no model-index entry
    with pytest.raises(ValueError, match='_base_/models/toy.py'):
        get_config(f'{pkg}::_base_/models/toy.py', pretrained=True)
    # pretrained but the entry has no weights
    with pytest.raises(ValueError, match='Weights'):
        get_config(f'{pkg}::toy/toy_noweights.py', pretrained=True)
    # pretrained but the package has no model index at all
    with pytest.raises(FileNotFoundError, match='model-index.yml'):
        get_config(f"{fake_pkg['plain']}::a.py", pretrained=True)


def test_get_model(fake_pkg):
    """EX-HUB-01: the configured class, built in the package scope."""
    pkg = fake_pkg['pkg']
    DefaultScope.get_instance('h10_test_get_model', scope_name='h10_outer')
    try:
        model = get_model(f'{pkg}::toy/toy_net.py')
        assert DefaultScope.get_current_instance().scope_name == 'h10_outer'
    finally:
        DefaultScope._instance_dict.pop('h10_test_get_model')
    assert type(model).__name__ == 'ToyNet'
    assert type(model).__module__ == f'{pkg}.models'
    assert model.fc.out_features == 3
    # the top-level data_preprocessor of the config is used
    assert type(model.data_preprocessor).__name__ == 'BaseDataPreprocessor'
    assert not getattr(model, '_is_init', False)
    # kwargs are default arguments of the build
    model = get_model(f'{pkg}::toy/toy_net.py', extra='x')
    assert model.extra == 'x'


def test_get_model_pretrained_loads_weights(fake_pkg):
    pkg = fake_pkg['pkg']
    model = get_model(f'{pkg}::toy/toy_net.py', pretrained=True)
    for key, value in fake_pkg['state'].items():
        assert torch.equal(model.state_dict()[key], value)
    assert model._is_init is True


def test_get_model_errors(fake_pkg):
    with pytest.raises(KeyError, match='no "model"'):
        get_model(f"{fake_pkg['plain']}::a.py")
    with pytest.raises(ModuleNotFoundError, match='h10_not_a_package'):
        get_model('h10_not_a_package::a.py')
