"""The example programs of spec 03 §15 (EX-RUN-*), on small fake data.

EX-RUN-01 (15-minute tutorial) uses a small conv net and fake 10-class
images instead of torchvision's ResNet-50 and CIFAR-10; EX-RUN-08 (AMP) runs
on the CPU with bfloat16 autocast.

EX-RUN-06/07 (resume) are in test_runner_resume.py, EX-RUN-09 (compile),
-12 (seeding), -13/-14 (intervals, iteration mode) and -17 (custom runner)
in test_runner.py, EX-RUN-16 (custom loop) in test_loops.py.
"""
import logging
import os
import os.path as osp
import re

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, default_collate

from mmengine.config import Config
from mmengine.dataset import BaseDataset
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel, ImgDataPreprocessor
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import DATASETS, METRICS, MODELS
from mmengine.runner import Runner

_N = [0]


def _name(prefix):
    _N[0] += 1
    return f'{prefix}_{os.getpid()}_{_N[0]}'


@pytest.fixture(autouse=True)
def _cleanup():
    yield
    logging.shutdown()


# ------------------------------------------------------- EX-RUN-02 / 03
class MyAwesomeModel(BaseModel):

    def __init__(self, layers=4, activation='relu'):
        super().__init__()
        act = nn.ReLU if activation == 'relu' else nn.SiLU
        mods = [nn.Linear(2, 64), act()]
        for _ in range(layers - 2):
            mods += [nn.Linear(64, 64), act()]
        self.mlp = nn.Sequential(*mods, nn.Linear(64, 2))

    def forward(self, data, labels, mode='tensor'):
        x = self.mlp(data)
        if mode == 'tensor':
            return x
        if mode == 'predict':
            return F.softmax(x, dim=1), labels
        return dict(loss=F.cross_entropy(x, labels))


class MyDataset(Dataset):
    """Two noisy rings (inner = class 0, outer = class 1)."""

    def __init__(self, is_train, size):
        gen = torch.Generator().manual_seed(0 if is_train else 3407)
        angle = torch.rand(size, generator=gen) * 6.2832
        labels = torch.randint(0, 2, (size, ), generator=gen)
        radius = 1.0 + 2.0 * labels + 0.1 * torch.randn(size, generator=gen)
        self.data = torch.stack([radius * angle.cos(), radius * angle.sin()],
                                dim=1)
        self.labels = labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.data[i], self.labels[i]


class Accuracy(BaseMetric):

    def process(self, data_batch, data_samples):
        score, gt = data_samples
        self.results.append(dict(batch_size=len(gt),
                                 correct=(score.argmax(1) == gt).sum()))

    def compute_metrics(self, results):
        correct = sum(r['correct'] for r in results)
        total = sum(r['batch_size'] for r in results)
        return dict(accuracy=100 * correct / total)


@pytest.fixture
def tutorial_registered():
    MODELS.register_module(module=MyAwesomeModel, force=True)
    DATASETS.register_module(module=MyDataset, force=True)
    METRICS.register_module(module=Accuracy, force=True)
    yield
    for reg, name in ((MODELS, 'MyAwesomeModel'), (DATASETS, 'MyDataset'),
                      (METRICS, 'Accuracy')):
        reg.module_dict.pop(name, None)


def _lr_per_epoch(runner):
    lrs = runner.message_hub.get_scalar('train/lr').data[0]
    per_epoch = len(runner.train_dataloader)
    return [float(lrs[i * per_epoch]) for i in range(runner.max_epochs)]


