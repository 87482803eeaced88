"""The registry example programs of spec 02 §8 (EX-REG-01 ... EX-REG-08)
and the cross-library example of spec 14 §2 (EX-SCOPE-01)."""
import importlib.util

import pytest

from mmengine.registry import (DATA_TRANSFORMS, DATASETS, MODELS,
                               DefaultScope, Registry,
                               count_registered_modules)

torch = pytest.importorskip('torch')
nn = torch.nn


@pytest.fixture(autouse=True)
def clean_default_scope():
    saved = dict(DefaultScope._instance_dict)
    DefaultScope._instance_dict.clear()
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)


def _activation(name):

    class Activation(nn.Module):

        def __init__(self, **kwargs):
            super().__init__()
            self.kwargs = kwargs

        def forward(self, x):
            print(f'call {name}.forward')
            return x

    Activation.__name__ = Activation.__qualname__ = name
    return Activation


def test_ex_reg_01_activation_registry(capsys):
    # The documented location is not a real module: its import fails with a
    # warning and registered classes still build (docs/decisions.md).
    ACTIVATION = Registry(
        'activation',
        scope='mmengine',
        locations=['mmengine.models.activations'])
    Sigmoid, ReLU, Softmax = (_activation(n)
                              for n in ('Sigmoid', 'ReLU', 'Softmax'))
    ACTIVATION.register_module()(Sigmoid)
    ACTIVATION.register_module()(ReLU)
    ACTIVATION.register_module(module=Softmax)
    assert ACTIVATION.module_dict == {
        'Sigmoid': Sigmoid,
        'ReLU': ReLU,
        'Softmax': Softmax
    }
    x = torch.randn(2)
    out = ACTIVATION.build(dict(type='Sigmoid'))(x)
    assert out is x
    relu = ACTIVATION.build(dict(type='ReLU', inplace=True))
    assert relu.kwargs == {'inplace': True}
    relu(x)
    printed = capsys.readouterr().out
    assert 'call Sigmoid.forward\n' in printed
    assert 'call ReLU.forward\n' in printed
    assert 'Failed to import "mmengine.models.activations"' in printed


def test_ex_reg_02_custom_build_func(capsys):

    def build_activation(cfg, registry, *args, **kwargs):
        cfg_ = cfg.copy()
        act_type = cfg_.pop('type')
        print(f'build activation: {act_type}')
        act_cls = registry.get(act_type)
        return act_cls(*args, **kwargs, **cfg_)

    ACTIVATION = Registry(
        'activation', build_func=build_activation, scope='mmengine')
    Tanh = _activation('Tanh')
    ACTIVATION.register_module()(Tanh)
    act = ACTIVATION.build(dict(type='Tanh'))
    act(torch.randn(2))
    assert capsys.readouterr().out == ('build activation: Tanh\n'
                                       'call Tanh.forward\n')


def test_ex_reg_03_function_registry(capsys):
    FUNCTION = Registry('function', scope='mmengine')

    @FUNCTION.register_module()
    def print_args(**kwargs):
        print(kwargs)

    FUNCTION.build(dict(type='print_args', a=1, b=2))
    assert capsys.readouterr().out == "{'a': 1, 'b': 2}\n"


@pytest.fixture
def alpha_beta():
    """EX-REG-04/05 setup: RReLU in MMEngine's MODELS, two library
    children mmalpha and mmbeta."""
    RReLU = _activation('RReLU')
    MODELS.register_module(module=RReLU)
    MODELS_alpha = Registry(
        'model', parent=MODELS, scope='mmalpha', locations=['mmalpha.models'])
    MODELS_beta = Registry(
        'model', parent=MODELS, scope='mmbeta', locations=['mmbeta.models'])
    LogSoftmax = _activation('LogSoftmax')
    MODELS_alpha.register_module(module=LogSoftmax)
    yield RReLU, LogSoftmax, MODELS_alpha, MODELS_beta
    MODELS.module_dict.pop('RReLU')
    MODELS.children.pop('mmalpha')
    MODELS.children.pop('mmbeta')


