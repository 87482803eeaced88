"""Tests of pseudo_collate, default_collate, worker_init_fn and the registry
examples (EX-DS-09, EX-DS-11)."""
import random
from collections import namedtuple
from functools import partial

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from mmengine.dataset import (COLLATE_FUNCTIONS, DefaultSampler,
                              default_collate, pseudo_collate,
                              worker_init_fn)
from mmengine.registry import DATA_SAMPLERS, FUNCTIONS
from mmengine.structures import BaseDataElement


# --------------------------------------------------------------------------
# EX-DS-09
# --------------------------------------------------------------------------
def test_ex_ds_09_collate_behaviour():
    t1, t2 = torch.rand(3), torch.rand(3)
    out = pseudo_collate([(t1, 0), (t2, 1)])
    assert isinstance(out, tuple) and len(out) == 2
    assert out[0][0] is t1 and out[0][1] is t2 and out[1] == [0, 1]

    out = default_collate([(t1, 0), (t2, 1)])
    assert isinstance(out, tuple)
    assert torch.equal(out[0], torch.stack([t1, t2]))
    assert torch.equal(out[1], torch.tensor([0, 1]))

    out = pseudo_collate([{'inputs': t1}, {'inputs': t2}])
    assert list(out) == ['inputs'] and out['inputs'][0] is t1
    assert out['inputs'][1] is t2


def test_pseudo_collate_nested():
    ds1, ds2 = BaseDataElement(label=1), BaseDataElement(label=2)
    batch = [
        dict(inputs=np.zeros(2), data_samples=ds1, meta=dict(name='a'),
             pair=[1, 'x']),
        dict(inputs=np.ones(3), data_samples=ds2, meta=dict(name='b'),
             pair=[2, 'y']),
    ]
    out = pseudo_collate(batch)
    assert out['data_samples'][0] is ds1 and out['data_samples'][1] is ds2
    assert out['meta'] == dict(name=['a', 'b'])
    assert out['pair'] == [[1, 2], ['x', 'y']]
    assert out['inputs'][1].shape == (3, )  # nothing is stacked
    Point = namedtuple('Point', ['x', 'y'])
    out = pseudo_collate([Point(1, 'a'), Point(2, 'b')])
    assert isinstance(out, Point) and out.x == [1, 2] and out.y == ['a', 'b']
    assert pseudo_collate(['a', 'b']) == ['a', 'b']
    assert pseudo_collate([]) == []


def test_collate_errors():
    with pytest.raises(RuntimeError, match='same length'):
        pseudo_collate([[1, 2], [1]])
    with pytest.raises(KeyError, match="'b'"):
        pseudo_collate([dict(a=1, b=2), dict(a=1)])
    with pytest.raises(RuntimeError, match=r'same shape.*pseudo_collate'):
        default_collate([torch.zeros(2), torch.zeros(3)])


def test_default_collate():
    ds1, ds2 = BaseDataElement(label=1), BaseDataElement(label=2)
    batch = [
        dict(inputs=torch.zeros(1, 2), value=1, f=0.5, arr=np.array([1, 2]),
             name='a', data_samples=ds1),
        dict(inputs=torch.ones(1, 2), value=2, f=1.5, arr=np.array([3, 4]),
             name='b', data_samples=ds2),
    ]
    out = default_collate(batch)
    assert out['inputs'].shape == (2, 1, 2)
    assert torch.equal(out['value'], torch.tensor([1, 2]))
    assert torch.allclose(out['f'], torch.tensor([0.5, 1.5],
                                                 dtype=torch.float64))
    assert torch.equal(out['arr'], torch.tensor([[1, 2], [3, 4]]))
    assert out['name'] == ['a', 'b']
    # data elements are not collated
    assert out['data_samples'] == [ds1, ds2]
    assert out['data_samples'][0] is ds1
    out = default_collate([[torch.zeros(2), 1], [torch.ones(2), 2]])
    assert isinstance(out, list) and out[0].shape == (2, 2)


