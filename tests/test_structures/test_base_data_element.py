import copy
import pickle
import re

import numpy as np
import pytest
import torch

from mmengine.structures import BaseDataElement, InstanceData, PixelData


class DetDataSample(BaseDataElement):
    """Typed data sample as downstream libraries write them (EX-STR-11)."""

    def _typed(name, dtype):  # noqa: N805 - helper used at class creation

        def getter(self):
            return getattr(self, '_' + name)

        def setter(self, value):
            self.set_field(value, '_' + name, dtype=dtype)

        def deleter(self):
            delattr(self, '_' + name)

        return property(getter, setter, deleter)

    proposals = _typed('proposals', InstanceData)
    gt_instances = _typed('gt_instances', InstanceData)
    pred_instances = _typed('pred_instances', InstanceData)
    gt_panoptic_seg = _typed('gt_panoptic_seg', PixelData)
    pred_panoptic_seg = _typed('pred_panoptic_seg', PixelData)
    gt_sem_seg = _typed('gt_sem_seg', PixelData)
    pred_sem_seg = _typed('pred_sem_seg', PixelData)
    del _typed


# ---------------------------------------------------------------- EX-STR-01
def test_ex_str_01_creation():
    data_element = BaseDataElement()
    assert data_element.keys() == [] and data_element.metainfo_keys() == []

    bboxes = torch.rand((5, 4))
    scores = torch.rand((5, ))
    data_element = BaseDataElement(bboxes=bboxes, scores=scores)
    assert data_element.keys() == ['bboxes', 'scores']
    assert data_element.bboxes is bboxes and data_element.scores is scores

    data_element = BaseDataElement(
        metainfo=dict(img_id=0, img_shape=(800, 1333)))
    assert data_element.metainfo_keys() == ['img_id', 'img_shape']
    assert data_element.img_id == 0
    assert data_element.img_shape == (800, 1333)
    assert data_element.metainfo == dict(img_id=0, img_shape=(800, 1333))


def test_metainfo_must_be_keyword_and_dict():
    with pytest.raises(TypeError):
        BaseDataElement(dict(img_id=0))  # positional is not allowed
    with pytest.raises(AssertionError, match='metainfo should be a ``dict``'):
        BaseDataElement(metainfo=[1, 2])


def test_metainfo_is_copied():
    meta = dict(img_shape=[1, 2])
    element = BaseDataElement(metainfo=meta)
    meta['img_shape'].append(3)
    assert element.img_shape == [1, 2]


# ---------------------------------------------------------------- EX-STR-02
def test_ex_str_02_new_and_clone():
    data_element = BaseDataElement(
        bboxes=torch.rand((5, 4)),
        scores=torch.rand((5, )),
        metainfo=dict(img_id=1, img_shape=(640, 640)))

    data_element1 = data_element.new(metainfo=dict(img_id=2))
    out = [f"bboxes is in data_element1: {'bboxes' in data_element1}"]
    out.append('bboxes in data_element1 is same as bbox in data_element ' +
               str((data_element1.bboxes == data_element.bboxes).all()))
    out.append(f'img_id in data_element1 is {data_element1.img_id == 2}')

    data_element2 = data_element.new(label=torch.rand(5, ))
    out.append('bboxes is not in data_element2 '
               f"{'bboxes' not in data_element2}")
    out.append('img_id in data_element2 is same as img_id in data_element '
               f'{data_element2.img_id == data_element.img_id}')
    out.append(f"label in data_element2 is {'label' in data_element2}")
    assert out == [
        'bboxes is in data_element1: True',
        'bboxes in data_element1 is same as bbox in data_element '
        'tensor(True)',
        'img_id in data_element1 is True',
        'bboxes is not in data_element2 True',
        'img_id in data_element2 is same as img_id in data_element True',
        'label in data_element2 is True',
    ]
    # new() shares values, and replaces metainfo wholesale when given
    assert data_element1.bboxes is data_element.bboxes
    assert data_element1.metainfo_keys() == ['img_id']
    assert data_element.img_id == 1

    cloned = data_element.clone()
    assert type(cloned) is BaseDataElement
    assert cloned.bboxes is not data_element.bboxes
    assert torch.equal(cloned.bboxes, data_element.bboxes)
    cloned.bboxes[0, 0] = 100.
    assert data_element.bboxes[0, 0] != 100.
    assert cloned.metainfo == data_element.metainfo


def test_clone_non_leaf_tensor_and_subclass():
    x = torch.rand(3, requires_grad=True)
    element = DetDataSample()
    element.proposals = InstanceData(scores=x * 2)
    cloned = element.clone()
    assert type(cloned) is DetDataSample
    assert isinstance(cloned.proposals, InstanceData)
    assert torch.equal(cloned.proposals.scores, element.proposals.scores)
    assert cloned.proposals is not element.proposals


