"""A real multi-worker ``torch.utils.data.DataLoader`` over a serialized
``BaseDataset`` with ``DefaultSampler``, ``pseudo_collate`` and
``worker_init_fn``: every sample once per epoch, deterministic for a seed,
``set_epoch`` reorders, and a resumed sampler continues the epoch."""
import json
from functools import partial

import numpy as np
import pytest
from torch.utils.data import DataLoader

from mmengine.dataset import (BaseDataset, DefaultSampler, pseudo_collate,
                              worker_init_fn)

NUM_ITEMS = 23
BATCH = 4


class AddNoise:
    """A random transform: its draws depend on the worker's numpy seed."""

    def __call__(self, results):
        results['noise'] = int(np.random.randint(0, 2**31))
        return results


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    ann = tmp_path_factory.mktemp('ann') / 'ann.json'
    ann.write_text(
        json.dumps(
            dict(
                metainfo=dict(classes=['a', 'b']),
                data_list=[
                    dict(img_path=f'{i}.jpg', label=i % 2)
                    for i in range(NUM_ITEMS)
                ])))
    ds = BaseDataset(
        ann_file=str(ann),
        data_prefix=dict(img_path='imgs'),
        pipeline=[AddNoise()])
    assert ds.serialize_data and ds.data_list == []  # shared byte buffer
    return ds


def make_loader(dataset, epoch=0, start=0):
    sampler = DefaultSampler(dataset, shuffle=True, seed=0)
    sampler.set_epoch(epoch)
    if start:
        sampler.set_start(start)
    return DataLoader(
        dataset,
        batch_size=BATCH,
        num_workers=2,
        sampler=sampler,
        collate_fn=pseudo_collate,
        timeout=60,  # a stuck worker fails the test instead of hanging it
        worker_init_fn=partial(worker_init_fn, num_workers=2, rank=0,
                               seed=0))


def read_epoch(dataset, **kwargs):
    batches = list(make_loader(dataset, **kwargs))
    for batch in batches:
        assert isinstance(batch, dict)  # pseudo_collate: dict of lists
        assert isinstance(batch['sample_idx'], list)
    return [(idx, path, noise) for b in batches for idx, path, noise in zip(
        b['sample_idx'], b['img_path'], b['noise'])]


def test_dataloader_epochs(dataset):
    # Forked workers inherit the parent's numpy state: change it between
    # runs so that only worker_init_fn can make the draws reproducible.
    np.random.seed(1)
    first = read_epoch(dataset)
    # every sample exactly once per epoch
    assert sorted(i for i, _, _ in first) == list(range(NUM_ITEMS))
    assert all(p == f'imgs/{i}.jpg' for i, p, _ in first)
    # deterministic for the same seed: order and worker random draws
    np.random.seed(2)
    assert read_epoch(dataset) == first
    assert len({n for _, _, n in first}) == NUM_ITEMS  # draws do vary
    # set_epoch changes the order, still every sample once
    second = read_epoch(dataset, epoch=1)
    assert sorted(i for i, _, _ in second) == list(range(NUM_ITEMS))
    assert [i for i, _, _ in second] != [i for i, _, _ in first]
    # a sampler resumed after 2 batches yields the rest of the epoch; the
    # loader restarts its workers, so only the order is compared
    resumed = read_epoch(dataset, start=2 * BATCH)
    assert [i for i, _, _ in resumed] == \
        [i for i, _, _ in first][2 * BATCH:]
