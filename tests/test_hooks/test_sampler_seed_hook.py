from unittest.mock import MagicMock

from mmengine.hooks import DistSamplerSeedHook


class Sampler:

    def __init__(self):
        self.epochs = []

    def set_epoch(self, epoch):
        self.epochs.append(epoch)


def test_sets_epoch_on_sampler_or_batch_sampler():
    hook = DistSamplerSeedHook()
    runner = MagicMock()
    runner.epoch = 3
    sampler = Sampler()
    runner.train_loop.dataloader = MagicMock(spec_set=['sampler'])
    runner.train_loop.dataloader.sampler = sampler
    hook.before_train_epoch(runner)
    assert sampler.epochs == [3]

    inner = Sampler()
    loader = MagicMock(spec_set=['sampler', 'batch_sampler'])
    loader.sampler = object()  # no set_epoch
    loader.batch_sampler.sampler = inner
    runner.train_loop.dataloader = loader
    hook.before_train_epoch(runner)
    assert inner.epochs == [3]

    # Neither has set_epoch: nothing happens.
    runner.train_loop.dataloader = MagicMock(spec_set=['sampler'])
    runner.train_loop.dataloader.sampler = object()
    hook.before_train_epoch(runner)


def test_with_real_sampler():
    import torch
    from torch.utils.data import DataLoader

    from mmengine.dataset import DefaultSampler
    dataset = list(range(8))
    sampler = DefaultSampler(dataset, shuffle=True, seed=0)
    loader = DataLoader(dataset, sampler=sampler, batch_size=2)
    runner = MagicMock()
    runner.train_loop.dataloader = loader
    hook = DistSamplerSeedHook()
    orders = []
    for epoch in range(2):
        runner.epoch = epoch
        hook.before_train_epoch(runner)
        orders.append(torch.cat(list(loader)).tolist())
    assert orders[0] != orders[1]
    assert sorted(orders[0]) == sorted(orders[1]) == dataset
