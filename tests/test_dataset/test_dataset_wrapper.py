"""Tests of ConcatDataset, RepeatDataset, ClassBalancedDataset and the
custom-wrapper protocol (EX-DS-06, EX-DS-07)."""
import copy
import json
import logging
import math

import numpy as np
import pytest

from mmengine.dataset import (BaseDataset, ClassBalancedDataset,
                              ConcatDataset, RepeatDataset, force_full_init)
from mmengine.registry import DATASETS


def make_ann(tmp_path, name, n, metainfo=None, cats=None):
    data_list = [
        dict(img_path=f'{name}_{i}.jpg',
             idx=i,
             cats=(cats[i] if cats else [i % 2])) for i in range(n)
    ]
    path = tmp_path / f'{name}.json'
    path.write_text(
        json.dumps(
            dict(metainfo=metainfo or dict(classes=['a', 'b']),
                 data_list=data_list)))
    return str(path)


class CatDataset(BaseDataset):

    def get_cat_ids(self, idx):
        return self.get_data_info(idx)['cats']


@pytest.fixture
def ds_a(tmp_path):
    return CatDataset(ann_file=make_ann(tmp_path, 'a', 3))


@pytest.fixture
def ds_b(tmp_path):
    return CatDataset(ann_file=make_ann(tmp_path, 'b', 2))


# --------------------------------------------------------------------------
# EX-DS-06
# --------------------------------------------------------------------------
def test_ex_ds_06_wrappers(tmp_path, ds_a, ds_b):
    cat = ConcatDataset(datasets=[ds_a, ds_b])
    assert len(cat) == len(ds_a) + len(ds_b) == 5
    rep = RepeatDataset(dataset=ds_a, times=5)
    assert len(rep) == 5 * len(ds_a)
    # 9 samples of class 0, one rare sample of class 1 (freq 0.1):
    # r(1) = sqrt(0.4 / 0.1) = 2 -> the rare sample appears twice.
    cats = [[0]] * 9 + [[0, 1]]
    rare = CatDataset(ann_file=make_ann(tmp_path, 'rare', 10, cats=cats))
    cbd = ClassBalancedDataset(dataset=rare, oversample_thr=0.4)
    assert len(cbd) == 11
    assert cbd.repeat_indices == list(range(10)) + [9]
    # with the documented threshold 1e-3 nothing is below the threshold
    assert len(ClassBalancedDataset(dataset=rare, oversample_thr=1e-3)) == 10


# --------------------------------------------------------------------------
# ConcatDataset
# --------------------------------------------------------------------------
def test_concat_indexing(ds_a, ds_b):
    cat = ConcatDataset(datasets=[ds_a, ds_b])
    assert cat.metainfo == ds_a.metainfo
    assert cat._get_ori_dataset_idx(3) == (1, 0)
    assert cat.get_dataset_idx_and_sample_idx(-1) == (1, 1)
    assert cat._get_ori_dataset_idx(-5) == (0, 0)
    with pytest.raises(ValueError, match='index'):
        cat._get_ori_dataset_idx(-6)
    with pytest.raises(IndexError):
        cat._get_ori_dataset_idx(5)
    assert cat.get_data_info(4)['img_path'] == 'b_1.jpg'
    assert cat[-1]['img_path'] == 'b_1.jpg'
    assert cat[0]['img_path'] == 'a_0.jpg'
    assert [s['img_path'] for s in cat] == \
        ['a_0.jpg', 'a_1.jpg', 'a_2.jpg', 'b_0.jpg', 'b_1.jpg']
    with pytest.raises(NotImplementedError, match='get_subset'):
        cat.get_subset(1)
    with pytest.raises(NotImplementedError, match='get_subset_'):
        cat.get_subset_(1)


def test_concat_from_cfg_and_type_errors(tmp_path, ds_a):
    DATASETS.register_module(name='_WrapperTestCat', module=CatDataset,
                             force=True)
    cfg = dict(type='_WrapperTestCat', ann_file=make_ann(tmp_path, 'c', 4))
    cat = ConcatDataset(datasets=[ds_a, cfg])
    assert len(cat) == 7 and isinstance(cat.datasets[1], CatDataset)
    with pytest.raises(TypeError, match=r'datasets\[0\].*int'):
        ConcatDataset(datasets=[0])
    with pytest.raises(TypeError, match='ignore_keys'):
        ConcatDataset(datasets=[ds_a], ignore_keys=1)
    with pytest.raises(TypeError, match='sequence'):
        ConcatDataset(datasets=ds_a)
    with pytest.raises(ValueError, match='at least one'):
        ConcatDataset(datasets=[])