# ---------------------------------------------------------------- EX-STR-03
def test_ex_str_03_query():
    data_element = BaseDataElement()
    data_element.set_metainfo(dict(img_id=9, img_shape=(100, 100)))
    assert data_element.metainfo_keys() == ['img_id', 'img_shape']
    assert data_element.metainfo_values() == [9, (100, 100)]
    assert data_element.img_shape == (100, 100)

    data_element.scores = torch.tensor([0.1, 0.2, 0.3])
    data_element.bboxes = torch.rand((3, 4))
    assert data_element.keys() == ['scores', 'bboxes']
    assert torch.equal(data_element.values()[0], data_element.scores)
    assert data_element.get('img_shape') == (100, 100)
    assert data_element.get('fake', 'not exist') == 'not exist'
    assert data_element.get('fake') is None
    # only fields count, not methods or properties of the class
    assert data_element.get('keys', 'not a field') == 'not a field'
    assert data_element.get('metainfo') is None
    assert data_element.all_keys() == [
        'img_id', 'img_shape', 'scores', 'bboxes'
    ]
    assert len(data_element.all_values()) == 4
    assert [k for k, _ in data_element.all_items()] == data_element.all_keys()
    assert dict(data_element.metainfo_items()) == dict(
        img_id=9, img_shape=(100, 100))
    assert [k for k, _ in data_element.items()] == ['scores', 'bboxes']
    assert 'scores' in data_element and 'img_id' in data_element
    assert 'fake' not in data_element


def test_item_syntax_is_not_supported():
    element = BaseDataElement(a=1)
    with pytest.raises(TypeError):
        element['a']
    with pytest.raises(TypeError):
        element['a'] = 2


def test_field_kind_conflicts():
    element = BaseDataElement(metainfo=dict(img_id=1), bboxes=1)
    with pytest.raises(AttributeError, match='already a metainfo field'):
        element.img_id = 2
    with pytest.raises(AttributeError, match='already a metainfo field'):
        element.set_data(dict(img_id=3))
    with pytest.raises(AttributeError, match='already a data field'):
        element.set_metainfo(dict(new_key=5, bboxes=2))
    assert element.img_id == 1 and element.bboxes == 1
    assert 'new_key' not in element  # nothing applied on conflict
    with pytest.raises(AssertionError, match='data should be a `dict`'):
        element.set_data([1])
    with pytest.raises(AssertionError, match="field_type should be"):
        element.set_field(1, 'x', field_type='meta')


def test_private_fields_are_immutable():
    element = BaseDataElement()
    for name in ('_metainfo_fields', '_data_fields'):
        with pytest.raises(AttributeError, match='private attribute'):
            setattr(element, name, set())
        with pytest.raises(AttributeError, match='private attribute'):
            delattr(element, name)
    # fields are visible in __dict__ (IDEs, debuggers)
    element.bboxes = 1
    assert element.__dict__['bboxes'] == 1


def test_set_field_dtype_check_message():
    element = BaseDataElement()
    with pytest.raises(AssertionError) as err:
        element.set_field(3, 'x', dtype=str)
    assert str(err.value) == "3 should be a <class 'str'> but got " \
                             "<class 'int'>"
    assert 'x' not in element
    element.set_field('a', 'x', dtype=str)
    element.set_field(5, 'y', field_type='metainfo')
    assert element.keys() == ['x'] and element.metainfo_keys() == ['y']


def test_update():
    element = BaseDataElement(metainfo=dict(a=1), x=1)
    other = BaseDataElement(metainfo=dict(a=2, b=3), y=2)
    element.update(other)
    assert element.metainfo == dict(a=2, b=3)
    assert element.keys() == ['x', 'y']
    with pytest.raises(AssertionError, match='BaseDataElement'):
        element.update(dict(a=1))


# ---------------------------------------------------------------- EX-STR-04
def test_ex_str_04_delete_and_pop():
    data_element = BaseDataElement(
        bboxes=torch.rand((6, 4)),
        scores=torch.rand((6, )),
        metainfo=dict(img_id=0, img_shape=(640, 640)))
    data_element.bboxes = data_element.bboxes * 2
    del data_element.bboxes
    assert data_element.pop('scores', None) is not None
    assert data_element.keys() == []

    data_element.set_metainfo(dict(img_shape=(1280, 1280), img_id=10))
    assert data_element.img_shape == (1280, 1280)
    del data_element.img_shape
    assert data_element.pop('img_id') == 10
    assert data_element.metainfo_keys() == []

    assert data_element.pop('missing', 'default') == 'default'
    with pytest.raises(KeyError, match='missing'):
        data_element.pop('missing')
    with pytest.raises(AttributeError):
        del data_element.missing


