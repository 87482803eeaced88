from collections import OrderedDict

import pytest
import torch
import torch.nn as nn
from torch.optim import SGD

from mmengine.model import BaseDataPreprocessor, BaseModel
from mmengine.registry import MODELS


class RecordingOptimWrapper:
    """Test double recording the calls BaseModel.train_step makes."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.calls = []
        self.in_context = False

    def optim_context(self, model):
        wrapper = self

        class _Ctx:

            def __enter__(self):
                wrapper.calls.append(('enter', model))
                wrapper.in_context = True

            def __exit__(self, *exc):
                wrapper.calls.append(('exit', model))
                wrapper.in_context = False

        return _Ctx()

    def update_params(self, loss):
        self.calls.append(('update', loss))
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad()


class ToyModel(BaseModel):

    def __init__(self, data_preprocessor=None, init_cfg=None):
        super().__init__(data_preprocessor, init_cfg)
        self.linear = nn.Linear(2, 1)
        self.seen = []

    def forward(self, inputs, labels=None, mode='tensor'):
        self.seen.append((mode, inputs.device))
        out = self.linear(inputs)
        if mode == 'loss':
            return dict(loss_mse=((out - labels)**2), acc=out.detach())
        if mode == 'predict':
            return list(out.argmax(1))
        return out


@MODELS.register_module()
class _FlagPreprocessor(BaseDataPreprocessor):

    def forward(self, data, training=False):
        data = super().forward(data, training)
        data['training'] = training
        return data


class FlagModel(ToyModel):

    def forward(self, inputs, labels=None, training=None, mode='tensor'):
        self.flags = (mode, training)
        return super().forward(inputs, labels, mode)


def _batch():
    return dict(inputs=torch.randn(4, 2), labels=torch.randn(4, 1))


def test_init_preprocessor_variants():
    assert type(ToyModel().data_preprocessor) is BaseDataPreprocessor
    model = ToyModel(data_preprocessor=dict(type='_FlagPreprocessor'))
    assert isinstance(model.data_preprocessor, _FlagPreprocessor)
    prep = _FlagPreprocessor()
    assert ToyModel(data_preprocessor=prep).data_preprocessor is prep
    with pytest.raises(TypeError, match='data_preprocessor should be'):
        ToyModel(data_preprocessor='ImgDataPreprocessor')


def test_forward_is_abstract():
    with pytest.raises(TypeError, match='abstract'):
        BaseModel()


def test_train_step_uses_optim_context_and_update_params():
    model = ToyModel()
    before = model.linear.weight.detach().clone()
    wrapper = RecordingOptimWrapper(SGD(model.parameters(), lr=0.1))
    log_vars = model.train_step(_batch(), wrapper)
    kinds = [c[0] for c in wrapper.calls]
    assert kinds == ['enter', 'exit', 'update']
    assert not torch.equal(before, model.linear.weight)
    assert list(log_vars) == ['loss_mse', 'acc', 'loss']
    # log values are detached: logging them never holds the graph.
    assert all(not v.requires_grad for v in log_vars.values())
    assert torch.allclose(log_vars['loss'], log_vars['loss_mse'])


def test_train_step_with_real_optim_wrapper():
    import mmengine.optim as optim
    model = ToyModel()
    before = model.linear.weight.detach().clone()
    wrapper = optim.OptimWrapper(SGD(model.parameters(), lr=0.1))
    log_vars = model.train_step(_batch(), wrapper)
    assert isinstance(log_vars['loss'], torch.Tensor)
    assert not torch.equal(before, model.linear.weight)


def test_training_flag_reaches_preprocessor():
    model = FlagModel(data_preprocessor=dict(type='_FlagPreprocessor'))
    wrapper = RecordingOptimWrapper(SGD(model.parameters(), lr=0.1))
    model.train_step(_batch(), wrapper)
    assert model.flags == ('loss', True)
    model.val_step(_batch())
    assert model.flags == ('predict', False)
    model.test_step(_batch())
    assert model.flags == ('predict', False)


def test_val_and_test_step_predict():
    model = ToyModel()
    out = model.val_step(_batch())
    assert isinstance(out, list) and len(out) == 4
    assert model.test_step(_batch()) == [torch.tensor(0)] * 4


def test_run_forward_unpacking():
    model = ToyModel()
    x, y = torch.randn(3, 2), torch.randn(3, 1)
    assert model._run_forward((x, y), mode='tensor').shape == (3, 1)
    assert model._run_forward([x, y], mode='tensor').shape == (3, 1)
    assert model._run_forward(dict(inputs=x), mode='tensor').shape == (3, 1)
    with pytest.raises(TypeError, match='dict, tuple or list'):
        model._run_forward(x, mode='tensor')


def test_parse_losses():
    model = ToyModel()
    losses = dict(
        loss_cls=torch.tensor([1., 3.]),
        loss_list=[torch.tensor(2.), torch.tensor([3., 5.])],
        acc=torch.tensor(0.5))
    loss, log_vars = model.parse_losses(losses)
    assert torch.allclose(loss, torch.tensor(8.))
    assert list(log_vars) == ['loss_cls', 'loss_list', 'acc', 'loss']
    assert torch.allclose(log_vars['loss_list'], torch.tensor(6.))
    assert torch.allclose(log_vars['acc'], torch.tensor(0.5))


def test_parse_losses_key_named_loss_keeps_its_position():
    model = ToyModel()
    w = torch.tensor(2., requires_grad=True)
    loss, log_vars = model.parse_losses(
        dict(loss=w * 3, acc=torch.tensor(1.), loss_b=torch.tensor([1., 3.])))
    assert list(log_vars) == ['loss', 'acc', 'loss_b']
    assert loss.item() == 8 and log_vars['loss'].item() == 8
    assert all(not v.requires_grad for v in log_vars.values())
    assert isinstance(log_vars, OrderedDict)


def test_parse_losses_keeps_graph_of_total_loss():
    model = ToyModel()
    w = torch.tensor(2., requires_grad=True)
    loss, _ = model.parse_losses(dict(loss=w * 3))
    loss.backward()
    assert w.grad == 3


def test_parse_losses_errors():
    model = ToyModel()
    with pytest.raises(TypeError, match="'bad'"):
        model.parse_losses(dict(loss=torch.tensor(1.), bad=dict()))
    with pytest.raises(TypeError, match=r"'bad'.*list of \['int', 'int'\]"):
        model.parse_losses(dict(loss=torch.tensor(1.), bad=[1, 2]))
    with pytest.raises(TypeError, match=r"'loss_x'.*list \(empty\)"):
        model.parse_losses(dict(loss=torch.tensor(1.), loss_x=[]))
    with pytest.raises(ValueError, match='contains "loss"'):
        model.parse_losses(dict(acc=torch.tensor(1.)))


class NestedModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.inner = ToyModel()

    def forward(self, *args, **kwargs):
        return self.inner(*args, **kwargs)


@pytest.mark.parametrize('move', [
    lambda m: m.to('cpu'), lambda m: m.to(torch.device('cpu')),
    lambda m: m.to(torch.float64), lambda m: m.to('cpu', torch.float64),
    lambda m: m.to(device='cpu', dtype=torch.float16), lambda m: m.cpu()
])
def test_device_moves_update_preprocessors(move):
    model = NestedModel()
    out = move(model)
    assert out is model
    assert model.data_preprocessor.device == torch.device('cpu')
    assert model.inner.data_preprocessor.device == torch.device('cpu')


def test_to_dtype_keeps_device():
    model = NestedModel()
    model.data_preprocessor._device = torch.device('meta')
    model.to(torch.float64)
    # a dtype-only move does not change the target device.
    assert model.data_preprocessor.device == torch.device('meta')
    assert all(p.dtype == torch.float64 for p in model.parameters())


def test_set_device_meta_moves_all():
    model = NestedModel()
    model.to('meta')
    assert model.data_preprocessor.device == torch.device('meta')
    assert model.inner.data_preprocessor.device == torch.device('meta')
    assert all(p.device.type == 'meta' for p in model.parameters())
    # EX-MOD-03: the default preprocessor moves the batch to that device.
    data = model.inner.data_preprocessor(_batch(), True)
    assert data['inputs'].device.type == 'meta'
    assert model.inner._run_forward(data, 'tensor').device.type == 'meta'


def test_accelerator_without_backend_errors():
    model = ToyModel()
    if getattr(torch, 'mlu', None) is None:
        with pytest.raises(RuntimeError, match='mlu'):
            model.mlu()


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason='needs a CUDA device')
def test_cuda_moves_data_in_steps():
    model = NestedModel().cuda()
    assert model.data_preprocessor.device == torch.device('cuda', 0) or \
        model.data_preprocessor.device.type == 'cuda'
    assert model.inner.data_preprocessor.device.type == 'cuda'
    model.inner.val_step(_batch())
    assert model.inner.seen[-1][1].type == 'cuda'
    model.cpu()
    assert model.inner.data_preprocessor.device.type == 'cpu'


# EX-MOD-01: ToyModel with a LeNet-like backbone, three modes.
@MODELS.register_module()
class _ExToyModel(BaseModel):

    def __init__(self, data_preprocessor=None):
        super().__init__(data_preprocessor)
        self.backbone = nn.Sequential(
            nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 10))
        self.loss = nn.CrossEntropyLoss()

    def forward(self, batch_inputs, data_samples, mode='tensor'):
        labels = torch.stack(data_samples)
        logits = self.backbone(batch_inputs)
        if mode == 'tensor':
            return logits
        if mode == 'predict':
            return logits.argmax(1)
        if mode == 'loss':
            return dict(loss=self.loss(logits, labels))
        raise RuntimeError(f'Invalid mode "{mode}"')


def test_ex_mod_01_toy_model_modes():
    model = MODELS.build(dict(type='_ExToyModel'))
    x = torch.randn(4, 3, 32, 32)
    samples = [torch.tensor(i) for i in range(4)]
    assert model(x, samples, 'tensor').shape == (4, 10)
    assert model(x, samples, 'predict').shape == (4, )
    assert set(model(x, samples, 'loss')) == {'loss'}
    with pytest.raises(RuntimeError, match='Invalid mode'):
        model(x, samples, 'bad')


# EX-MOD-02: custom steps with a raw torch optimizer.
class _NormalizePreprocessor(BaseDataPreprocessor):

    def forward(self, data, training=False):
        img, label = [item for item in data]
        img = (img - 127.5) / 127.5
        return img, label


class _NeuralNetwork(BaseModel):

    def __init__(self, data_preprocessor=None):
        super().__init__(data_preprocessor)
        self.flatten = nn.Flatten()
        self.linear = nn.Linear(3 * 28 * 28, 10)
        self.loss = nn.CrossEntropyLoss()

    def forward(self, img, label, mode='tensor'):
        x = self.linear(self.flatten(img.unsqueeze(0) if img.dim() == 3
                                     else img))
        if mode == 'loss':
            return dict(loss=self.loss(x, label.argmax(-1).view(-1)[:1]))
        return x


class _NeuralNetwork1(_NeuralNetwork):

    def train_step(self, data, optimizer):
        data = self.data_preprocessor(data, training=True)
        loss = self(*data, mode='loss')
        loss['loss'].backward()
        optimizer.step()
        optimizer.zero_grad()
        return dict(loss=loss['loss'])

    def val_step(self, data, optimizer=None):
        data = self.data_preprocessor(data, training=False)
        score = self(*data, mode='tensor')
        loss = self(*data, mode='loss')['loss']
        return score.argmax(-1), loss.item()

    test_step = val_step


def test_ex_mod_02_custom_steps_with_raw_optimizer():
    model = _NeuralNetwork1(data_preprocessor=_NormalizePreprocessor())
    data = (torch.full((3, 28, 28), 127.5), torch.ones(3, 10))
    out = model.train_step(data, SGD(model.parameters(), lr=0.01))
    assert set(out) == {'loss'} and isinstance(out['loss'], torch.Tensor)
    pred, loss = model.val_step(data)
    assert pred.shape == (1, ) and isinstance(loss, float)
    assert model.test_step(data)[0].shape == (1, )


# EX-MOD-05: a MixUp preprocessor applying batch augmentation in training.
class _MixUpPreprocessor(BaseDataPreprocessor):

    def forward(self, data, training=False):
        data = self.cast_data(data)
        if training:
            inputs = data['inputs']
            lam = 0.5
            data['inputs'] = lam * inputs + (1 - lam) * inputs.flip(0)
        return data


def test_ex_mod_05_mixup_only_in_training():
    model = ToyModel(data_preprocessor=_MixUpPreprocessor())
    batch = dict(inputs=torch.tensor([[1., 0.], [0., 1.]]),
                 labels=torch.zeros(2, 1))
    mixed = model.data_preprocessor(dict(batch), True)['inputs']
    assert torch.allclose(mixed, torch.full((2, 2), 0.5))
    plain = model.data_preprocessor(dict(batch), False)['inputs']
    assert torch.equal(plain, batch['inputs'])


# EX-MOD-06: custom train_step using parse_losses + update_params.
class _MyModel(ToyModel):

    def train_step(self, data, optim_wrapper):
        data = self.data_preprocessor(data, True)
        out = self.linear(data['inputs'])
        loss = ((out - data['labels'])**2).mean()
        parsed_loss, log_vars = self.parse_losses({'loss': loss})
        optim_wrapper.update_params(parsed_loss)
        return log_vars


def test_ex_mod_06_custom_train_step():
    model = _MyModel()
    loss, log_vars = model.parse_losses({'loss': torch.tensor(2.)})
    assert isinstance(loss, torch.Tensor) and set(log_vars) == {'loss'}
    wrapper = RecordingOptimWrapper(SGD(model.parameters(), lr=0.1))
    log_vars = model.train_step(_batch(), wrapper)
    assert set(log_vars) == {'loss'}
    assert wrapper.calls[0][0] == 'update'


# EX-MOD-01 end to end: the ToyModel trained, validated and tested by a
# Runner (dataloader -> preprocessor -> forward modes -> optimizer/metric).
class _ToyImages(torch.utils.data.Dataset):

    def __init__(self):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(16, 3, 32, 32, generator=g)
        self.y = torch.randint(0, 10, (16, ), generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return dict(batch_inputs=self.x[i], data_samples=self.y[i])


class _ExToyRunnerModel(_ExToyModel):
    """The doc's ToyModel on pseudo-collated batches (lists of samples)."""

    def forward(self, batch_inputs, data_samples, mode='tensor'):
        self.modes = getattr(self, 'modes', set()) | {mode}
        out = super().forward(torch.stack(batch_inputs), data_samples, mode)
        if mode == 'predict':
            return list(zip(out, data_samples))
        return out


