import numpy as np
import pytest
import torch

from mmengine.structures import InstanceData


class TmpObject:
    """Custom field type of EX-STR-08: a list wrapper with ``__len__``,
    slice-preserving ``__getitem__`` and a static ``cat``."""

    def __init__(self, tmp):
        assert isinstance(tmp, list)
        self.tmp = tmp

    def __len__(self):
        return len(self.tmp)

    def __getitem__(self, item):
        if isinstance(item, int):
            if item >= len(self) or item < -len(self):
                raise IndexError(f'Index {item} out of range!')
            item = slice(item, None, len(self))
        return TmpObject(self.tmp[item])

    @staticmethod
    def cat(tmp_objs):
        assert all(isinstance(results, TmpObject) for results in tmp_objs)
        if len(tmp_objs) == 1:
            return tmp_objs[0]
        tmp_list = [tmp_obj.tmp for tmp_obj in tmp_objs]
        tmp_list = sum(tmp_list, [])
        return TmpObject(tmp_list)

    def __repr__(self):
        return str(self.tmp)


def make_instances():
    inst = InstanceData(metainfo=dict(img_shape=(100, 100), path='a.jpg'))
    inst.det_labels = torch.LongTensor([2, 3])
    inst.det_scores = torch.Tensor([0.8, 0.7])
    inst.bboxes = torch.rand((2, 4))
    return inst


# ---------------------------------------------------------------- EX-STR-07
def test_ex_str_07_length_check():
    inst = make_instances()
    assert len(inst) == 2
    with pytest.raises(AssertionError) as err:
        inst.bboxes = torch.rand((3, 4))
    assert str(err.value) == (
        'the length of values 3 is not consistent with the length of this '
        ':obj:`InstanceData` 2')
    assert inst.bboxes.shape == (2, 4)
    # metainfo values are unrestricted
    inst.set_metainfo(dict(anything=[1, 2, 3, 4, 5]))
    with pytest.raises(AssertionError, match='`__len__`'):
        inst.count = 3
    assert len(InstanceData()) == 0


def test_ex_str_07_dict_access():
    inst = make_instances()
    inst['det_labels'] = torch.LongTensor([5, 6])
    assert torch.equal(inst['det_labels'], torch.LongTensor([5, 6]))
    assert torch.equal(inst['det_scores'], inst.det_scores)
    with pytest.raises(TypeError, match='string keys'):
        inst[0] = 1


def test_ex_str_07_indexing():
    inst = InstanceData(metainfo=dict(img_shape=(100, 100)))
    inst.det_labels = torch.LongTensor([0, 1])
    inst.det_scores = torch.Tensor([0.8, 0.9])
    inst.bboxes = torch.rand((2, 4))

    one = inst[1]
    assert isinstance(one, InstanceData) and len(one) == 1
    assert one.det_labels.tolist() == [1]
    assert one.bboxes.shape == (1, 4)
    assert one.img_shape == (100, 100)
    assert inst[-1].det_labels.tolist() == [1]
    assert inst[-2].det_labels.tolist() == [0]
    with pytest.raises(IndexError):
        inst[2]
    with pytest.raises(IndexError):
        inst[-3]

    sliced = inst[0:1]
    assert len(sliced) == 1 and sliced.det_labels.tolist() == [0]

    sorted_inst = inst[inst.det_scores.sort(descending=True).indices]
    assert sorted_inst.det_labels.tolist() == [1, 0]

    high = inst[inst.det_scores > 0.85]
    assert high.det_labels.tolist() == [1]
    assert torch.equal(high.bboxes, inst.bboxes[1:2])

    empty = inst[inst.det_scores > 1]
    assert len(empty) == 0
    assert repr(empty.det_labels) == 'tensor([], dtype=torch.int64)'
    assert repr(empty.det_scores) == 'tensor([])'
    assert repr(empty.bboxes) == 'tensor([], size=(0, 4))'
    assert empty.img_shape == (100, 100)

    assert InstanceData.cat([inst, inst]).det_labels.tolist() == [0, 1, 0, 1]
    assert len(InstanceData.cat([inst, inst])) == 4


def test_index_type_errors():
    inst = make_instances()
    with pytest.raises(AssertionError, match='BoolTensor'):
        inst[torch.tensor([True, False, True])]
    with pytest.raises(TypeError, match='Unsupported type'):
        inst[1.5]
    with pytest.raises(TypeError, match='Unsupported type'):
        inst[{1: 2}]
    with pytest.raises(TypeError, match='long or bool'):
        inst[torch.tensor([0.5])]
    with pytest.raises(ValueError, match='1-D'):
        inst[torch.tensor([[0, 1]])]
    with pytest.raises(IndexError):
        inst[torch.tensor([0, 5])]
    with pytest.raises(IndexError):
        inst[[0, 2]]
    with pytest.raises(AttributeError):
        inst['missing']