def test_ex_reg_04_parent_lookup(alpha_beta, capsys):
    RReLU, LogSoftmax, MODELS_alpha, _ = alpha_beta
    assert isinstance(MODELS_alpha.build(dict(type='LogSoftmax')),
                      LogSoftmax)
    rrelu = MODELS_alpha.build(dict(type='RReLU', lower=0.2))
    assert isinstance(rrelu, RReLU) and rrelu.kwargs == {'lower': 0.2}
    assert isinstance(MODELS_alpha.build(dict(type='mmengine.RReLU')), RReLU)
    rrelu(torch.randn(2))
    assert 'call RReLU.forward\n' in capsys.readouterr().out


def test_ex_reg_05_sibling_lookup(alpha_beta, capsys):
    _, LogSoftmax, _, MODELS_beta = alpha_beta
    model = MODELS_beta.build(dict(type='mmalpha.LogSoftmax'))
    assert isinstance(model, LogSoftmax)
    model = MODELS_beta.build(dict(type='LogSoftmax', _scope_='mmalpha'))
    assert isinstance(model, LogSoftmax)
    model(torch.randn(2))
    assert 'call LogSoftmax.forward\n' in capsys.readouterr().out
    with pytest.raises(KeyError, match="Did you mean 'mmalpha.LogSoftmax'"):
        MODELS_beta.build(dict(type='LogSoftmax'))


def test_ex_reg_06_count_registered_modules(alpha_beta):
    result = count_registered_modules(verbose=False)
    models = result['registries']['MODELS']
    scopes = [info['scope'] for info in models]
    assert scopes[0] == 'mmengine'
    assert 'mmalpha' in scopes and 'mmbeta' in scopes
    alpha = models[scopes.index('mmalpha')]
    assert alpha['num_modules'] == 1
    assert ['LogSoftmax'] in alpha['modules'].values()


def test_ex_reg_07_registry_vs_manual_runner_args(tmp_path):
    import mmengine.runner as runner_module
    import mmengine.model as model_module

    @MODELS.register_module()
    class MyAwesomeModel(model_module.BaseModel):

        def __init__(self, layers=18, activation='silu'):
            super().__init__()
            self.layers, self.activation = layers, activation
            self.linear = nn.Linear(2, 2)

        def forward(self, inputs=None, data_samples=None, mode='tensor'):
            return self.linear(inputs)

    try:
        from_cfg = runner_module.Runner(
            model=dict(type='MyAwesomeModel', layers=50, activation='relu'),
            work_dir=str(tmp_path / 'a'),
            experiment_name='ex_reg_07_cfg')
        manual = runner_module.Runner(
            model=MyAwesomeModel(layers=50, activation='relu'),
            work_dir=str(tmp_path / 'b'),
            experiment_name='ex_reg_07_manual')
    finally:
        MODELS.module_dict.pop('MyAwesomeModel')
    for runner in (from_cfg, manual):
        assert type(runner.model) is MyAwesomeModel
        assert (runner.model.layers, runner.model.activation) == (50, 'relu')


# ------------------------------------------------------------- EX-REG-08
# torchvision is not a dependency; these stand-ins have its transforms'
# names and call signatures.
class Compose:

    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img


class RandomCrop:

    def __init__(self, size, padding=0):
        self.size, self.padding = size, padding

    def __call__(self, img):
        img = nn.functional.pad(img, [self.padding] * 4)
        return img[..., :self.size, :self.size]


class RandomHorizontalFlip:

    def __call__(self, img):
        return img.flip(-1) if torch.rand(()) < 0.5 else img


class ToTensor:

    def __call__(self, img):
        return img.float() / 255


class Normalize:

    def __init__(self, mean, std):
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def __call__(self, img):
        return (img - self.mean) / self.std