# ---------------------------------------------------------------- EX-STR-05
def test_ex_str_05_tensor_ops():
    grad_src = torch.rand((5, 4), requires_grad=True)
    data_element = BaseDataElement(
        bboxes=grad_src * 1,
        scores=torch.rand((5, )),
        name='not a tensor',
        nested=BaseDataElement(x=torch.ones(2)),
        metainfo=dict(img_id=0))

    half = data_element.to(dtype=torch.float16)
    assert half.bboxes.dtype == torch.float16
    assert half.nested.x.dtype == torch.float16
    assert half.name == 'not a tensor' and half.img_id == 0
    assert data_element.bboxes.dtype == torch.float32  # original untouched

    cpu = data_element.cpu()
    assert cpu.bboxes.device == torch.device('cpu')

    detached = data_element.detach()
    assert detached.bboxes.requires_grad is False
    assert data_element.bboxes.requires_grad is True

    np_element = data_element.numpy()
    assert isinstance(np_element.bboxes, np.ndarray)
    assert isinstance(np_element.nested.x, np.ndarray)
    assert np_element.name == 'not a tensor'
    assert np_element.metainfo == dict(img_id=0)

    back = np_element.to_tensor()
    assert isinstance(back.scores, torch.Tensor)
    assert isinstance(back.nested.x, torch.Tensor)
    assert torch.allclose(back.scores, data_element.scores)

    if torch.cuda.is_available():
        gpu = data_element.cuda()
        assert gpu.bboxes.device == torch.device('cuda:0')
        assert gpu.nested.x.device == torch.device('cuda:0')
        assert gpu.to('cpu').bboxes.device == torch.device('cpu')
        assert data_element.to('cuda:0').scores.device == torch.device(
            'cuda:0')


# ---------------------------------------------------------------- EX-STR-06
def test_ex_str_06_repr():
    img_meta = dict(img_shape=(800, 1196, 3), pad_shape=(800, 1216, 3))
    instance_data = BaseDataElement(metainfo=img_meta)
    instance_data.det_labels = torch.LongTensor([0, 1, 2, 3])
    instance_data.det_scores = torch.Tensor([0.01, 0.1, 0.2, 0.3])
    assert repr(instance_data) == (
        '<BaseDataElement(\n\n'
        '    META INFORMATION\n'
        '    img_shape: (800, 1196, 3)\n'
        '    pad_shape: (800, 1216, 3)\n\n'
        '    DATA FIELDS\n'
        '    det_labels: tensor([0, 1, 2, 3])\n'
        '    det_scores: tensor([0.0100, 0.1000, 0.2000, 0.3000])\n'
        f') at {hex(id(instance_data))}>')


def test_repr_empty_and_multiline_tensor():
    element = BaseDataElement()
    assert repr(element) == ('<BaseDataElement(\n\n    META INFORMATION\n\n'
                             f'    DATA FIELDS\n) at {hex(id(element))}>')
    element.m = torch.zeros(2, 2)
    text = repr(element)
    # continuation lines of a multi-line value are indented under the field
    assert '    m: tensor([[0., 0.],\n                [0., 0.]])' in text


# ---------------------------------------------------------------- EX-STR-11
def test_ex_str_11_typed_data_sample():
    data_sample = DetDataSample(metainfo=dict(img_id=3))
    proposals = InstanceData(
        metainfo=dict(img_shape=(3, 4)),
        bboxes=torch.rand((5, 4)),
        scores=torch.rand((5, )))
    data_sample.proposals = proposals
    assert 'proposals' in data_sample
    assert data_sample.proposals is proposals
    assert data_sample.keys() == ['proposals']
    assert '_proposals' not in data_sample.to_dict()
    assert isinstance(data_sample.to_dict()['proposals'], dict)

    text = repr(data_sample)
    assert re.fullmatch(
        r'<DetDataSample\(\n\n    META INFORMATION\n    img_id: 3\n\n'
        r'    DATA FIELDS\n    proposals: <InstanceData\(\n        \n'
        r'            META INFORMATION\n'
        r'            img_shape: \(3, 4\)\n        \n'
        r'            DATA FIELDS\n'
        r'            bboxes: tensor\(.*\n'
        r'            scores: tensor\(.*\n'
        r'        \) at 0x[0-9a-f]+>\n\) at 0x[0-9a-f]+>', text,
        flags=re.S), text

    with pytest.raises(AssertionError) as err:
        data_sample.proposals = torch.rand((5, 4))
    assert ("should be a <class 'mmengine.structures.instance_data."
            "InstanceData'> but got <class 'torch.Tensor'>") in str(err.value)
    assert data_sample.proposals is proposals  # unchanged on failure

    data_sample.gt_sem_seg = PixelData(sem_seg=torch.zeros(1, 4, 4))
    with pytest.raises(AssertionError):
        data_sample.gt_sem_seg = InstanceData()
    moved = data_sample.cpu()
    assert type(moved) is DetDataSample
    assert moved.keys() == ['proposals', 'gt_sem_seg']

    popped = data_sample.pop('proposals')
    assert popped is proposals and 'proposals' not in data_sample
    del data_sample.gt_sem_seg
    assert data_sample.keys() == []


