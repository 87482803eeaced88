"""Tests of BaseDataset, force_full_init and the EX-DS-01..05/08 programs."""
import copy
import json
import os.path as osp
import pickle
from pathlib import Path

import numpy as np
import pytest

from mmengine.dataset import BaseDataset, Compose, force_full_init
from mmengine.dataset.base_dataset import Compose as BaseCompose


def write_ann(path, metainfo=None, data_list=None, raw=None):
    content = raw if raw is not None else dict(
        metainfo=metainfo or {}, data_list=data_list or [])
    if str(path).endswith(('.pkl', '.pickle')):
        with open(path, 'wb') as f:
            pickle.dump(content, f)
    else:
        with open(path, 'w') as f:
            json.dump(content, f)
    return str(path)


@pytest.fixture
def ann_file(tmp_path):
    data_list = [
        dict(img_path=f'img_{i}.jpg', img_label=i % 2, height=10 + i)
        for i in range(5)
    ]
    return write_ann(
        tmp_path / 'ann.json',
        metainfo=dict(classes=['cat', 'dog'], task_name='toy', extra=[]),
        data_list=data_list)


# --------------------------------------------------------------------------
# EX-DS-01: ToyDataset with data_root/data_prefix joining and a pipeline
# --------------------------------------------------------------------------
class LoadImage:
    """Fake image loader: reads a .npy 'image' (no cv2 in this project)."""

    def __call__(self, results):
        results['img'] = np.load(results['img_path'] + '.npy')
        return results


class ParseImage:

    def __call__(self, results):
        results['img_shape'] = results['img'].shape
        return results


class ToyDataset(BaseDataset):

    def parse_data_info(self, raw_data_info):
        data_info = raw_data_info
        img_prefix = self.data_prefix.get('img_path', None)
        if img_prefix is not None:
            data_info['img_path'] = osp.join(img_prefix,
                                             raw_data_info['img_path'])
        return data_info


def test_ex_ds_01_toy_dataset(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'data/annotations').mkdir(parents=True)
    (tmp_path / 'data/train/xxx').mkdir(parents=True)
    for i in range(2):
        np.save(tmp_path / f'data/train/xxx/xxx_{i}.jpg.npy',
                np.zeros((4 + i, 6, 3), dtype=np.uint8))
    write_ann(
        tmp_path / 'data/annotations/train.json',
        metainfo=dict(classes=['cat', 'dog']),
        data_list=[
            dict(img_path='xxx/xxx_0.jpg', img_label=0),
            dict(img_path='xxx/xxx_1.jpg', img_label=1)
        ])
    toy_dataset = ToyDataset(
        data_root='data/',
        data_prefix=dict(img_path='train/'),
        ann_file='annotations/train.json',
        pipeline=[LoadImage(), ParseImage()])
    assert list(toy_dataset.metainfo['classes']) == ['cat', 'dog']
    assert toy_dataset.get_data_info(0)['img_path'] == \
        'data/train/xxx/xxx_0.jpg'
    assert len(toy_dataset) == 2
    sample = toy_dataset[0]
    assert sample['img'].shape == (4, 6, 3)
    assert sample['img_shape'] == (4, 6, 3)
    assert toy_dataset[1]['img_shape'] == (5, 6, 3)
    sub = toy_dataset.get_subset(1)
    assert len(toy_dataset) == 2 and len(sub) == 1
    toy_dataset.get_subset_(1)
    assert len(toy_dataset) == 1


# --------------------------------------------------------------------------
# EX-DS-02: metainfo priority
# --------------------------------------------------------------------------
def test_ex_ds_02_metainfo_priority(tmp_path):
    ann = write_ann(
        tmp_path / 'ann.json',
        metainfo=dict(classes=['f1', 'f2'], palette='file', only_file=1),
        data_list=[dict(img_path='a.jpg')])

    class PriorityDataset(BaseDataset):
        METAINFO = dict(classes=('a', 'b'), palette=[(1, 2, 3), (4, 5, 6)])

    ds = PriorityDataset(ann_file=ann, metainfo=dict(classes=('x', 'y')))
    meta = ds.metainfo
    assert meta['classes'] == ('x', 'y')  # constructor wins
    assert meta['palette'] == [(1, 2, 3), (4, 5, 6)]  # class beats file
    assert meta['only_file'] == 1  # file fills the rest
    # The class attribute is never modified.
    assert PriorityDataset.METAINFO['classes'] == ('a', 'b')
    # metainfo is a deep copy.
    meta['palette'].append(0)
    assert len(ds.metainfo['palette']) == 2


