"""Tests of Compose."""
import pytest
import torch

from mmengine.dataset import BaseDataset, Compose
from mmengine.registry import TRANSFORMS


@TRANSFORMS.register_module(force=True)
class _ComposeTestAdd:

    def __init__(self, value=1):
        self.value = value

    def __call__(self, results):
        results['x'] = results.get('x', 0) + self.value
        return results

    def __repr__(self):
        return f'Add(value={self.value})'


@TRANSFORMS.register_module(force=True)
class _ComposeTestNotCallable:
    pass


def test_compose_mixed_and_order():

    def double(results):
        results['x'] *= 2
        return results

    pipeline = Compose([dict(type='_ComposeTestAdd', value=3), double])
    assert pipeline(dict(x=1)) == dict(x=8)
    pipeline = Compose([double, dict(type='_ComposeTestAdd', value=3)])
    assert pipeline(dict(x=1)) == dict(x=5)
    assert repr(pipeline) == f'Compose(\n    {double}\n    Add(value=3)\n)'


def test_compose_identity_and_single():
    data = dict(x=1)
    assert Compose(None)(data) is data
    assert Compose([])(data) is data
    assert Compose(dict(type='_ComposeTestAdd'))(dict(x=1)) == dict(x=2)
    assert Compose(lambda r: r + 1)(1) == 2


def test_compose_none_stops():
    calls = []

    def drop(results):
        return None

    def record(results):
        calls.append(results)
        return results

    assert Compose([drop, record])(dict(x=1)) is None
    assert calls == []


def test_compose_non_dict_data():
    # torchvision-style transforms working on tensors
    pipeline = Compose([lambda t: t * 2, torch.flatten])
    assert torch.equal(pipeline(torch.ones(2, 2)), torch.full((4, ), 2.))


def test_compose_errors():
    with pytest.raises(TypeError, match='not callable'):
        Compose([dict(type='_ComposeTestNotCallable')])
    with pytest.raises(TypeError, match='callable object or a config'):
        Compose([1])
    with pytest.raises(TypeError, match='callable object or a config'):
        Compose('transform')
    with pytest.raises(KeyError):
        Compose([dict(type='_NoSuchTransform_')])


def test_dataset_pipeline_from_cfg(tmp_path):
    import json
    ann = tmp_path / 'ann.json'
    ann.write_text(json.dumps(dict(metainfo={}, data_list=[dict(x=1)])))
    ds = BaseDataset(
        ann_file=str(ann), pipeline=[dict(type='_ComposeTestAdd', value=5)])
    assert isinstance(ds.pipeline, Compose)
    assert ds[0]['x'] == 6