def test_concat_metainfo_check(tmp_path, ds_a):
    other = CatDataset(
        ann_file=make_ann(tmp_path, 'o', 2),
        metainfo=dict(classes=['x', 'y'], extra=1))
    with pytest.raises(ValueError, match="'classes' differs"):
        ConcatDataset(datasets=[ds_a, other], ignore_keys='extra')
    with pytest.raises(ValueError, match="'extra' is missing in the first"):
        ConcatDataset(datasets=[ds_a, other], ignore_keys=['classes'])
    with pytest.raises(ValueError, match="'extra' is missing in the 1-th"):
        ConcatDataset(datasets=[other, ds_a], ignore_keys=['classes'])
    cat = ConcatDataset(datasets=[ds_a, other],
                        ignore_keys=['classes', 'extra'])
    assert cat.metainfo == ds_a.metainfo
    # numpy values compare element-wise
    d1 = CatDataset(ann_file=make_ann(tmp_path, 'n1', 1),
                    metainfo=dict(palette=np.array([1, 2])))
    d2 = CatDataset(ann_file=make_ann(tmp_path, 'n2', 1),
                    metainfo=dict(palette=np.array([1, 2])))
    d3 = CatDataset(ann_file=make_ann(tmp_path, 'n3', 1),
                    metainfo=dict(palette=np.array([1, 3])))
    assert len(ConcatDataset([d1, d2])) == 2
    with pytest.raises(ValueError, match="'palette'"):
        ConcatDataset([d1, d3])


def test_concat_lazy(tmp_path, caplog):
    a = CatDataset(ann_file=make_ann(tmp_path, 'a', 3), lazy_init=True)
    b = CatDataset(ann_file=make_ann(tmp_path, 'b', 2), lazy_init=True)
    cat = ConcatDataset(datasets=[a, b], lazy_init=True)
    assert not cat._fully_initialized and not a._fully_initialized
    assert len(cat) == 5  # force_full_init
    assert a._fully_initialized and b._fully_initialized
    cat._fully_initialized = False
    assert cat[1]['img_path'] == 'a_1.jpg'
    assert cat._fully_initialized


# --------------------------------------------------------------------------
# RepeatDataset
# --------------------------------------------------------------------------
def test_repeat(ds_a):
    rep = RepeatDataset(dataset=ds_a, times=3)
    assert rep.metainfo == ds_a.metainfo
    for i in range(len(rep)):
        assert rep.get_data_info(i)['idx'] == i % 3
        assert rep[i]['idx'] == i % 3
    assert rep[-1]['idx'] == 2
    with pytest.raises(IndexError):
        rep[9]
    assert len(RepeatDataset(dataset=ds_a, times=0)) == 0
    with pytest.raises(TypeError):
        RepeatDataset(dataset=[0], times=5)
    with pytest.raises(ValueError, match='times'):
        RepeatDataset(dataset=ds_a, times=-1)
    with pytest.raises(TypeError, match=r"times must be .*int, but got str"):
        RepeatDataset(dataset=ds_a, times='3')
    with pytest.raises(NotImplementedError):
        rep.get_subset(1)
    lazy = RepeatDataset(dataset=ds_a, times=2, lazy_init=True)
    assert not lazy._fully_initialized
    assert len(lazy) == 6 and lazy._fully_initialized


def test_nested_wrappers(ds_a, ds_b):
    cat = ConcatDataset([RepeatDataset(ds_a, 2), ds_b])
    assert len(cat) == 8
    assert cat[6]['img_path'] == 'b_0.jpg'
    assert cat[4]['img_path'] == 'a_1.jpg'


# --------------------------------------------------------------------------
# ClassBalancedDataset
# --------------------------------------------------------------------------
def test_class_balanced_rule(tmp_path):
    # class 0 in every sample, class 1 in 1/8, sample 7 has no category
    cats = [[0]] * 6 + [[0, 1], []]
    ds = CatDataset(ann_file=make_ann(tmp_path, 'cb', 8, cats=cats))
    thr = 0.5
    cbd = ClassBalancedDataset(dataset=ds, oversample_thr=thr)
    f0, f1 = 7 / 8, 1 / 8
    r0 = max(1.0, math.sqrt(thr / f0))
    r1 = max(1.0, math.sqrt(thr / f1))
    expected = []
    for i, c in enumerate(cats):
        factor = max([{0: r0, 1: r1}[x] for x in c], default=1.0)
        expected += [i] * math.ceil(factor)
    assert cbd.repeat_indices == expected
    assert expected.count(6) == 2
    assert len(cbd) == len(expected)
    for i, ori in enumerate(expected):
        assert cbd.get_data_info(i)['idx'] == ori
        assert cbd[i]['idx'] == ori
        assert cbd.get_cat_ids(i) == cats[ori]
    assert cbd.metainfo == ds.metainfo
    with pytest.raises(NotImplementedError):
        cbd.get_subset_(1)