def test_ex_run_02_manual_objects(tmp_path, tutorial_registered):
    val_epochs = []

    class RecordVal(__import__('mmengine.hooks', fromlist=['Hook']).Hook):

        def after_val_epoch(self, runner, metrics=None):
            val_epochs.append((runner.epoch, metrics['accuracy']))

    torch.manual_seed(0)  # the model is built before the Runner seeds
    runner = Runner(
        model=MyAwesomeModel(layers=2, activation='relu'),
        work_dir=str(tmp_path / 'exp'),
        train_dataloader=DataLoader(
            MyDataset(is_train=True, size=128), shuffle=True,
            collate_fn=default_collate, batch_size=64, pin_memory=False,
            num_workers=0),
        val_dataloader=DataLoader(
            MyDataset(is_train=False, size=64), shuffle=False,
            collate_fn=default_collate, batch_size=64, num_workers=0),
        val_evaluator=dict(type=Accuracy),
        train_cfg=dict(by_epoch=True, max_epochs=10, val_begin=2,
                       val_interval=1),
        val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type=torch.optim.Adam, lr=0.01)),
        param_scheduler=dict(type='MultiStepLR', by_epoch=True,
                             milestones=[4, 8], gamma=0.1),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                           interval=1)),
        custom_hooks=[RecordVal()],
        launcher='none',
        env_cfg=dict(cudnn_benchmark=False, backend='nccl',
                     mp_cfg=dict(mp_start_method='fork')),
        log_level='INFO',
        load_from=None,
        resume=False,
        randomness=dict(seed=0),
        experiment_name=_name('ex_run_02'))
    runner.train()
    # first validation after epoch 2, then every epoch
    assert [e for e, _ in val_epochs] == list(range(2, 11))
    assert val_epochs[-1][1] > 80  # the rings are easy to separate
    # lr drops x0.1 after epochs 4 and 8
    assert _lr_per_epoch(runner) == pytest.approx(
        [0.01] * 4 + [0.001] * 4 + [0.0001] * 2)
    assert osp.isfile(osp.join(runner.work_dir, 'epoch_10.pth'))


def test_ex_run_03_same_via_config_file(tmp_path, tutorial_registered):
    cfg_file = tmp_path / 'example_config.py'
    cfg_file.write_text(f'''
model = dict(type='MyAwesomeModel', layers=2, activation='relu')
work_dir = {str(tmp_path / 'exp')!r}
train_dataloader = dict(
    dataset=dict(type='MyDataset', is_train=True, size=128),
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    batch_size=64, pin_memory=False, num_workers=0)
val_dataloader = dict(
    dataset=dict(type='MyDataset', is_train=False, size=64),
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    batch_size=64, pin_memory=False, num_workers=0)
train_cfg = dict(by_epoch=True, max_epochs=10, val_begin=2, val_interval=1)
val_cfg = dict()
val_evaluator = dict(type='Accuracy')
optim_wrapper = dict(optimizer=dict(type='Adam', lr=0.01))
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[4, 8],
                       gamma=0.1)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1))
launcher = 'none'
env_cfg = dict(cudnn_benchmark=False, backend='nccl',
               mp_cfg=dict(mp_start_method='fork'))
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)  # not in the doc's config; keeps the test exact
''')
    runner = Runner.from_cfg(Config.fromfile(str(cfg_file)))
    runner.train()
    assert runner.experiment_name.startswith('example_config_')
    assert _lr_per_epoch(runner) == pytest.approx(
        [0.01] * 4 + [0.001] * 4 + [0.0001] * 2)
    assert runner.val()['accuracy'] > 80
    assert osp.isfile(osp.join(runner.work_dir, 'example_config.py'))


# ------------------------------------------------------------ EX-RUN-04
class NeuralNetwork(BaseModel):

    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(4 * 4, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
            nn.Linear(32, 3))
        self.loss_fn = nn.CrossEntropyLoss()

    def forward(self, x, y, mode='tensor'):
        logits = self.linear_relu_stack(self.flatten(x))
        loss = self.loss_fn(logits, y)
        if mode == 'loss':
            return dict(loss=loss)
        if mode == 'predict':
            return logits.argmax(1), loss.item()
        return logits


class FashionMnistMetric(BaseMetric):

    def process(self, data, preds):  # non-standard parameter names
        self.results.append(
            ((data[1] == preds[0].cpu()).sum(), preds[1], len(preds[0])))

    def compute_metrics(self, results):
        correct, loss, batch_size = zip(*results)
        test_loss, correct = sum(loss) / len(self.results), sum(correct)
        return dict(Accuracy=correct / sum(batch_size), Avg_loss=test_loss)


class _FakeImages(Dataset):
    """3 classes of 4x4 images (the class sets one quadrant bright)."""

    def __init__(self, n, seed):
        gen = torch.Generator().manual_seed(seed)
        self.y = torch.randint(0, 3, (n, ), generator=gen)
        self.x = 0.1 * torch.randn(n, 1, 4, 4, generator=gen)
        for i, c in enumerate(self.y.tolist()):
            self.x[i, 0, c:c + 2, :2] += 1

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