def test_metainfo_from_class_file_and_errors(tmp_path, ann_file):
    classes_file = tmp_path / 'classes.txt'
    classes_file.write_text('cat\ndog\n')
    ds = BaseDataset(ann_file=ann_file, metainfo=dict(classes=str(
        classes_file)))
    assert ds.metainfo['classes'] == ['cat', 'dog']
    # A string that is not a file stays a string.
    ds = BaseDataset(ann_file=ann_file, metainfo=dict(classes='cat'))
    assert ds.metainfo['classes'] == 'cat'
    with pytest.raises(TypeError, match='metainfo should be a Mapping'):
        BaseDataset(ann_file=ann_file, metainfo='dog')


def test_metainfo_accepts_config(ann_file):
    from mmengine.config import Config, ConfigDict
    for meta in (Config(dict(classes=('dog', ))),
                 ConfigDict(classes=('dog', ))):
        ds = BaseDataset(ann_file=ann_file, metainfo=meta)
        assert tuple(ds.metainfo['classes']) == ('dog', )
        assert ds.metainfo['task_name'] == 'toy'


# --------------------------------------------------------------------------
# EX-DS-03: parse_data_info returning a list expands an item
# --------------------------------------------------------------------------
def test_ex_ds_03_video_dataset(tmp_path):
    ann = write_ann(
        tmp_path / 'video.json',
        metainfo=dict(classes=['run']),
        data_list=[
            dict(video='v0', frames=3),
            dict(video='v1', frames=2)
        ])

    class ToyVideoDataset(BaseDataset):

        def parse_data_info(self, raw_data_info):
            return [
                dict(video=raw_data_info['video'], frame=i)
                for i in range(raw_data_info['frames'])
            ]

    ds = ToyVideoDataset(ann_file=ann)
    assert len(ds) == 5
    assert [ds.get_data_info(i)['frame'] for i in range(5)] == \
        [0, 1, 2, 0, 1]
    assert ds.get_data_info(3)['video'] == 'v1'


# --------------------------------------------------------------------------
# EX-DS-04: lazy init
# --------------------------------------------------------------------------
def test_ex_ds_04_lazy_init(tmp_path, monkeypatch):
    ann = write_ann(
        tmp_path / 'ann.json',
        metainfo=dict(task_name='lazy'),
        data_list=[dict(img_path='a.jpg'),
                   dict(img_path='b.jpg')])

    class MetaDataset(BaseDataset):
        METAINFO = dict(classes=('a', 'b'))

    calls = []
    orig = MetaDataset.load_data_list

    def counting_load(self):
        calls.append(1)
        return orig(self)

    monkeypatch.setattr(MetaDataset, 'load_data_list', counting_load)

    ds = MetaDataset(ann_file=ann, lazy_init=True)
    assert not ds._fully_initialized and calls == []
    assert ds.metainfo == dict(classes=('a', 'b'))
    # The file is not read at construction: deleting it is harmless.
    ds2 = MetaDataset(ann_file=ann, lazy_init=True)
    import os
    os.rename(ann, ann + '.bak')
    assert ds2.metainfo['classes'] == ('a', 'b')
    with pytest.raises(FileNotFoundError):
        ds2.full_init()
    os.rename(ann + '.bak', ann)

    assert len(ds) == 2  # triggers full_init
    assert ds._fully_initialized and calls == [1, 1]
    ds.full_init()
    assert len(ds) == 2 and calls == [1, 1]  # only once
    assert ds.metainfo['task_name'] == 'lazy'


@pytest.mark.parametrize('trigger', ['get_data_info', 'getitem', 'subset',
                                     'subset_'])
def test_lazy_init_triggers(ann_file, trigger):
    ds = BaseDataset(ann_file=ann_file, lazy_init=True)
    assert not ds.data_list
    if trigger == 'get_data_info':
        assert ds.get_data_info(1)['height'] == 11
    elif trigger == 'getitem':
        assert ds[1]['height'] == 11
    elif trigger == 'subset':
        assert len(ds.get_subset(2)) == 2
    else:
        ds.get_subset_(2)
        assert len(ds) == 2
    assert ds._fully_initialized


