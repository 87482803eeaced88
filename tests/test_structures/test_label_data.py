import pytest
import torch

from mmengine.structures import LabelData


# ---------------------------------------------------------------- EX-STR-10
def test_ex_str_10_label_data():
    num_classes = 10
    item = torch.tensor([1], dtype=torch.int64)
    onehot = LabelData.label_to_onehot(label=item, num_classes=num_classes)
    assert repr(onehot) == 'tensor([0, 1, 0, 0, 0, 0, 0, 0, 0, 0])'
    label = LabelData.onehot_to_label(onehot=onehot)
    assert repr(label) == 'tensor([1])'


def test_label_data_fields_unrestricted():
    gt_label = LabelData(metainfo=dict(num_classes=3))
    gt_label.item = torch.tensor([1, 2])
    gt_label.score = torch.rand(3)
    gt_label.name = 'cat'
    assert gt_label.keys() == ['item', 'score', 'name']


def test_label_to_onehot_multi_and_dtype():
    labels = torch.tensor([0, 3, 3], dtype=torch.int32)
    onehot = LabelData.label_to_onehot(labels, 5)
    assert onehot.tolist() == [1, 0, 0, 1, 0]
    assert onehot.dtype == torch.int32
    empty = LabelData.label_to_onehot(torch.tensor([], dtype=torch.long), 4)
    assert empty.tolist() == [0, 0, 0, 0]
    assert LabelData.label_to_onehot(torch.tensor(2), 3).tolist() == [0, 0, 1]
    assert LabelData.onehot_to_label(torch.tensor([1, 0, 1])).tolist() == [
        0, 2
    ]
    assert LabelData.onehot_to_label(torch.tensor([])).tolist() == []


def test_label_errors():
    with pytest.raises(AssertionError, match='torch.Tensor'):
        LabelData.label_to_onehot('item', 10)
    with pytest.raises(AssertionError, match='< num_classes'):
        LabelData.label_to_onehot(torch.tensor([10]), 10)
    with pytest.raises(AssertionError, match='>= 0'):
        LabelData.label_to_onehot(torch.tensor([-1]), 10)
    with pytest.raises(AssertionError, match='integer tensor'):
        LabelData.label_to_onehot(torch.tensor([1.0]), 10)
    with pytest.raises(AssertionError, match='positive int'):
        LabelData.label_to_onehot(torch.tensor([1]), 0)
    with pytest.raises(ValueError, match='not one-hot'):
        LabelData.onehot_to_label(torch.tensor([2]))
    with pytest.raises(ValueError, match='not one-hot'):
        LabelData.onehot_to_label(torch.tensor([0.5, 1.0]))
    with pytest.raises(ValueError, match='1-D'):
        LabelData.onehot_to_label(torch.zeros(2, 2))
    with pytest.raises(AssertionError, match='torch.Tensor'):
        LabelData.onehot_to_label([0, 1])


def test_onehot_to_label_rejects_values_other_than_zero_and_one():
    for bad in ([-1, 1], [1.5, 0.0], [0, 3]):
        with pytest.raises(ValueError, match='not one-hot'):
            LabelData.onehot_to_label(torch.tensor(bad))
    assert LabelData.onehot_to_label(torch.tensor([0., 1., 1.])).tolist() == [
        1, 2]