def test_ex_mod_01_toy_model_through_runner(tmp_path):
    from mmengine.evaluator import BaseMetric
    from mmengine.runner import Runner

    class Accuracy(BaseMetric):

        def process(self, data_batch, data_samples):
            self.results += [int(p == y) for p, y in data_samples]

        def compute_metrics(self, results):
            return dict(accuracy=sum(results) / len(results))

    loader = dict(
        dataset=_ToyImages(),
        sampler=dict(type='DefaultSampler', shuffle=False),
        batch_size=8)
    runner = Runner(
        model=_ExToyRunnerModel(),
        work_dir=str(tmp_path),
        experiment_name='ex_mod_01_runner',
        train_dataloader=loader,
        val_dataloader=loader,
        test_dataloader=loader,
        val_evaluator=[Accuracy()],
        test_evaluator=[Accuracy()],
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05)),
        train_cfg=dict(by_epoch=True, max_epochs=3, val_interval=3),
        val_cfg=dict(),
        test_cfg=dict(),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                           interval=3)),
        randomness=dict(seed=0))
    model = runner.train()
    assert model.modes == {'loss', 'predict'}
    losses = runner.message_hub.get_scalar('train/loss').data[0]
    assert losses[-1] < losses[0]
    metrics = runner.test()
    assert set(metrics) == {'accuracy'} and 0 <= metrics['accuracy'] <= 1
    ckpt = torch.load(tmp_path / 'epoch_3.pth', weights_only=True)
    assert set(ckpt['state_dict']) == set(model.state_dict())