def test_registered_in_functions():
    assert FUNCTIONS.get('pseudo_collate') is pseudo_collate
    assert FUNCTIONS.get('default_collate') is default_collate
    assert COLLATE_FUNCTIONS is FUNCTIONS


def test_worker_init_fn():
    worker_init_fn(1, num_workers=2, rank=3, seed=10)
    expected_seed = 2 * 3 + 1 + 10
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    random.seed(expected_seed)
    np.random.seed(expected_seed)
    torch.manual_seed(expected_seed)
    assert a == (random.random(), np.random.rand(), torch.rand(1).item())
    # different workers / ranks get different seeds
    worker_init_fn(0, 2, 0, 10)
    b = np.random.rand()
    worker_init_fn(1, 2, 0, 10)
    assert np.random.rand() != b


def test_worker_init_fn_in_dataloader():

    class RandDataset(Dataset):

        def __len__(self):
            return 4

        def __getitem__(self, idx):
            return np.random.randint(0, 2**31)

    def draw():
        loader = DataLoader(
            RandDataset(),
            batch_size=1,
            num_workers=2,
            worker_init_fn=partial(worker_init_fn, num_workers=2, rank=0,
                                   seed=3),
            collate_fn=pseudo_collate,
            multiprocessing_context='fork')
        return [b[0] for b in loader]

    first = draw()
    assert first == draw()
    assert first[0] != first[1]  # the two workers differ


def test_worker_init_fn_disables_warnings():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('always')
        worker_init_fn(0, 2, 0, 0, disable_subprocess_warning=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.warn('worker 0 keeps warnings')
        assert len(caught) == 1  # worker 0 is left alone
        worker_init_fn(1, 2, 0, 0, disable_subprocess_warning=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.warn('silenced')
        assert caught == []


# --------------------------------------------------------------------------
# EX-DS-11: custom sampler / collate via the registries
# --------------------------------------------------------------------------
@DATA_SAMPLERS.register_module(force=True)
class MySampler(Sampler):
    """Yields the indices in reverse order."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __iter__(self):
        return iter(range(len(self.dataset) - 1, -1, -1))

    def __len__(self):
        return len(self.dataset)


@FUNCTIONS.register_module(force=True)
def my_collate_func(data_batch):
    return dict(batch=pseudo_collate(data_batch), size=len(data_batch))


def build_dataloader(cfg, dataset):
    """What the Runner does with a dict dataloader config."""
    cfg = dict(cfg)
    sampler = DATA_SAMPLERS.build(
        cfg.pop('sampler'), default_args=dict(dataset=dataset))
    collate_cfg = dict(cfg.pop('collate_fn', dict(type='pseudo_collate')))
    collate_fn = partial(FUNCTIONS.get(collate_cfg.pop('type')),
                         **collate_cfg)
    return DataLoader(dataset, sampler=sampler, collate_fn=collate_fn, **cfg)


def test_ex_ds_11_custom_sampler_and_collate():
    dataset = [dict(inputs=torch.full((2, ), float(i))) for i in range(5)]
    loader = build_dataloader(
        dict(batch_size=2, sampler=dict(type='MySampler'),
             collate_fn=dict(type='my_collate_func')), dataset)
    batches = list(loader)
    assert [b['size'] for b in batches] == [2, 2, 1]
    assert [t[0].item() for t in batches[0]['batch']['inputs']] == [4., 3.]

    # the documented PyTorch-equivalent config
    loader = build_dataloader(
        dict(batch_size=2,
             sampler=dict(type='DefaultSampler', shuffle=False, seed=0),
             collate_fn=dict(type='default_collate')), dataset)
    assert isinstance(loader.sampler, DefaultSampler)
    first = next(iter(loader))
    assert torch.equal(first['inputs'], torch.tensor([[0., 0.], [1., 1.]]))