def test_pickle_and_deepcopy_round_trip():
    element = InstanceData(metainfo=dict(img_id=1), labels=torch.arange(3))
    element.names = ['a', 'b', 'c']
    for copied in (pickle.loads(pickle.dumps(element)),
                   copy.deepcopy(element)):
        assert type(copied) is InstanceData
        assert copied.keys() == ['labels', 'names']
        assert copied.metainfo == dict(img_id=1)
        assert torch.equal(copied.labels, element.labels)
        copied.extra = [1, 2, 3]
        assert 'extra' not in element


def test_ex_str_11_documented_repr_with_dict_field():
    # The documented output of EX-STR-11: a dict value is shown as ``name:``
    # followed by its entries, nested elements are indented by 8.
    data_sample = DetDataSample()
    bboxes = torch.tensor([[0.5, 0.25, 0.75, 1.0], [0.0, 0.5, 0.5, 0.125]])
    data_sample.proposals = InstanceData(data=dict(bboxes=bboxes))
    inner = data_sample.proposals
    assert repr(data_sample) == (
        '<DetDataSample(\n\n'
        '    META INFORMATION\n\n'
        '    DATA FIELDS\n'
        '    proposals: <InstanceData(\n        \n'
        '            META INFORMATION\n        \n'
        '            DATA FIELDS\n'
        '            data:\n'
        '                bboxes: tensor([[0.5000, 0.2500, 0.7500, 1.0000],\n'
        '                            [0.0000, 0.5000, 0.5000, 0.1250]])\n'
        f'        ) at {hex(id(inner))}>\n'
        f') at {hex(id(data_sample))}>')
    # empty dicts stay on one line; metainfo dicts use the same layout
    element = BaseDataElement(metainfo=dict(flip=dict(dir='h', on=True)),
                              empty={})
    assert '    flip:\n        dir: \'h\'\n        on: True\n' in repr(element)
    assert '    empty: {}\n' in repr(element)


def test_tensor_ops_on_nested_elements():
    grad_src = torch.rand(3, 4, requires_grad=True)
    inner = InstanceData(
        metainfo=dict(img_id=5),
        bboxes=grad_src * 2,
        arr=np.ones((3, 2), dtype=np.float32),
        names=['a', 'b', 'c'])
    pixel = PixelData(metainfo=dict(s=1), seg=grad_src[:, :3] * 1)
    outer = BaseDataElement(
        metainfo=dict(img_shape=(8, 8)), inst=inner, pix=pixel, text='hi')

    for name in ('cpu', 'detach', 'numpy', 'to_tensor'):
        result = getattr(outer, name)()
        assert type(result.inst) is InstanceData
        assert type(result.pix) is PixelData
        assert result.inst.img_id == 5 and result.pix.s == 1
        assert result.inst.names == ['a', 'b', 'c'] and result.text == 'hi'
        assert result.img_shape == (8, 8)
    assert not outer.detach().inst.bboxes.requires_grad
    assert not outer.detach().pix.seg.requires_grad
    as_numpy = outer.numpy()
    assert isinstance(as_numpy.inst.bboxes, np.ndarray)
    assert isinstance(as_numpy.pix.seg, np.ndarray)
    as_tensor = outer.to_tensor()
    assert isinstance(as_tensor.inst.arr, torch.Tensor)
    assert isinstance(as_numpy.to_tensor().pix.seg, torch.Tensor)
    half = outer.to(torch.float16)
    assert half.inst.bboxes.dtype == torch.float16
    assert half.pix.seg.dtype == torch.float16
    assert half.inst.arr.dtype == np.float32  # arrays are left alone
    # the source element is never modified
    assert outer.inst.bboxes.requires_grad
    assert isinstance(outer.inst.arr, np.ndarray)


def test_to_tensor_strides_and_bad_dtypes():
    element = BaseDataElement(rev=np.arange(4)[::-1])
    assert element.to_tensor().rev.tolist() == [3, 2, 1, 0]
    for bad in (np.array(['x', 'y']), np.array([{}, 1], dtype=object)):
        with pytest.raises(TypeError, match='field `names` of '
                           'BaseDataElement'):
            BaseDataElement(names=bad).to_tensor()