# --------------------------------------------------------------------------
# EX-DS-05: serialize_data
# --------------------------------------------------------------------------
def test_ex_ds_05_serialize(ann_file):
    ser = BaseDataset(ann_file=ann_file)
    plain = BaseDataset(ann_file=ann_file, serialize_data=False)
    assert len(ser) == len(plain) == 5
    for i in range(5):
        assert ser[i] == plain[i]
        assert ser.get_data_info(-i - 1) == plain.get_data_info(-i - 1)
    # The default keeps one byte buffer and offsets, not a list.
    assert isinstance(ser.data_bytes, np.ndarray)
    assert ser.data_bytes.dtype == np.uint8
    assert ser.data_address.dtype == np.int64
    assert len(ser.data_address) == 5
    assert ser.data_list == []
    assert isinstance(plain.data_list, list) and len(plain.data_list) == 5
    assert not hasattr(plain, 'data_address')


def test_get_data_info_is_a_copy(ann_file):
    for serialize in (True, False):
        ds = BaseDataset(ann_file=ann_file, serialize_data=serialize)
        info = ds.get_data_info(0)
        info['height'] = -1
        assert ds.get_data_info(0)['height'] == 10
        assert ds.get_data_info(-1)['sample_idx'] == 4
        with pytest.raises(IndexError):
            ds.get_data_info(5)


# --------------------------------------------------------------------------
# EX-DS-08: non-conforming annotations (GAN's MNISTDataset)
# --------------------------------------------------------------------------
def test_ex_ds_08_override_load_data_list():

    class FakeMNIST:
        """Stands in for a torchvision dataset stored before super()."""

        def __len__(self):
            return 4

        def __getitem__(self, idx):
            if idx >= len(self):
                raise IndexError(idx)
            return np.full((2, 2), idx), idx % 10

    class MNISTDataset(BaseDataset):

        def __init__(self, data_root, pipeline, test_mode=False):
            self.mnist = FakeMNIST()
            super().__init__(
                data_root=data_root, pipeline=pipeline, test_mode=test_mode)

        @staticmethod
        def totensor(img):
            return img.astype(np.float32) / 255

        def load_data_list(self):
            return [
                dict(inputs=self.totensor(img), label=label)
                for img, label in self.mnist
            ]

    ds = MNISTDataset(data_root='unused', pipeline=[])
    assert ds.ann_file == ''
    assert len(ds) == 4
    assert ds[2]['label'] == 2
    assert ds[2]['inputs'].dtype == np.float32


# --------------------------------------------------------------------------
# Init flow and errors
# --------------------------------------------------------------------------
def test_join_paths(tmp_path, ann_file):
    ds = BaseDataset(
        ann_file='ann.json',
        data_root=str(tmp_path),
        data_prefix=dict(img_path='imgs'))
    assert ds.ann_file == osp.join(str(tmp_path), 'ann.json')
    assert ds.data_prefix['img_path'] == osp.join(str(tmp_path), 'imgs')
    assert ds.get_data_info(0)['img_path'] == osp.join(
        str(tmp_path), 'imgs', 'img_0.jpg')
    # Absolute ann_file and prefixes are kept.
    ds = BaseDataset(
        ann_file=ann_file, data_root='/other', data_prefix=dict(img_path='/x'))
    assert ds.ann_file == ann_file
    assert ds.data_prefix['img_path'] == '/x'
    # URIs are absolute and joined with '/' (by mmengine.fileio.join_path).
    ds = BaseDataset(
        ann_file='ann.json',
        data_root='http://host/data',
        data_prefix=dict(img_path='train'),
        lazy_init=True)
    assert ds.data_prefix['img_path'] == 'http://host/data/train'
    assert ds.ann_file == 'http://host/data/ann.json'
    ds = BaseDataset(
        data_root='data', data_prefix=dict(img_path='http://b/i'),
        lazy_init=True)
    assert ds.data_prefix['img_path'] == 'http://b/i'


def test_none_ann_file_and_data_root(tmp_path, ann_file):
    ds = BaseDataset(ann_file=None, data_root=None, lazy_init=True)
    assert ds.ann_file == '' and ds.data_root == ''
    # pathlib paths work too
    ds = BaseDataset(ann_file=Path('ann.json'), data_root=tmp_path)
    assert ds.ann_file == osp.join(str(tmp_path), 'ann.json')
    assert len(ds) == 5
    with pytest.raises(TypeError, match='ann_file must be a str'):
        BaseDataset(ann_file=1)
    with pytest.raises(TypeError, match='data_root must be a str'):
        BaseDataset(ann_file=ann_file, data_root=1)


def test_empty_ann_file_error():
    with pytest.raises(TypeError, match='ann_file is empty'):
        BaseDataset(data_root='data')


def test_missing_ann_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        BaseDataset(ann_file=str(tmp_path / 'nope.json'))