def test_ex_run_04_fashion_mnist_style(tmp_path):
    from mmengine import Runner as TopLevelRunner
    assert TopLevelRunner is Runner
    runner = TopLevelRunner(
        model=NeuralNetwork(),
        work_dir=str(tmp_path),
        train_dataloader=DataLoader(_FakeImages(96, 0), batch_size=16,
                                    shuffle=True),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.5)),
        train_cfg=dict(by_epoch=True, max_epochs=5, val_interval=1),
        val_cfg=dict(fp16=True),  # bfloat16 autocast on CPU
        val_dataloader=DataLoader(_FakeImages(48, 1), batch_size=16),
        val_evaluator=dict(metrics=FashionMnistMetric()),
        experiment_name=_name('ex_run_04'))
    runner.train()
    metrics = runner.val()
    assert set(metrics) == {'Accuracy', 'Avg_loss'}
    assert metrics['Accuracy'] > 0.9


# ------------------------------------------------------------ EX-RUN-05
class MNISTDataset(BaseDataset):

    def __init__(self, n, **kwargs):
        self.n = n
        super().__init__(**kwargs)

    def load_data_list(self):
        gen = torch.Generator().manual_seed(0)
        imgs = torch.randint(0, 256, (self.n, 1, 4, 4), generator=gen)
        return [dict(inputs=img) for img in imgs]


def set_requires_grad(nets, requires_grad=False):
    for net in nets if isinstance(nets, list) else [nets]:
        for param in net.parameters():
            param.requires_grad = requires_grad


class GAN(BaseModel):

    def __init__(self, data_preprocessor):
        super().__init__(data_preprocessor=data_preprocessor)
        self.generator = nn.Sequential(nn.Linear(8, 16), nn.Tanh())
        self.discriminator = nn.Sequential(nn.Linear(16, 1))

    def forward(self, *args, **kwargs):
        pass

    def train_step(self, data, optim_wrapper):
        inputs = self.data_preprocessor(data, True)['inputs']
        real = inputs.flatten(1).float()
        noise = torch.randn(real.size(0), 8)
        fake = self.generator(noise)
        disc_wrapper = optim_wrapper['discriminator']
        with disc_wrapper.optim_context(self.discriminator):
            losses = dict(
                loss_disc_fake=F.softplus(
                    self.discriminator(fake.detach())).mean(),
                loss_disc_real=F.softplus(-self.discriminator(real)).mean())
            loss_d, log_vars_d = self.parse_losses(losses)
        disc_wrapper.update_params(loss_d)
        set_requires_grad(self.discriminator, False)
        gen_wrapper = optim_wrapper['generator']
        with gen_wrapper.optim_context(self.generator):
            loss_g, log_vars_g = self.parse_losses(
                dict(loss_gen=F.softplus(-self.discriminator(fake)).mean()))
        gen_wrapper.update_params(loss_g)
        set_requires_grad(self.discriminator, True)
        log_vars = dict(log_vars_d)
        log_vars.update(log_vars_g)
        return log_vars


def test_ex_run_05_gan(tmp_path):
    dataset = MNISTDataset(n=24, ann_file='', pipeline=[])
    loader = Runner.build_dataloader(  # called on the class
        dict(batch_size=8, num_workers=0, persistent_workers=True,
             sampler=dict(type='DefaultSampler', shuffle=True),
             dataset=dataset))
    model = GAN(ImgDataPreprocessor(mean=[127.5], std=[127.5]))
    gen_before = [p.clone() for p in model.generator.parameters()]
    optim_wrapper = OptimWrapperDict(
        generator=OptimWrapper(torch.optim.Adam(
            model.generator.parameters(), lr=1e-3)),
        discriminator=OptimWrapper(torch.optim.Adam(
            model.discriminator.parameters(), lr=1e-3)))
    runner = Runner(model, work_dir=str(tmp_path / 'gan'),
                    train_dataloader=loader,
                    train_cfg=dict(by_epoch=True, max_epochs=2),
                    optim_wrapper=optim_wrapper,
                    experiment_name=_name('ex_run_05'))
    runner.train()
    assert runner.iter == 6
    for key in ('loss_disc_fake', 'loss_disc_real', 'loss_gen'):
        assert len(runner.message_hub.get_scalar(f'train/{key}').data[0]) == 6
    assert not all(
        torch.equal(a, b)
        for a, b in zip(gen_before, model.generator.parameters()))
    with open(runner.logger.log_file) as f:
        log = f.read()
    assert 'loss_gen' in log and 'loss_disc_real' in log


