import io

import numpy as np
import pytest
import torch

from mmengine.visualization.utils import (check_length, check_type,
                                          color_str2rgb, color_val_matplotlib,
                                          convert_overlay_heatmap,
                                          encode_png, get_adaptive_scale,
                                          jet_colormap, tensor2ndarray,
                                          value2list)


@pytest.mark.parametrize('shape,mode', [((5, 7), 'L'), ((5, 7, 1), 'L'),
                                        ((5, 7, 3), 'RGB'),
                                        ((5, 7, 4), 'RGBA')])
def test_encode_png_round_trip(shape, mode):
    from PIL import Image
    image = np.random.RandomState(1).randint(
        0, 256, size=shape).astype(np.uint8)
    expected = image.reshape(5, 7) if mode == 'L' else image
    with Image.open(io.BytesIO(encode_png(image))) as im:
        assert im.mode == mode
        np.testing.assert_array_equal(np.asarray(im), expected)


def test_encode_png_filters_smooth_images():
    # Gradients and flat areas (what drawn images are made of) go through
    # the PNG row filters: pixel-exact in PIL and a small file.
    from PIL import Image
    x = np.arange(256, dtype=np.uint8)
    image = np.stack(np.broadcast_arrays(x[None, :], x[:, None],
                                         (x[None, :] // 2 + 40)), -1)
    image = np.ascontiguousarray(image[:, :200])
    image[100:150, 20:90] = (255, 0, 0)
    data = encode_png(image)
    assert len(data) < image.nbytes // 20
    with Image.open(io.BytesIO(data)) as im:
        np.testing.assert_array_equal(np.asarray(im), image)


def test_encode_png_errors():
    with pytest.raises(TypeError, match='uint8'):
        encode_png(np.zeros((2, 2, 3), np.float32))
    with pytest.raises(ValueError, match=r'\(H, W, 3\)'):
        encode_png(np.zeros((2, 2, 2), np.uint8))
    with pytest.raises(ValueError, match='empty'):
        encode_png(np.zeros((0, 4, 3), np.uint8))


def test_colors():
    assert color_str2rgb('red') == (255, 0, 0)
    assert color_str2rgb('#00ff80') == (0, 255, 128)
    assert color_str2rgb('tab:blue') == (31, 119, 180)
    with pytest.raises(ValueError, match='unknown color'):
        color_str2rgb('no-such-colour')
    assert color_val_matplotlib('g') == 'g'
    assert color_val_matplotlib((255, 0, 51)) == (1.0, 0.0, 0.2)
    assert color_val_matplotlib(['r', (0, 0, 255)]) == ['r', (0, 0, 1.0)]
    with pytest.raises(ValueError, match=r'\[0, 255\]'):
        color_val_matplotlib((256, 0, 0))
    with pytest.raises(ValueError, match='3 \\(RGB\\)'):
        color_val_matplotlib((1, 2))
    with pytest.raises(TypeError, match='colors'):
        color_val_matplotlib(3)


def test_checks_and_conversions():
    check_type('x', 1, (int, float))
    with pytest.raises(TypeError, match='`x` should be int, float'):
        check_type('x', 'a', (int, float))
    check_length('colors', 'r', 5)  # a single value is broadcast
    with pytest.raises(AssertionError, match='colors'):
        check_length('colors', ['r'], 2)
    assert value2list('r', str, 3) == ['r', 'r', 'r']
    assert value2list(['r', 'g'], str, 2) == ['r', 'g']
    assert isinstance(tensor2ndarray(torch.ones(2)), np.ndarray)
    assert tensor2ndarray([1]) == [1]
    assert get_adaptive_scale((224, 448)) == 1.0
    assert get_adaptive_scale((10, 10)) == 0.3
    assert get_adaptive_scale((5000, 5000)) == 3.0


def test_heatmaps():
    gray = np.array([[0, 255]], np.uint8)
    jet = jet_colormap(gray)
    assert tuple(jet[0, 0]) == (0, 0, 128)  # dark blue
    assert tuple(jet[0, 1]) == (128, 0, 0)  # dark red
    heat = convert_overlay_heatmap(torch.tensor([[0., 1.], [2., 3.]]))
    assert heat.shape == (2, 2, 3) and heat.dtype == np.uint8
    flat = convert_overlay_heatmap(np.ones((2, 2)))  # no division by zero
    assert (flat == flat[0, 0]).all()
    rgb = convert_overlay_heatmap(np.zeros((3, 2, 2)))
    assert rgb.shape == (2, 2, 3)
    img = np.full((2, 2, 3), 100, np.uint8)
    blended = convert_overlay_heatmap(np.zeros((2, 2)), img, alpha=0.5)
    assert tuple(blended[0, 0]) == (50, 50, 114)
    with pytest.raises(ValueError, match='differs'):
        convert_overlay_heatmap(np.zeros((3, 3)), img)
    with pytest.raises(ValueError, match=r'\(H, W\)'):
        convert_overlay_heatmap(np.zeros((2, 2, 2)))