class FakeCIFAR10(torch.utils.data.Dataset):

    def __init__(self, root, train=True, download=False, transform=None):
        self.transform = transform
        self.images = torch.randint(0, 256, (6, 3, 32, 32))

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(self.images[i]), i % 10


def test_ex_reg_08_torchvision_style_dataset_via_registry():
    registered = []

    def build_torchvision_cifar10(transform=None, **kwargs):
        if isinstance(transform, dict):
            transform = [transform]
        if isinstance(transform, (list, tuple)):
            transform = Compose([DATA_TRANSFORMS.build(t) for t in transform])
        return FakeCIFAR10(**kwargs, transform=transform)

    DATASETS.register_module(name='Cifar10', module=build_torchvision_cifar10)
    registered.append((DATASETS, 'Cifar10'))
    for name, cls in (('RandomCrop', RandomCrop),
                      ('RandomHorizontalFlip', RandomHorizontalFlip),
                      ('ToTensor', ToTensor), ('Normalize', Normalize)):
        DATA_TRANSFORMS.register_module(name, module=cls)
        registered.append((DATA_TRANSFORMS, name))
    try:
        train_dataloader = dict(
            batch_size=2,
            dataset=dict(
                type='Cifar10',
                root='data/cifar10',
                train=True,
                download=True,
                transform=[
                    dict(type='RandomCrop', size=32, padding=4),
                    dict(type='RandomHorizontalFlip'),
                    dict(type='ToTensor'),
                    dict(type='Normalize', mean=[0.491, 0.482, 0.447],
                         std=[0.202, 0.199, 0.201])
                ]))
        dataset = DATASETS.build(train_dataloader['dataset'])
        loader = torch.utils.data.DataLoader(
            dataset, batch_size=train_dataloader['batch_size'])
        images, labels = next(iter(loader))
        assert images.shape == (2, 3, 32, 32)
        assert images.dtype == torch.float32
        assert labels.tolist() == [0, 1]
        if importlib.util.find_spec('mmengine.runner') is not None:
            # the same dict as a Runner's train_dataloader
            from mmengine.runner import Runner
            loader = Runner.build_dataloader(
                dict(train_dataloader,
                     sampler=dict(type='DefaultSampler', shuffle=False)))
            images, labels = next(iter(loader))
            # a dict-built loader collates with pseudo_collate by default:
            # per-sample tensors in lists, not stacked
            assert [tuple(img.shape) for img in images] == [(3, 32, 32)] * 2
            assert [int(label) for label in labels] == [0, 1]
    finally:
        for registry, name in registered:
            registry.module_dict.pop(name)


# ------------------------------------------------------------ EX-SCOPE-01
_FAKE_PACKAGES = {
    'fakepretrain_exs/__init__.py': '',
    'fakepretrain_exs/registry.py': '''
from mmengine.registry import MODELS as MMENGINE_MODELS, Registry
MODELS = Registry('model', parent=MMENGINE_MODELS, scope='fakepretrain_exs',
                  locations=['fakepretrain_exs.models'])
''',
    'fakepretrain_exs/models.py': '''
from .registry import MODELS

@MODELS.register_module()
class ConvNeXt:
    def __init__(self, arch='tiny'):
        self.arch = arch
''',
    'fakedet_exs/__init__.py': '',
    'fakedet_exs/registry.py': '''
from mmengine.registry import MODELS as MMENGINE_MODELS, Registry
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
MODELS = Registry('model', parent=MMENGINE_MODELS, scope='fakedet_exs',
                  locations=['fakedet_exs.models'])
TRANSFORMS = Registry('transform', parent=MMENGINE_TRANSFORMS,
                      scope='fakedet_exs', locations=['fakedet_exs.models'])
''',
    'fakedet_exs/models.py': '''
from .registry import MODELS, TRANSFORMS

@MODELS.register_module()
class CSPDarknet:
    def __init__(self, deepen_factor=1.0):
        self.deepen_factor = deepen_factor

@MODELS.register_module()
class YOLOXHead:
    def __init__(self, num_classes=80, loss_cls=None):
        self.num_classes = num_classes
        self.loss_cls = MODELS.build(loss_cls)

@MODELS.register_module()
class CrossEntropyLoss:
    def __init__(self, use_sigmoid=False):
        self.use_sigmoid = use_sigmoid

@MODELS.register_module()
class YOLOX:
    def __init__(self, backbone, bbox_head):
        # nested builds go through the library's own registry
        self.backbone = MODELS.build(backbone)
        self.bbox_head = MODELS.build(bbox_head)

@TRANSFORMS.register_module()
class LoadImageFromFile:
    pass
''',
    'fakehost_exs/__init__.py': '',
    'fakehost_exs/registry.py': '''
from mmengine.registry import MODELS as MMENGINE_MODELS, Registry
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
MODELS = Registry('model', parent=MMENGINE_MODELS, scope='fakehost_exs')
TRANSFORMS = Registry('transform', parent=MMENGINE_TRANSFORMS,
                      scope='fakehost_exs')

@TRANSFORMS.register_module()
class ConvertBoxType:
    pass
''',
}