def test_malformed_annotation_names_file_and_key(tmp_path):
    ann = write_ann(
        tmp_path / 'wrong_keys.json', raw=dict(meta={}, data_list=[]))
    with pytest.raises(ValueError) as err:
        BaseDataset(ann_file=ann)
    assert 'wrong_keys.json' in str(err.value)
    assert "'metainfo'" in str(err.value)

    ann = write_ann(tmp_path / 'no_list.json', raw=dict(metainfo={}))
    with pytest.raises(ValueError, match=r"no_list.json.*'data_list'"):
        BaseDataset(ann_file=ann)

    ann = write_ann(tmp_path / 'list.json', raw=[dict(img_path='a')])
    with pytest.raises(TypeError, match=r'list.json.*contains a list'):
        BaseDataset(ann_file=ann)

    ann = write_ann(
        tmp_path / 'bad_list.json', raw=dict(metainfo={}, data_list={}))
    with pytest.raises(TypeError, match=r"'data_list'.*bad_list.json"):
        BaseDataset(ann_file=ann)

    ann = write_ann(
        tmp_path / 'bad_meta.json', raw=dict(metainfo=[], data_list=[]))
    with pytest.raises(TypeError, match=r"'metainfo'.*bad_meta.json"):
        BaseDataset(ann_file=ann)

    ann = write_ann(
        tmp_path / 'bad_item.json', raw=dict(metainfo={}, data_list=[1]))
    with pytest.raises(TypeError, match=r'bad_item.json.*int'):
        BaseDataset(ann_file=ann)


def test_pickle_and_yaml_annotation(tmp_path):
    ann = write_ann(
        tmp_path / 'ann.pkl',
        metainfo=dict(classes=('a', )),
        data_list=[dict(img_path='x.jpg', arr=[1, 2])])
    ds = BaseDataset(ann_file=ann)
    assert ds.get_data_info(0)['arr'] == [1, 2]
    assert ds.metainfo['classes'] == ('a', )
    yaml_file = tmp_path / 'ann.yaml'
    yaml_file.write_text('metainfo:\n  classes: [a, b]\n'
                         'data_list:\n  - img_path: y.jpg\n    label: 1\n')
    ds = BaseDataset(ann_file=str(yaml_file))
    assert ds.metainfo['classes'] == ['a', 'b']
    assert ds.get_data_info(0) == dict(img_path='y.jpg', label=1,
                                       sample_idx=0)


def test_data_prefix_errors(tmp_path, ann_file):
    with pytest.raises(TypeError, match=r"data_prefix\['img_path'\]"):
        BaseDataset(ann_file=ann_file, data_prefix=dict(img_path=['img']))
    with pytest.raises(TypeError, match='data_prefix must be a dict'):
        BaseDataset(ann_file=ann_file, data_prefix='img')
    # A non-empty prefix for a field the items lack names the field.
    with pytest.raises(KeyError, match="'seg_path'"):
        BaseDataset(ann_file=ann_file, data_prefix=dict(seg_path='seg'))
    # An empty prefix for a missing field is simply skipped.
    ds = BaseDataset(ann_file=ann_file, data_prefix=dict(seg_path=''))
    assert 'seg_path' not in ds.get_data_info(0)


def test_parse_data_info_bad_return(ann_file):

    class BadDataset(BaseDataset):

        def parse_data_info(self, raw):
            return 'xxx'

    with pytest.raises(TypeError, match='dict or a list of dicts'):
        BadDataset(ann_file=ann_file)

    class BadListDataset(BaseDataset):

        def parse_data_info(self, raw):
            return [raw, 'xxx']

    with pytest.raises(TypeError, match='list containing a str'):
        BadListDataset(ann_file=ann_file)


def test_filter_data_and_indices(ann_file):

    class FilterDataset(BaseDataset):

        def filter_data(self):
            min_h = self.filter_cfg.get('min_height', 0)
            return [d for d in self.data_list if d['height'] >= min_h]

    ds = FilterDataset(ann_file=ann_file, filter_cfg=dict(min_height=12))
    assert [ds.get_data_info(i)['height'] for i in range(len(ds))] == \
        [12, 13, 14]
    # indices are applied after filtering
    ds = FilterDataset(
        ann_file=ann_file, filter_cfg=dict(min_height=12), indices=[-1, 0])
    assert [ds.get_data_info(i)['height'] for i in range(len(ds))] == \
        [14, 12]
    ds = BaseDataset(ann_file=ann_file, indices=3)
    assert len(ds) == 3