# ------------------------------------------------------- EX-RUN-10 / 18
class ToyModel(BaseModel):

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.linear = nn.Linear(1, 1)

    def forward(self, img, label, mode='tensor'):
        feat = self.linear(img)
        loss1 = (feat - label).pow(2)
        loss2 = (feat - label).abs()
        if mode == 'loss':
            return dict(loss1=loss1, loss2=loss2)
        if mode == 'predict':
            return [_feat for _feat in feat]
        return feat


def test_ex_run_10_gradient_accumulation(tmp_path):
    changes = []

    class Watch(__import__('mmengine.hooks', fromlist=['Hook']).Hook):

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            self.before = runner.model.linear.weight.detach().clone()

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            changes.append(not torch.equal(
                self.before, runner.model.linear.weight))

    runner = Runner(
        model=ToyModel(),
        work_dir=str(tmp_path),
        train_dataloader=DataLoader(
            [(torch.ones(1, 1), torch.ones(1, 1))] * 50, batch_size=2),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01),
                           accumulative_counts=4),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        custom_hooks=[Watch()],
        experiment_name=_name('ex_run_10'))
    runner.train()
    assert len(changes) == 25
    # updates every 4 iterations, plus the final partial group
    assert [i for i, c in enumerate(changes) if c] == [3, 7, 11, 15, 19, 23,
                                                       24]


def test_ex_run_18_mmcv_migration_toy(tmp_path):
    runner = Runner(
        model=ToyModel(),
        work_dir=str(tmp_path / 'tmp_dir'),
        train_dataloader=DataLoader(
            [(torch.ones(1, 1), torch.ones(1, 1))] * 50, batch_size=2),
        train_cfg=dict(by_epoch=True, max_epochs=5),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        experiment_name=_name('ex_run_18'))
    runner.train()
    assert runner.iter == 125
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert loss < 0.05  # learns feat == label
    assert osp.isfile(osp.join(runner.work_dir, 'epoch_5.pth'))


# ------------------------------------------------------------ EX-RUN-15
class _IndexedDataset(BaseDataset):

    def load_data_list(self):
        return [dict(inputs=torch.tensor([float(i)]),
                     data_samples=torch.tensor([1.0])) for i in range(100)]


def test_ex_run_15_indices_shrink_an_epoch():
    DATASETS.register_module(module=_IndexedDataset, force=True)
    try:
        full = Runner.build_dataloader(dict(
            dataset=dict(type='_IndexedDataset', ann_file='', pipeline=[]),
            sampler=dict(type='DefaultSampler', shuffle=True),
            batch_size=16))
        small = Runner.build_dataloader(dict(
            dataset=dict(type='_IndexedDataset', ann_file='', pipeline=[],
                         indices=50),
            sampler=dict(type='DefaultSampler', shuffle=True),
            batch_size=16))
    finally:
        DATASETS.module_dict.pop('_IndexedDataset')
    assert (len(full), len(small)) == (7, 4)


# ------------------------------------------------------------ EX-RUN-01
class MMResNet50(BaseModel):
    """The tutorial's model, with a tiny MLP in place of ResNet-50."""

    def __init__(self):
        super().__init__()
        self.resnet = nn.Sequential(
            nn.Flatten(), nn.Linear(3 * 8 * 8, 16), nn.ReLU(),
            nn.Linear(16, 10))

    def forward(self, imgs, labels, mode):
        x = self.resnet(imgs)
        if mode == 'loss':
            return {'loss': F.cross_entropy(x, labels)}
        elif mode == 'predict':
            return x, labels


class TutorialAccuracy(BaseMetric):

    def process(self, data_batch, data_samples):
        score, gt = data_samples
        self.results.append({
            'batch_size': len(gt),
            'correct': (score.argmax(dim=1) == gt).sum().cpu(),
        })

    def compute_metrics(self, results):
        total_correct = sum(item['correct'] for item in results)
        total_size = sum(item['batch_size'] for item in results)
        return dict(accuracy=100 * total_correct / total_size)


