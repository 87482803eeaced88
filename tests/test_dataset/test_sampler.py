"""Tests of DefaultSampler and InfiniteSampler (EX-DS-10), including a real
2-process gloo run."""
import itertools
import json
import os
import socket
from unittest import mock

import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp

from mmengine.dataset import DefaultSampler, InfiniteSampler
from mmengine.registry import DATA_SAMPLERS

SAMPLER_MOD = 'mmengine.dataset.sampler'


def with_rank(rank, world_size):
    return mock.patch(f'{SAMPLER_MOD}.get_dist_info',
                      return_value=(rank, world_size))


def shards(n, world_size, **kwargs):
    result = []
    for rank in range(world_size):
        with with_rank(rank, world_size):
            result.append(list(DefaultSampler(range(n), **kwargs)))
    return result


# --------------------------------------------------------------------------
# EX-DS-10 (simulated ranks)
# --------------------------------------------------------------------------
def test_ex_ds_10_default_sampler_sharding():
    parts = shards(7, 2, shuffle=True, seed=3)
    # round_up: both ranks get ceil(7 / 2) = 4, one index is padding
    assert [len(p) for p in parts] == [4, 4]
    assert set(parts[0]) | set(parts[1]) == set(range(7))
    assert len(set(parts[0]) & set(parts[1])) <= 1  # only the padded one
    # same seed + epoch -> same order
    assert shards(7, 2, shuffle=True, seed=3) == parts
    # set_epoch changes the order
    with with_rank(0, 2):
        sampler = DefaultSampler(range(100), seed=3)
        first = list(sampler)
        assert list(sampler) == first
        sampler.set_epoch(1)
        second = list(sampler)
        assert second != first and sorted(second) != second
        assert sampler.epoch == 1


def test_default_sampler_no_shuffle_and_round_up():
    with with_rank(0, 1):
        assert list(DefaultSampler(range(5), shuffle=False)) == \
            [0, 1, 2, 3, 4]
    assert shards(5, 2, shuffle=False) == [[0, 2, 4], [1, 3, 0]]
    assert shards(5, 2, shuffle=False, round_up=False) == [[0, 2, 4],
                                                           [1, 3]]
    # round_up pads by repeating from the start, even for tiny datasets
    assert shards(2, 4, shuffle=False) == [[0], [1], [0], [1]]
    assert shards(2, 4, shuffle=False, round_up=False) == [[0], [1], [],
                                                           []]
    for kwargs in (dict(round_up=True), dict(round_up=False)):
        for rank in range(3):
            with with_rank(rank, 3):
                sampler = DefaultSampler(range(10), seed=0, **kwargs)
                assert len(sampler) == len(list(sampler))