# --------------------------------------------------------------------------
# Subsets
# --------------------------------------------------------------------------
@pytest.mark.parametrize('serialize', [True, False])
@pytest.mark.parametrize('lazy', [True, False])
def test_subsets(ann_file, serialize, lazy):
    ds = BaseDataset(ann_file=ann_file, serialize_data=serialize,
                     lazy_init=lazy)

    def heights(d):
        return [d.get_data_info(i)['height'] for i in range(len(d))]

    assert heights(ds.get_subset(2)) == [10, 11]
    assert heights(ds.get_subset(-2)) == [13, 14]
    assert heights(ds.get_subset(0)) == []
    assert heights(ds.get_subset(100)) == [10, 11, 12, 13, 14]
    assert heights(ds.get_subset([])) == []
    assert heights(ds.get_subset([3, -1, 0, 3])) == [13, 14, 10, 13]
    assert heights(ds.get_subset(np.array([1, 2]))) == [11, 12]
    assert len(ds) == 5  # get_subset leaves the original alone
    sub = ds.get_subset([4, 0])
    assert sub.get_data_info(1)['sample_idx'] == 1
    assert type(sub) is type(ds) and sub.metainfo == ds.metainfo
    # and the subset is independent of the original
    sub.get_subset_(1)
    assert len(sub) == 1 and len(ds) == 5

    with pytest.raises(TypeError, match='int or a sequence of ints'):
        ds.get_subset(dict())
    with pytest.raises(TypeError, match='only ints'):
        ds.get_subset([1.5])
    with pytest.raises(IndexError, match='index 5 is out of range'):
        ds.get_subset([5])

    copied = copy.deepcopy(ds)
    copied.get_subset_([-1, 1])
    assert heights(copied) == [14, 11]
    copied.get_subset_(-1)
    assert heights(copied) == [11]
    copied.get_subset_([])
    assert len(copied) == 0
    assert len(ds) == 5


def test_serialized_subset_does_not_unpickle(ann_file, monkeypatch):
    ds = BaseDataset(ann_file=ann_file)

    def fail(*args, **kwargs):
        raise AssertionError('subset must not unpickle samples')

    monkeypatch.setattr(pickle, 'loads', fail)
    sub = ds.get_subset([2, 0])
    monkeypatch.undo()
    assert sub.get_data_info(0)['height'] == 12
    assert sub.data_bytes.nbytes < ds.data_bytes.nbytes


# --------------------------------------------------------------------------
# __getitem__, test_mode, max_refetch
# --------------------------------------------------------------------------
def test_getitem_refetch(ann_file):
    bad = {1}

    def drop_bad(info):
        return None if info['sample_idx'] in bad else info

    ds = BaseDataset(ann_file=ann_file, pipeline=[drop_bad])
    np.random.seed(0)
    result = ds[1]
    assert result['sample_idx'] != 1

    ds.test_mode = True
    with pytest.raises(RuntimeError, match='test_mode'):
        ds[1]
    assert ds[0]['sample_idx'] == 0

    bad = set(range(5))
    ds = BaseDataset(ann_file=ann_file, pipeline=[drop_bad], max_refetch=3)
    with pytest.raises(RuntimeError, match='after 3 refetches'):
        ds[0]


def test_rand_another(ann_file):
    ds = BaseDataset(ann_file=ann_file, indices=2)
    assert all(0 <= ds._rand_another() < 2 for _ in range(20))


def test_get_cat_ids_not_implemented(ann_file):
    ds = BaseDataset(ann_file=ann_file)
    with pytest.raises(NotImplementedError, match='get_cat_ids'):
        ds.get_cat_ids(0)


def test_compose_reexported():
    assert Compose is BaseCompose


# --------------------------------------------------------------------------
# force_full_init
# --------------------------------------------------------------------------
def test_force_full_init():

    class NoFullInit:

        @force_full_init
        def foo(self):
            return 1

    with pytest.raises(AttributeError, match='full_init'):
        NoFullInit().foo()

    class NoFlag:

        def full_init(self):
            pass

        @force_full_init
        def foo(self):
            return 1

    with pytest.raises(AttributeError, match='_fully_initialized'):
        NoFlag().foo()

    class Lazy:

        def __init__(self):
            self._fully_initialized = False
            self.calls = 0

        def full_init(self):
            self.calls += 1

        @force_full_init
        def foo(self):
            return 'foo'

    obj = Lazy()
    assert obj.foo() == 'foo' and obj.foo() == 'foo'
    assert obj.calls == 1 and obj._fully_initialized
    assert Lazy.foo.__name__ == 'foo'