class _FakeCifar(Dataset):
    """(image, label) pairs like torchvision's CIFAR10 with ToTensor."""

    def __init__(self, size):
        gen = torch.Generator().manual_seed(size)
        self.imgs = torch.rand(size, 3, 8, 8, generator=gen)
        self.labels = torch.randint(0, 10, (size, ), generator=gen)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.imgs[i], self.labels[i]


def test_ex_run_01_fifteen_minute_tutorial(tmp_path):
    """Batch 4: 25 train iterations (the doc's 1563) and 5 val iterations
    (the doc's 313) per epoch, 5 epochs, logging every 10 iterations."""
    train_dataloader = DataLoader(
        batch_size=4, shuffle=True, dataset=_FakeCifar(100))
    val_dataloader = DataLoader(
        batch_size=4, shuffle=False, dataset=_FakeCifar(20))
    runner = Runner(
        model=MMResNet50(),
        work_dir=str(tmp_path / 'work_dir'),
        train_dataloader=train_dataloader,
        optim_wrapper=dict(
            optimizer=dict(type=torch.optim.SGD, lr=0.001, momentum=0.9)),
        train_cfg=dict(by_epoch=True, max_epochs=5, val_interval=1),
        val_dataloader=val_dataloader,
        val_cfg=dict(),
        val_evaluator=dict(type=TutorialAccuracy),
        experiment_name=_name('ex_run_01'))
    runner.train()
    with open(runner.logger.log_file) as f:
        log = f.read()
    date = r'(\d{4}/)?\d\d/\d\d \d\d:\d\d:\d\d'
    # banner, then train lines every 10 iterations in the spec's format
    assert re.search(date + r' - mmengine - INFO - \n-+\nSystem environment',
                     log)
    assert 'Checkpoints will be saved to ' + runner.work_dir in log
    train_lines = re.findall(r'Epoch\(train\) +\[(\d)\]\[ ?(\d+)/25\]  '
                             r'lr: 1\.0000e-03  eta: \d+:\d\d:\d\d  '
                             r'time: \d+\.\d{4}  data_time: \d+\.\d{4}  '
                             r'.*loss: \d+\.\d{4}', log)
    assert [(int(e), int(i)) for e, i in train_lines] == [
        (e, i) for e in range(1, 6) for i in (10, 20)]
    for epoch in range(1, 6):
        assert f'Saving checkpoint at {epoch} epochs' in log
        assert osp.isfile(osp.join(runner.work_dir, f'epoch_{epoch}.pth'))
    summaries = re.findall(
        r'Epoch\(val\) +\[(\d)\]\[5/5\]  accuracy: (\d+\.\d{4})', log)
    assert [int(e) for e, _ in summaries] == [1, 2, 3, 4, 5]
    metric = runner.message_hub.get_scalar('val/accuracy').current()
    assert float(summaries[-1][1]) == pytest.approx(float(metric), abs=1e-4)


# ------------------------------------------------------------ EX-RUN-08
def test_ex_run_08_amp_optim_wrapper_on_cpu(tmp_path):
    """AmpOptimWrapper (bfloat16 on the CPU: float16 autocast is a GPU
    feature) trains the tutorial model; the forward runs under autocast."""
    dtypes = []

    class RecordDtype(nn.Module):

        def forward(self, x):
            dtypes.append(x.dtype)
            return x

    model = MMResNet50()
    model.resnet.insert(2, RecordDtype())  # sees the Linear output
    runner = Runner(
        model=model,
        work_dir=str(tmp_path),
        train_dataloader=DataLoader(_FakeCifar(16), batch_size=4),
        optim_wrapper=dict(
            type='AmpOptimWrapper', dtype='bfloat16',
            optimizer=dict(type='SGD', lr=0.001, momentum=0.9)),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        default_hooks=dict(checkpoint=None),
        experiment_name=_name('ex_run_08'))
    before = [p.detach().clone() for p in runner.model.parameters()]
    runner.train()
    assert type(runner.optim_wrapper).__name__ == 'AmpOptimWrapper'
    assert dtypes and set(dtypes) == {torch.bfloat16}
    assert runner.iter == 4
    assert any(not torch.equal(a, b)
               for a, b in zip(before, runner.model.parameters()))