def test_class_balanced_needs_get_cat_ids(tmp_path):
    ds = BaseDataset(ann_file=make_ann(tmp_path, 'x', 2))
    with pytest.raises(NotImplementedError, match='get_cat_ids'):
        ClassBalancedDataset(dataset=ds, oversample_thr=0.1)
    with pytest.raises(TypeError):
        ClassBalancedDataset(dataset=[0], oversample_thr=0.1)


def test_class_balanced_bad_args(tmp_path):
    ds = CatDataset(ann_file=make_ann(tmp_path, 'bad', 3))
    with pytest.raises(TypeError, match='oversample_thr must be a float, '
                       'but got str'):
        ClassBalancedDataset(dataset=ds, oversample_thr='0.1')
    with pytest.raises(ValueError, match='oversample_thr must be >= 0'):
        ClassBalancedDataset(dataset=ds, oversample_thr=-0.1)
    cbd = ClassBalancedDataset(dataset=ds, oversample_thr=1e-3)
    assert cbd.oversample_thr == 1e-3 and len(cbd) == 3
    with pytest.raises(IndexError, match='index 3 is out of range for '
                       'ClassBalancedDataset of 3 samples'):
        cbd[3]
    assert cbd[-1]['idx'] == 2
    assert ClassBalancedDataset(dataset=ds, oversample_thr=1).oversample_thr \
        == 1.0


def test_class_balanced_lazy(tmp_path):
    ds = CatDataset(ann_file=make_ann(tmp_path, 'l', 4), lazy_init=True)
    cbd = ClassBalancedDataset(dataset=ds, oversample_thr=1e-3,
                               lazy_init=True)
    assert not cbd._fully_initialized
    assert len(cbd) == 4
    cbd.repeat_indices = [0, 0]
    cbd._fully_initialized = False
    assert len(cbd) == 4  # recomputed


# --------------------------------------------------------------------------
# EX-DS-07: a custom wrapper following the documented protocol
# --------------------------------------------------------------------------
class ExampleDatasetWrapper:

    def __init__(self, dataset, lazy_init=False):
        if isinstance(dataset, dict):
            self.dataset = DATASETS.build(dataset)
        elif isinstance(dataset, BaseDataset):
            self.dataset = dataset
        else:
            raise TypeError('elements in datasets sequence should be config '
                            'or `BaseDataset` instance, but got '
                            f'{type(dataset)}')
        self._metainfo = self.dataset.metainfo
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self):
        return copy.deepcopy(self._metainfo)

    def full_init(self):
        if self._fully_initialized:
            return
        self.dataset.full_init()
        self.index_mapping = list(range(len(self.dataset)))
        self._fully_initialized = True

    @force_full_init
    def _get_ori_dataset_idx(self, idx):
        return self.index_mapping[idx]

    @force_full_init
    def get_data_info(self, idx):
        return self.dataset.get_data_info(self._get_ori_dataset_idx(idx))

    def __getitem__(self, idx):
        if not self._fully_initialized:
            from mmengine.logging import print_log
            print_log(
                'Please call `full_init` method manually to '
                'accelerate the speed.',
                logger='current',
                level=logging.WARNING)
            self.full_init()
        return self.dataset[self._get_ori_dataset_idx(idx)]

    @force_full_init
    def __len__(self):
        return len(self.index_mapping)


def test_ex_ds_07_custom_wrapper(tmp_path, ds_a):
    wrapped = ExampleDatasetWrapper(ds_a)
    assert len(wrapped) == len(ds_a)
    assert wrapped.metainfo == ds_a.metainfo
    for i in range(len(ds_a)):
        assert wrapped[i] == ds_a[i]
        assert wrapped.get_data_info(i) == ds_a.get_data_info(i)
    lazy = ExampleDatasetWrapper(
        CatDataset(ann_file=make_ann(tmp_path, 'w', 2), lazy_init=True),
        lazy_init=True)
    assert not lazy._fully_initialized
    assert lazy[1]['idx'] == 1
    assert lazy._fully_initialized
    # The wrapper composes with the built-in ones (duck-typed datasets).
    assert len(ConcatDataset([wrapped, ds_a])) == 6


def test_wrapper_getitem_warns(tmp_path, ds_a):
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    records = []

    class Catch(logging.Handler):

        def emit(self, record):
            records.append(record.getMessage())

    handler = Catch(level=logging.WARNING)
    logger.addHandler(handler)
    try:
        rep = RepeatDataset(ds_a, 2, lazy_init=True)
        rep[0]
        plain = BaseDataset(ann_file=make_ann(tmp_path, 'p', 1),
                            lazy_init=True)
        plain[0]
    finally:
        logger.removeHandler(handler)
    assert sum('call `full_init' in r for r in records) == 2