@pytest.mark.parametrize('round_up', [True, False])
def test_default_sampler_disjoint_cover(round_up):
    for n, ws in itertools.product([1, 7, 10, 13], [1, 2, 3, 4]):
        parts = shards(n, ws, seed=5, round_up=round_up)
        flat = [i for p in parts for i in p]
        assert set(flat) == set(range(n))
        if not round_up:
            assert sorted(flat) == list(range(n))  # disjoint, no padding
        else:
            assert len(flat) == -(-n // ws) * ws


def test_default_sampler_seed():
    with with_rank(0, 1):
        with mock.patch(f'{SAMPLER_MOD}.sync_random_seed',
                        return_value=1234) as sync:
            sampler = DefaultSampler(range(4))
        sync.assert_called_once()
        assert sampler.seed == 1234
        assert DefaultSampler(range(4), seed=7).seed == 7
        with pytest.raises(TypeError, match='seed'):
            DefaultSampler(range(4), seed='1')
        # the shuffle is torch.randperm seeded with seed + epoch
        sampler = DefaultSampler(range(10), seed=7)
        sampler.set_epoch(2)
        g = torch.Generator()
        g.manual_seed(9)
        assert list(sampler) == torch.randperm(10, generator=g).tolist()


def test_empty_dataset():
    with with_rank(0, 2):
        assert list(DefaultSampler([], seed=0)) == []
        assert len(DefaultSampler([], seed=0)) == 0
        assert list(InfiniteSampler([], seed=0)) == []


def test_infinite_sampler():
    with with_rank(0, 1):
        sampler = InfiniteSampler(range(5), shuffle=False, seed=0)
        assert len(sampler) == 5
        assert list(itertools.islice(sampler, 12)) == \
            [0, 1, 2, 3, 4] * 2 + [0, 1]
        # re-iterating continues the stream
        assert list(itertools.islice(iter(sampler), 3)) == [2, 3, 4]
        sampler.set_epoch(3)  # no-op

        shuffled = InfiniteSampler(range(6), shuffle=True, seed=1)
        stream = list(itertools.islice(shuffled, 18))
        for k in range(3):  # each pass is a permutation
            assert sorted(stream[6 * k:6 * k + 6]) == list(range(6))
        assert stream[:6] != stream[6:12]
        again = InfiniteSampler(range(6), shuffle=True, seed=1)
        assert list(itertools.islice(again, 18)) == stream

    per_rank = []
    for rank in range(2):
        with with_rank(rank, 2):
            per_rank.append(
                list(itertools.islice(
                    InfiniteSampler(range(5), shuffle=True, seed=2), 5)))
    with with_rank(0, 1):
        full = list(itertools.islice(
            InfiniteSampler(range(5), shuffle=True, seed=2), 10))
    assert per_rank[0] == full[0::2] and per_rank[1] == full[1::2]


def test_registered():
    assert DATA_SAMPLERS.get('DefaultSampler') is DefaultSampler
    assert DATA_SAMPLERS.get('InfiniteSampler') is InfiniteSampler
    sampler = DATA_SAMPLERS.build(
        dict(type='DefaultSampler', shuffle=False, seed=0),
        default_args=dict(dataset=range(3)))
    assert list(sampler) == [0, 1, 2]


# --------------------------------------------------------------------------
# Real distributed run: 2 gloo processes, uneven dataset
# --------------------------------------------------------------------------
def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _worker(rank, world_size, port, out_dir):
    os.environ['MASTER_ADDR'] = '127.0.0.1'
    os.environ['MASTER_PORT'] = str(port)
    torch_dist.init_process_group(
        'gloo', rank=rank, world_size=world_size)
    try:
        result = {}
        for round_up in (True, False):
            for epoch in (0, 1):
                # seed=None: rank 0 draws it and broadcasts it to rank 1
                sampler = DefaultSampler(range(11), seed=None,
                                         round_up=round_up)
                sampler.set_epoch(epoch)
                result[f'{round_up}-{epoch}'] = dict(
                    indices=list(sampler), len=len(sampler),
                    seed=sampler.seed, rank=sampler.rank,
                    world_size=sampler.world_size)
        inf = InfiniteSampler(range(11), seed=None)
        result['infinite'] = list(itertools.islice(inf, 6))
        with open(os.path.join(out_dir, f'{rank}.json'), 'w') as f:
            json.dump(result, f)
        torch_dist.barrier()
    finally:
        torch_dist.destroy_process_group()


def test_default_sampler_two_ranks_gloo(tmp_path):
    world_size = 2
    # fork: the children inherit the imported modules, which keeps the test
    # fast; the processes are still real and talk over gloo.
    mp.start_processes(
        _worker,
        args=(world_size, _free_port(), str(tmp_path)),
        nprocs=world_size,
        join=True,
        start_method='fork')
    results = [
        json.loads((tmp_path / f'{r}.json').read_text())
        for r in range(world_size)
    ]
    for round_up in (True, False):
        for epoch in (0, 1):
            key = f'{round_up}-{epoch}'
            r0, r1 = results[0][key], results[1][key]
            assert (r0['rank'], r1['rank']) == (0, 1)
            assert r0['world_size'] == r1['world_size'] == 2
            assert r0['seed'] == r1['seed']  # synced across ranks
            assert len(r0['indices']) == r0['len']
            assert len(r1['indices']) == r1['len']
            union = set(r0['indices']) | set(r1['indices'])
            assert union == set(range(11))
            if round_up:
                assert r0['len'] == r1['len'] == 6
                # one padded index repeats: 12 slots for 11 samples
                assert len(set(r0['indices']) & set(r1['indices'])) <= 1
            else:
                assert (r0['len'], r1['len']) == (6, 5)
                assert not set(r0['indices']) & set(r1['indices'])
    # epochs differ
    assert results[0]['True-0']['indices'] != results[0]['True-1']['indices']
    inf0, inf1 = results[0]['infinite'], results[1]['infinite']
    assert not set(inf0[:5]) & set(inf1[:5])


# --------------------------------------------------------------------------
# Exact resume: state_dict(consumed) / load_state_dict / set_start
# --------------------------------------------------------------------------
@pytest.mark.parametrize('round_up', [True, False])
@pytest.mark.parametrize('shuffle', [True, False])
def test_default_sampler_resume(round_up, shuffle):
    n, ws = 11, 3
    for rank in range(ws):
        with with_rank(rank, ws):
            straight = DefaultSampler(range(n), shuffle=shuffle, seed=4,
                                      round_up=round_up)
            epochs = []
            for epoch in range(3):
                straight.set_epoch(epoch)
                epochs.append(list(straight))
            for epoch in range(3):
                for consumed in range(len(epochs[epoch]) + 1):
                    straight.set_epoch(epoch)
                    state = straight.state_dict(consumed=consumed)
                    # a fresh sampler with another seed, as after a restart
                    resumed = DefaultSampler(range(n), shuffle=shuffle,
                                             seed=99, round_up=round_up)
                    resumed.load_state_dict(state)
                    assert resumed.epoch == epoch and resumed.seed == 4
                    assert list(resumed) == epochs[epoch][consumed:]
                    # the skip happens once: the next pass is whole
                    assert list(resumed) == epochs[epoch]
                    resumed.set_epoch(epoch + 1)
                    if epoch < 2:
                        assert list(resumed) == epochs[epoch + 1]
    with with_rank(0, 1):
        sampler = DefaultSampler(range(6), seed=0)
        sampler.set_start(4)
        assert len(sampler) == 6  # __len__ stays the whole epoch
        assert len(list(sampler)) == 2


def test_sampler_state_is_plain_and_weights_only_loadable(tmp_path):
    with with_rank(0, 1):
        default = DefaultSampler(range(10), seed=3)
        default.set_epoch(2)
        infinite = InfiniteSampler(range(10), seed=3)
    state = dict(default=default.state_dict(consumed=4),
                 infinite=infinite.state_dict(consumed=25))
    assert state['default'] == dict(
        epoch=2, seed=3, start=4, shuffle=True, round_up=True, world_size=1,
        dataset_len=10)
    assert state['infinite'] == dict(
        seed=3, start=25, shuffle=True, world_size=1, dataset_len=10)
    torch.save(state, tmp_path / 'ckpt.pth')
    assert torch.load(tmp_path / 'ckpt.pth', weights_only=True) == state


def test_sampler_load_state_dict_errors():
    with with_rank(0, 2):
        default = DefaultSampler(range(10), seed=3)
        infinite = InfiniteSampler(range(10), seed=3)
        good = default.state_dict(consumed=2)
        with pytest.raises(ValueError, match='dataset_len=12'):
            default.load_state_dict({**good, 'dataset_len': 12})
        with pytest.raises(ValueError, match='world_size=4'):
            infinite.load_state_dict(
                {**infinite.state_dict(), 'world_size': 4})
        with pytest.raises(KeyError, match=r"\['epoch'\]"):
            default.load_state_dict(
                {k: v for k, v in good.items() if k != 'epoch'})
        with pytest.raises(TypeError, match='expects a dict.*list'):
            default.load_state_dict([])
        with pytest.raises(TypeError, match='seed must be an int.*None'):
            default.load_state_dict({**good, 'seed': None})
        with pytest.raises(TypeError, match='start must be.*float'):
            default.load_state_dict({**good, 'start': 1.5})
        # nothing was changed by the failed loads
        assert default.epoch == 0 and default.seed == 3
        with pytest.raises(ValueError, match='non-negative int, but got -1'):
            default.set_start(-1)
        with pytest.raises(TypeError, match='consumed must be.*str'):
            infinite.state_dict(consumed='3')
        with pytest.raises(TypeError, match='start must be.*bool'):
            infinite.set_start(True)


@pytest.mark.parametrize('size,ws', [(5, 1), (7, 2), (6, 3), (2, 4)])
@pytest.mark.parametrize('shuffle', [True, False])
def test_infinite_sampler_resume(size, ws, shuffle):
    for rank in range(ws):
        with with_rank(rank, ws):
            straight = list(itertools.islice(
                InfiniteSampler(range(size), shuffle=shuffle, seed=8), 40))
            for consumed in range(25):
                src = InfiniteSampler(range(size), shuffle=shuffle, seed=8)
                state = src.state_dict(consumed=consumed)
                resumed = InfiniteSampler(range(size), shuffle=shuffle,
                                          seed=1)
                resumed.load_state_dict(state)
                assert list(itertools.islice(resumed, 15)) == \
                    straight[consumed:consumed + 15]
    # the rank streams still partition the global stream
    if ws > 1:
        with with_rank(0, 1):
            full = list(itertools.islice(
                InfiniteSampler(range(size), shuffle=shuffle, seed=8),
                20 * ws))
        for rank in range(ws):
            with with_rank(rank, ws):
                part = list(itertools.islice(
                    InfiniteSampler(range(size), shuffle=shuffle, seed=8),
                    20))
            assert part == full[rank::ws]


def test_infinite_sampler_far_start_is_o1():
    # Pass p of the global stream is randperm(size) seeded with seed + p,
    # so a start a billion passes away costs one permutation.
    with with_rank(1, 2):
        sampler = InfiniteSampler(range(10), seed=5)
        start = 10**10
        sampler.set_start(start)
        first = next(iter(sampler))
    pos = 1 + start * 2
    g = torch.Generator()
    g.manual_seed(5 + pos // 10)
    assert first == torch.randperm(10, generator=g).tolist()[pos % 10]
