"""BaseDataset: the reference signature, the overridable ``prepare_data``
step and the errors for arguments of the wrong type."""
import inspect
import json

import numpy as np
import pytest

from mmengine.dataset import BaseDataset


@pytest.fixture
def ann_file(tmp_path):
    path = tmp_path / 'ann.json'
    path.write_text(
        json.dumps(
            dict(
                metainfo=dict(classes=['cat', 'dog']),
                data_list=[
                    dict(img_path=f'img_{i}.jpg', height=10 + i)
                    for i in range(5)
                ])))
    return str(path)


def test_reference_signature():
    params = inspect.signature(BaseDataset.__init__).parameters
    defaults = {
        name: p.default
        for name, p in params.items() if name != 'self'
    }
    assert list(defaults) == [
        'ann_file', 'metainfo', 'data_root', 'data_prefix', 'filter_cfg',
        'indices', 'serialize_data', 'pipeline', 'test_mode', 'lazy_init',
        'max_refetch'
    ]
    assert defaults == dict(
        ann_file='', metainfo=None, data_root='',
        data_prefix=dict(img_path=''), filter_cfg=None, indices=None,
        serialize_data=True, pipeline=[], test_mode=False, lazy_init=False,
        max_refetch=1000)
    assert BaseDataset.METAINFO == dict()


def test_prepare_data_is_the_override_point(ann_file):

    class PairDataset(BaseDataset):
        """Returns (info, next info): prepare_data decides what a sample is.
        """

        def prepare_data(self, idx):
            nxt = (idx + 1) % len(self)
            return self.pipeline(self.get_data_info(idx)), \
                self.get_data_info(nxt)

    ds = PairDataset(ann_file=ann_file)
    first, second = ds[4]
    assert first['height'] == 14 and second['height'] == 10


def test_bad_argument_types_name_the_type(tmp_path, ann_file):
    txt = tmp_path / 'ann.txt'
    txt.write_text('x')
    with pytest.raises(TypeError, match=r"annotation file .*ann.txt.*'txt'"):
        BaseDataset(ann_file=str(txt))
    ds = BaseDataset(ann_file=ann_file)
    with pytest.raises(TypeError, match='indices must be ints, but got '
                       'float'):
        ds.get_data_info(1.5)
    with pytest.raises(TypeError, match='but got str'):
        ds['0']
    assert ds.get_data_info(np.int64(2))['sample_idx'] == 2
    with pytest.raises(TypeError, match='max_refetch must be a non-negative '
                       'int, but got str'):
        BaseDataset(ann_file=ann_file, max_refetch='3')
    with pytest.raises(TypeError, match='filter_cfg must be a dict or None, '
                       'but got int'):
        BaseDataset(ann_file=ann_file, filter_cfg=3)
    with pytest.raises(TypeError, match='transform 0 must be a callable'):
        BaseDataset(ann_file=ann_file, pipeline=[1])