def test_mixed_field_types_indexing():
    inst = InstanceData()
    inst.t = torch.arange(4)
    inst.a = np.arange(4) * 10
    inst.names = ['a', 'b', 'c', 'd']
    inst.chars = 'wxyz'
    inst.tup = (1, 2, 3, 4)
    inst.polys = TmpObject([[1], [2], [3], [4]])

    def check(result, positions):
        assert result.t.tolist() == positions
        assert result.a.tolist() == [p * 10 for p in positions]
        assert result.names == ['abcd'[p] for p in positions]
        assert result.chars == ''.join('wxyz'[p] for p in positions)
        assert result.tup == tuple(p + 1 for p in positions)
        assert isinstance(result.polys, TmpObject)
        assert result.polys.tmp == [[p + 1] for p in positions]

    mask = torch.tensor([True, False, True, True])
    check(inst[mask], [0, 2, 3])
    check(inst[[True, False, True, True]], [0, 2, 3])
    check(inst[np.array([3, 1])], [3, 1])
    check(inst[torch.tensor([3, -4])], [3, 0])
    check(inst[[2, 0]], [2, 0])
    check(inst[1:3], [1, 2])
    check(inst[-1], [3])
    check(inst[torch.zeros(4, dtype=torch.bool)], [])
    inst.nested = InstanceData(v=torch.arange(4) * 2, w=['p', 'q', 'r', 's'])
    picked = inst[torch.tensor([3, 0])]
    assert picked.nested.v.tolist() == [6, 0]
    assert picked.nested.w == ['s', 'p']
    assert len(picked.nested) == 2
    check(inst[[]], [])
    assert isinstance(inst[mask].a, np.ndarray)


def test_field_without_cat_can_not_be_tensor_indexed():

    class NoCat:

        def __len__(self):
            return 2

        def __getitem__(self, item):
            return self

    inst = InstanceData(x=NoCat())
    assert isinstance(inst[0:1].x, NoCat)
    with pytest.raises(TypeError, match='`x`'):
        inst[torch.tensor([0])]
    with pytest.raises(ValueError, match='`x`'):
        InstanceData.cat([inst, inst])


# ---------------------------------------------------------------- EX-STR-08
def test_ex_str_08_custom_type():
    inst = InstanceData(metainfo=dict(img_shape=(100, 100)))
    inst.polygons = TmpObject([[1, 2, 3, 4], [5, 6, 7, 8]])
    inst.det_scores = torch.Tensor([0.8, 0.7])

    filtered = inst[inst.det_scores > 0.75]
    assert repr(filtered.polygons) == '[[1, 2, 3, 4]]'
    assert filtered.det_scores.tolist() == pytest.approx([0.8])

    catted = InstanceData.cat([inst, inst])
    assert len(catted) == 4
    assert catted.polygons.tmp == [[1, 2, 3, 4], [5, 6, 7, 8],
                                   [1, 2, 3, 4], [5, 6, 7, 8]]


def test_cat():
    a = make_instances()
    a.names = ['x', 'y']
    a.arr = np.zeros((2, 3))
    b = make_instances()
    b.names = ['z', 'w']
    b.arr = np.ones((2, 3))
    b.set_metainfo(dict(img_shape=(1, 1)))
    c = InstanceData.cat([a, b])
    assert len(c) == 4
    assert c.names == ['x', 'y', 'z', 'w']
    assert c.arr.shape == (4, 3)
    assert c.img_shape == (100, 100)  # metainfo from the first element
    assert c.keys() == a.keys()
    assert InstanceData.cat([a]) is a

    b2 = make_instances()
    with pytest.raises(AssertionError, match='different keys'):
        InstanceData.cat([a, b2])
    with pytest.raises(AssertionError, match='must not be empty'):
        InstanceData.cat([])
    with pytest.raises(AssertionError, match='list of InstanceData'):
        InstanceData.cat([a, 1])


def test_tensor_ops_keep_type_and_length():
    inst = make_instances()
    moved = inst.to(torch.float64)
    assert type(moved) is InstanceData and len(moved) == 2
    assert moved.det_scores.dtype == torch.float64
    assert moved.det_labels.dtype == torch.float64
    assert isinstance(inst.numpy().bboxes, np.ndarray)
    assert len(inst.new(det_labels=torch.arange(5))) == 5
