import numpy as np
import pytest
import torch

from mmengine.structures import PixelData


# ---------------------------------------------------------------- EX-STR-09
def test_ex_str_09_pixel_data():
    metainfo = dict(img_id=random_id(), img_shape=(20, 40))
    image = np.random.randint(0, 255, (4, 20, 40))
    featmap = torch.randint(0, 255, (10, 20, 40))
    pixel_data = PixelData(metainfo=metainfo, image=image, featmap=featmap)
    assert pixel_data.shape == (20, 40)

    pixel_data.map3 = np.random.randint(0, 255, (20, 40))
    assert pixel_data.map3.shape == (1, 20, 40)
    assert isinstance(pixel_data.map3, np.ndarray)

    with pytest.raises(AssertionError) as err:
        pixel_data.map2 = np.random.randint(0, 255, (3, 20, 30))
    assert str(err.value) == (
        'the height and width of values (20, 30) is not consistent with the '
        'length of this :obj:`PixelData` (20, 40) (setting field `map2`)')

    with pytest.raises(AssertionError) as err:
        pixel_data.map2 = np.random.randint(0, 255, (1, 3, 20, 40))
    assert str(err.value) == ('The dim of value must be 2 or 3, but got 4 '
                              '(setting field `map2` of shape '
                              '(1, 3, 20, 40))')
    assert 'map2' not in pixel_data

    assert pixel_data[10, 20].shape == (1, 1)
    assert pixel_data[10:20, 20:40].shape == (10, 20)
    crop = pixel_data[10:20, 20:40]
    assert crop.img_shape == (20, 40)
    assert crop.featmap.shape == (10, 10, 20)
    assert torch.equal(crop.featmap, featmap[:, 10:20, 20:40])
    assert np.array_equal(crop.image, image[:, 10:20, 20:40])


def random_id():
    return int(np.random.randint(0, 100))


def test_2d_tensor_and_negative_index():
    pixel_data = PixelData()
    assert pixel_data.shape is None
    pixel_data.seg = torch.arange(12).view(3, 4)
    assert pixel_data.seg.shape == (1, 3, 4)
    corner = pixel_data[-1, -1]
    assert corner.shape == (1, 1)
    assert corner.seg.item() == 11
    assert pixel_data[0, 1:].seg.tolist() == [[[1, 2, 3]]]


def test_pixel_data_errors():
    pixel_data = PixelData(seg=torch.zeros(2, 3, 4))
    with pytest.raises(AssertionError, match='only support'):
        pixel_data.labels = [1, 2]
    with pytest.raises(AssertionError, match='but got 1'):
        pixel_data.vec = torch.zeros(4)
    with pytest.raises(TypeError, match='Unsupported type'):
        pixel_data[0]
    with pytest.raises(TypeError, match='2 elements'):
        pixel_data[0, 0, 0]
    with pytest.raises(TypeError, match='int or slice'):
        pixel_data[0, torch.tensor([1])]
    with pytest.raises(IndexError, match='height'):
        pixel_data[3, 0]
    with pytest.raises(IndexError, match='width'):
        pixel_data[0, -5]
    assert torch.equal(pixel_data['seg'], pixel_data.seg)
    with pytest.raises(TypeError):
        len(pixel_data)


def test_tensor_ops():
    pixel_data = PixelData(metainfo=dict(a=1), seg=torch.zeros(2, 3, 4))
    np_data = pixel_data.numpy()
    assert isinstance(np_data, PixelData)
    assert isinstance(np_data.seg, np.ndarray)
    assert np_data.shape == (3, 4)
    assert pixel_data.to(torch.float16).seg.dtype == torch.float16


def test_negative_step_slices_and_metainfo_conflict():
    seg = torch.arange(12).view(3, 4)
    pixel_data = PixelData(seg=seg, img=seg.numpy().copy())
    flipped = pixel_data[::-1, 1:3]
    assert flipped.shape == (3, 2)
    assert flipped.seg.tolist() == [seg.flip(0)[:, 1:3].tolist()]
    assert flipped.img.tolist() == flipped.seg.tolist()
    mirrored = pixel_data[0, ::-2]
    assert mirrored.seg.tolist() == [[[3, 1]]]
    assert mirrored.img.tolist() == [[[3, 1]]]
    pixel_data.set_metainfo(dict(scale=2))
    with pytest.raises(AttributeError, match='metainfo'):
        pixel_data.scale = torch.zeros(3, 4)


def test_low_level_setters_are_checked():
    pixel_data = PixelData(seg=torch.zeros(3, 4))
    pixel_data.set_field(np.ones((3, 4)), 'mask')
    assert pixel_data.mask.shape == (1, 3, 4)  # 2-D stored as (1, H, W)
    with pytest.raises(AssertionError, match='setting field `big`'):
        pixel_data.set_field(torch.zeros(1, 5, 4), 'big')
    with pytest.raises(AssertionError, match='setting field `flat`'):
        pixel_data.set_data(dict(flat=torch.zeros(12)))
    assert 'big' not in pixel_data and 'flat' not in pixel_data
