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
    # The documented message, followed by the name of the field at fault.
    assert str(err.value) == (
        'the length of values 3 is not consistent with the length of this '
        ':obj:`InstanceData` 2 (setting field `bboxes`)')
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


# ------------------------------------------- every field kind x index kind
_N = 4


def _make_all_kinds():
    inst = InstanceData(metainfo=dict(img_id=3))
    inst.bboxes = torch.arange(_N * 4).float().view(_N, 4)
    inst.arr = np.arange(_N * 2).reshape(_N, 2)
    inst.lst = [f'a{i}' for i in range(_N)]
    inst.chars = 'abcd'
    inst.tup = tuple(range(10, 10 + _N))
    inst.obj = TmpObject([[i] for i in range(_N)])
    inst.nested = InstanceData(
        metainfo=dict(level=1), x=torch.arange(_N), y=list(range(_N)))
    return inst


_MASK = [True, False, True, True]


@pytest.mark.parametrize(
    'index,positions',
    [(0, [0]), (-1, [3]), (-4, [0]), (np.int64(2), [2]),
     (slice(1, 3), [1, 2]), (slice(0, None, 2), [0, 2]),
     (slice(None, None, -1), [3, 2, 1, 0]), (slice(2, 2), []),
     (torch.tensor([3, 0]), [3, 0]), (torch.tensor([-1, 0]), [3, 0]),
     (torch.tensor([1, 2], dtype=torch.int32), [1, 2]),
     (torch.tensor([], dtype=torch.long), []),
     (torch.tensor(_MASK), [0, 2, 3]),
     (torch.zeros(_N, dtype=torch.bool), []),
     ([2, 1], [2, 1]), ([-1], [3]), (_MASK, [0, 2, 3]), ([], []),
     (np.array(_MASK), [0, 2, 3]), (np.array([1, 3]), [1, 3]),
     (np.zeros(_N, dtype=bool), [])],
    ids=lambda v: repr(v)[:30])
def test_index_matrix(index, positions):
    full = _make_all_kinds()
    result = full[index]
    assert type(result) is InstanceData and len(result) == len(positions)
    assert result.metainfo == dict(img_id=3)
    # empty results keep the trailing shapes and dtypes
    assert result.bboxes.shape == (len(positions), 4)
    assert result.bboxes.tolist() == full.bboxes[positions].tolist()
    assert result.arr.shape == (len(positions), 2)
    assert result.arr.tolist() == full.arr[positions].tolist()
    assert type(result.lst) is list
    assert result.lst == [full.lst[p] for p in positions]
    assert result.chars == ''.join(full.chars[p] for p in positions)
    assert result.tup == tuple(full.tup[p] for p in positions)
    assert type(result.obj) is TmpObject
    assert result.obj.tmp == [[p] for p in positions]
    assert type(result.nested) is InstanceData
    assert result.nested.level == 1
    assert result.nested.x.tolist() == positions
    assert result.nested.y == positions
    # the source is left untouched
    assert len(full) == _N and full.lst == ['a0', 'a1', 'a2', 'a3']


@pytest.mark.parametrize(
    'index,error,match',
    [(4, IndexError, 'Index 4 out of range .* length 4'),
     (-5, IndexError, 'Index -5 out of range'),
     (torch.tensor([4]), IndexError, r'Index 4 out of range .*\(valid: -4'),
     (torch.tensor([-5]), IndexError, 'Index -5 out of range'),
     ([7], IndexError, 'Index 7 out of range'),
     (torch.tensor([True]), AssertionError, r'BoolTensor\) 1 .* 4'),
     (np.ones(5, dtype=bool), AssertionError, r'BoolTensor\) 5 .* 4'),
     ([True], AssertionError, 'one entry per instance'),
     ([True, 1], TypeError, 'only ints or only bools'),
     (['a'], TypeError, 'only ints or only bools'),
     ((0, 1), TypeError, 'tuple'),
     (True, TypeError, 'bool is not a valid index'),
     (None, TypeError, 'Unsupported type'),
     (np.array([0.5]), TypeError, 'integer or bool'),
     (torch.tensor([0.5]), TypeError, 'long or bool')],
    ids=lambda v: repr(v)[:30])
def test_index_errors_name_the_problem(index, error, match):
    with pytest.raises(error, match=match):
        _make_all_kinds()[index]


def test_length_errors_name_field_and_lengths():
    inst = make_instances()
    with pytest.raises(AssertionError, match=r'values 5 .* 2 \(setting '
                       r'field `names`\)'):
        inst.names = list('abcde')
    # an empty selection still fixes the length to 0
    empty = inst[inst.det_scores > 1]
    with pytest.raises(AssertionError, match=r'values 3 .* 0 \(setting '
                       r'field `extra`\)'):
        empty.extra = torch.zeros(3)
    empty.extra = torch.zeros((0, 7))
    assert empty.extra.shape == (0, 7)
    # values without a usable length are refused up front, with the name
    for bad in (torch.tensor(1.), np.array(1)):
        with pytest.raises(TypeError, match='value of `scalar` must have a '
                           'length'):
            InstanceData().scalar = bad
    # the low-level setters are checked too
    with pytest.raises(AssertionError, match='setting field `low`'):
        inst.set_field(torch.zeros(7), 'low')
    with pytest.raises(AssertionError, match='setting field `many`'):
        inst.set_data(dict(many=[1]))
    assert 'low' not in inst and 'many' not in inst
    # a metainfo name set as data gets the kind-conflict error, not a
    # length error
    with pytest.raises(AttributeError, match='metainfo'):
        inst.img_shape = (1, 2, 3)


def test_cat_errors_are_clear():
    a = InstanceData(bboxes=torch.rand(2, 4), labels=[1, 2])
    b = InstanceData(bboxes=torch.rand(3, 4), scores=torch.rand(3))
    with pytest.raises(AssertionError,
                       match=r"missing \['labels'\], extra \['scores'\]"):
        InstanceData.cat([a, b])
    # ``list + ndarray`` would add element-wise: refused, naming the field
    same_len = InstanceData(bboxes=torch.rand(2, 4), labels=np.array([1, 2]))
    with pytest.raises(TypeError, match='field `labels`.*numpy.ndarray'):
        InstanceData.cat([a, same_len])
    as_numpy = InstanceData(bboxes=np.zeros((2, 4)), labels=[3, 4])
    with pytest.raises(TypeError, match='field `bboxes`'):
        InstanceData.cat([a, as_numpy])
    with pytest.raises(AssertionError, match="element 1 is a <class 'str'>"):
        InstanceData.cat([a, 'x'])
    with pytest.raises(AssertionError, match='but got <class'):
        InstanceData.cat(a)
    # nested InstanceData and custom types are joined by their own ``cat``
    a.nested = InstanceData(v=torch.arange(2))
    a.obj = TmpObject([[1], [2]])
    joined = InstanceData.cat([a, a])
    assert joined.nested.v.tolist() == [0, 1, 0, 1]
    assert joined.obj.tmp == [[1], [2], [1], [2]]
    assert joined.labels == [1, 2, 1, 2]


def test_uint8_tensor_index_is_refused_not_misread():
    # torch reads a uint8 index as a mask; taking it as positions would
    # silently pick the wrong instances
    inst = _make_all_kinds()
    with pytest.raises(TypeError, match='uint8.*bool tensor'):
        inst[torch.tensor([1, 0, 1, 0], dtype=torch.uint8)]
    # numpy reads uint8 arrays as positions, and so does InstanceData
    assert inst[np.array([3, 1], dtype=np.uint8)].lst == ['a3', 'a1']