def test_hot_path_reads_nothing_back_from_the_device():
    # Meta tensors have no data: any host read (.item(), bool(tensor),
    # printing) raises. train_step, parse_losses and the preprocessors run
    # every iteration and must not synchronise with the device.
    from mmengine.model import ExponentialMovingAverage, ImgDataPreprocessor

    class NoSyncWrapper:

        def optim_context(self, model):
            import contextlib
            return contextlib.nullcontext()

        def update_params(self, loss):
            loss.backward()

    model = ToyModel().to('meta')
    log_vars = model.train_step(
        dict(inputs=torch.ones(4, 2), labels=torch.ones(4, 1)),
        NoSyncWrapper())
    assert list(log_vars) == ['loss_mse', 'acc', 'loss']
    assert all(v.device.type == 'meta' for v in log_vars.values())
    loss, _ = model.parse_losses(
        dict(loss=torch.ones(3, device='meta'),
             loss_b=[torch.ones(2, device='meta')] * 2))
    assert loss.device.type == 'meta'
    prep = ImgDataPreprocessor([1., 2., 3.], [1., 1., 1.],
                               bgr_to_rgb=True,
                               pad_size_divisor=8).to('meta')
    for sizes in ([(5, 5), (6, 7)], [(8, 8), (8, 8)]):
        inputs = [torch.ones(3, *s, dtype=torch.uint8) for s in sizes]
        out = prep(dict(inputs=inputs))['inputs']
        assert out.shape == (2, 3, 8, 8) and out.device.type == 'meta'
    ema = ExponentialMovingAverage(
        nn.Linear(2, 2), momentum=0.1, device='meta')
    for _ in range(3):
        ema.update_parameters(nn.Linear(2, 2).to('meta'))