@pytest.fixture
def fake_libraries(tmp_path, monkeypatch):
    import sys

    from mmengine.registry import TRANSFORMS
    for path, text in _FAKE_PACKAGES.items():
        file = tmp_path / path
        file.parent.mkdir(exist_ok=True)
        file.write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for registry in (MODELS, TRANSFORMS):
        for scope in ('fakepretrain_exs', 'fakedet_exs', 'fakehost_exs'):
            registry.children.pop(scope, None)
    for name in list(sys.modules):
        if name.split('.')[0] in ('fakepretrain_exs', 'fakedet_exs',
                                  'fakehost_exs'):
            del sys.modules[name]


def test_ex_scope_01_cross_library_configs(fake_libraries):
    import importlib
    host = importlib.import_module('fakehost_exs.registry')
    DefaultScope.get_instance('ex-scope-01', scope_name='fakehost_exs')

    # every nested type prefixed ...
    prefixed = host.MODELS.build(
        dict(
            type='fakedet_exs.YOLOX',
            backbone=dict(type='fakepretrain_exs.ConvNeXt', arch='small'),
            bbox_head=dict(
                type='fakedet_exs.YOLOXHead',
                num_classes=3,
                loss_cls=dict(
                    type='fakedet_exs.CrossEntropyLoss',
                    use_sigmoid=True))))
    # ... or `_scope_` once: nested types resolve in fakedet_exs
    scoped = host.MODELS.build(
        dict(
            type='YOLOX',
            _scope_='fakedet_exs',
            backbone=dict(type='fakepretrain_exs.ConvNeXt', arch='small'),
            bbox_head=dict(
                type='YOLOXHead',
                num_classes=3,
                loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True))))
    for model in (prefixed, scoped):
        assert type(model).__module__ == 'fakedet_exs.models'
        assert type(model.backbone).__name__ == 'ConvNeXt'
        assert model.backbone.arch == 'small'
        assert model.bbox_head.num_classes == 3
        assert model.bbox_head.loss_cls.use_sigmoid is True
    assert type(prefixed) is type(scoped)
    assert DefaultScope.get_current_instance().scope_name == 'fakehost_exs'

    # without `_scope_` or prefixes, the host library does not see them
    with pytest.raises(KeyError, match="'fakedet_exs.CSPDarknet'"):
        host.MODELS.build(dict(type='CSPDarknet'))

    # a pipeline mixing a prefixed transform with a host transform
    pipeline = [
        host.TRANSFORMS.build(t) for t in (
            dict(type='fakedet_exs.LoadImageFromFile'),
            dict(type='ConvertBoxType'))
    ]
    assert [type(t).__name__ for t in pipeline] == [
        'LoadImageFromFile', 'ConvertBoxType'
    ]
    assert type(pipeline[1]).__module__ == 'fakehost_exs.registry'
