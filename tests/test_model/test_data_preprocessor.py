from collections import namedtuple

import pytest
import torch
import torch.nn as nn

from mmengine.model import BaseDataPreprocessor, ImgDataPreprocessor
from mmengine.registry import MODELS
from mmengine.structures import BaseDataElement


def test_registered():
    assert MODELS.get('BaseDataPreprocessor') is BaseDataPreprocessor
    assert MODELS.get('ImgDataPreprocessor') is ImgDataPreprocessor
    prep = MODELS.build(dict(type='ImgDataPreprocessor', mean=[0], std=[1]))
    assert isinstance(prep, ImgDataPreprocessor)


def test_cast_data_nested_structures():
    prep = BaseDataPreprocessor()
    prep.to('meta')
    assert prep.device == torch.device('meta')
    Pair = namedtuple('Pair', ['a', 'b'])
    sample = BaseDataElement(gt=torch.ones(2))
    data = dict(
        inputs=[torch.ones(3), (torch.zeros(1), 'text')],
        pair=Pair(torch.ones(1), 3),
        samples=[sample],
        none=None,
        raw=b'bytes')
    out = prep(data)
    assert out['inputs'][0].device.type == 'meta'
    assert isinstance(out['inputs'][1], tuple)
    assert out['inputs'][1][0].device.type == 'meta'
    assert out['inputs'][1][1] == 'text'
    assert isinstance(out['pair'], Pair)
    assert out['pair'].a.device.type == 'meta' and out['pair'].b == 3
    assert out['samples'][0].gt.device.type == 'meta'
    assert out['none'] is None and out['raw'] == b'bytes'


def test_device_follows_moves():
    prep = BaseDataPreprocessor(non_blocking=True)
    assert prep.device == torch.device('cpu')
    assert prep.to('meta') is prep
    assert prep.device == torch.device('meta')
    prep.to(torch.float16)  # dtype only: device unchanged
    assert prep.device == torch.device('meta')
    prep.cpu()
    assert prep.device == torch.device('cpu')
    out = prep(dict(x=torch.ones(1)))
    assert out['x'].device.type == 'cpu'


def test_img_preprocessor_gray_list():
    # EX-MOD-04: single-channel uint8 images -> float batch in [-1, 1].
    prep = ImgDataPreprocessor(mean=[127.5], std=[127.5])
    imgs = [
        torch.randint(0, 256, (1, 28, 28), dtype=torch.uint8)
        for _ in range(3)
    ]
    imgs[0][0, 0, 0] = 0
    imgs[0][0, 0, 1] = 255
    out = prep(dict(inputs=imgs))
    batch = out['inputs']
    assert batch.shape == (3, 1, 28, 28) and batch.dtype == torch.float32
    assert batch.min() == -1 and batch.max() == 1
    assert out['data_samples'] is None


def test_img_preprocessor_rgb_pad_and_flip():
    prep = ImgDataPreprocessor(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32,
        pad_value=-7)
    imgs = [torch.rand(3, 30, 40) * 255, torch.rand(3, 50, 20) * 255]
    samples = [BaseDataElement(), BaseDataElement()]
    out = prep(dict(inputs=imgs, data_samples=samples))
    batch = out['inputs']
    assert batch.shape == (2, 3, 64, 64)
    mean = torch.tensor([123.675, 116.28, 103.53]).view(-1, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(-1, 1, 1)
    expected = (imgs[0][[2, 1, 0]] - mean) / std
    assert torch.allclose(batch[0, :, :30, :40], expected)
    assert (batch[0, :, 30:, :] == -7).all()
    assert (batch[1, :, :, 20:] == -7).all()
    assert out['data_samples'][0].batch_input_shape == (64, 64)
    assert out['data_samples'][1].pad_shape == (64, 64)


def test_img_preprocessor_batched_tensor():
    prep = ImgDataPreprocessor(
        mean=[1, 2, 3], std=[2, 2, 2], rgb_to_bgr=True, pad_size_divisor=8)
    inputs = torch.ones(2, 3, 5, 6)
    inputs[:, 0] = 5
    batch = prep(dict(inputs=inputs))['inputs']
    assert batch.shape == (2, 3, 8, 8)
    # channels flipped: channel 2 now holds the 5s, normalised by mean 3.
    assert torch.allclose(batch[:, 2, :5, :6], torch.full((2, 5, 6), 1.))
    assert torch.allclose(batch[:, 0, :5, :6], torch.full((2, 5, 6), 0.))
    assert (batch[:, :, 5:, :] == 0).all()


def test_img_preprocessor_no_normalize():
    prep = ImgDataPreprocessor()
    x = torch.arange(12, dtype=torch.uint8).view(1, 1, 3, 4)
    out = prep(dict(inputs=x))['inputs']
    assert out.dtype == torch.float32 and torch.equal(out, x.float())


def test_img_preprocessor_batch_augments_only_in_training():

    class Double(nn.Module):

        def forward(self, inputs, data_samples):
            return inputs * 2, data_samples

    prep = ImgDataPreprocessor(batch_augments=[Double()])
    x = torch.ones(1, 1, 2, 2)
    assert (prep(dict(inputs=x), training=True)['inputs'] == 2).all()
    assert (prep(dict(inputs=x), training=False)['inputs'] == 1).all()


@pytest.mark.parametrize('kwargs, match', [
    (dict(bgr_to_rgb=True, rgb_to_bgr=True), 'bgr_to_rgb'),
    (dict(mean=[1, 2, 3]), 'mean'),
    (dict(std=[1, 2, 3]), 'std'),
    (dict(mean=[1, 2], std=[1, 2]), '`mean` should have 1 or 3'),
    (dict(mean=[1, 2, 3], std=[1, 2]), '`std` should have 1 or 3'),
    (dict(pad_size_divisor=0), 'pad_size_divisor'),
])
def test_img_preprocessor_bad_args(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ImgDataPreprocessor(**kwargs)


def test_img_preprocessor_bad_inputs():
    prep = ImgDataPreprocessor(mean=[1, 2, 3], std=[1, 1, 1])
    with pytest.raises(TypeError, match='"inputs"'):
        prep([torch.ones(3, 2, 2)])
    with pytest.raises(ValueError, match='NCHW'):
        prep(dict(inputs=torch.ones(3, 2, 2)))
    with pytest.raises(TypeError, match='list of CHW'):
        prep(dict(inputs=['a']))
    with pytest.raises(ValueError, match='3 channels'):
        prep(dict(inputs=[torch.ones(1, 2, 2)]))
    with pytest.raises(TypeError, match='batch_augments'):
        ImgDataPreprocessor(batch_augments=[3])


def test_img_preprocessor_rejects_non_chw_images():
    # An HW image would silently gain a channel with a 1-value mean and
    # not without one: it is refused, naming the image and its shape.
    for prep in (ImgDataPreprocessor(), ImgDataPreprocessor([0.], [1.])):
        with pytest.raises(ValueError, match=r'image 1 has shape \(4, 4\)'):
            prep(dict(inputs=[torch.ones(1, 4, 4), torch.ones(4, 4)]))


@pytest.mark.parametrize('flip', [False, True])
def test_img_preprocessor_same_values_on_every_path_and_inputs_kept(flip):
    # Equal-size images are stacked then normalised (in place on the
    # temporary); unequal ones are normalised one by one and padded. Both
    # give the same values, and never modify the caller's tensors.
    prep = ImgDataPreprocessor([1., 2., 3.], [2., 4., 8.], bgr_to_rgb=flip)
    g = torch.Generator().manual_seed(0)
    imgs = [torch.rand(3, 4, 6, generator=g) * 255 for _ in range(3)]
    kept = [img.clone() for img in imgs]
    mean = torch.tensor([1., 2., 3.]).view(3, 1, 1)
    std = torch.tensor([2., 4., 8.]).view(3, 1, 1)
    expected = torch.stack([((img.flip(0) if flip else img) - mean) / std
                            for img in imgs])
    for inputs in (imgs, torch.stack(imgs)):
        out = prep(dict(inputs=inputs))['inputs']
        torch.testing.assert_close(out, expected, rtol=0, atol=0)
    padded = prep(dict(inputs=imgs + [torch.zeros(3, 4, 7)]))['inputs']
    torch.testing.assert_close(padded[:3, :, :, :6], expected, rtol=0,
                               atol=0)
    assert (padded[:3, :, :, 6] == 0).all()
    uint8 = prep(dict(inputs=[img.to(torch.uint8) for img in imgs]))
    assert uint8['inputs'].dtype == torch.float32
    for img, ref in zip(imgs, kept):
        assert torch.equal(img, ref)


def test_img_preprocessor_follows_model_dtype():
    # after .double() the normalised batch is float64, like the model
    prep = ImgDataPreprocessor([1.], [2.]).double()
    out = prep(dict(inputs=[torch.ones(1, 2, 2, dtype=torch.uint8)] * 2))
    assert out['inputs'].dtype == torch.float64
    assert (out['inputs'] == 0).all()


def test_cast_data_fast_paths_match_general_path():
    """Exact list/dict/tuple/tensor take a fast path; subclasses of them
    keep their type through the general one, and a tensor already on the
    device comes back as the same object (what ``.to()`` returns)."""

    class MyList(list):
        pass

    class MyDict(dict):
        pass

    class MyTensor(torch.Tensor):
        pass

    prep = BaseDataPreprocessor()
    x = torch.ones(2)
    assert prep.cast_data(x) is x
    out = prep.cast_data(
        dict(a=[x, (x, 1)], b=MyList([x]), c=MyDict(k=x), d='s'))
    assert type(out) is dict and type(out['a']) is list
    assert type(out['a'][1]) is tuple and out['a'][1][0] is x
    assert out['a'][1][1] == 1 and out['d'] == 's'
    assert type(out['b']) is MyList and out['b'][0] is x
    assert type(out['c']) is dict and out['c']['k'] is x
    sub = x.as_subclass(MyTensor)
    assert type(prep.cast_data([sub])[0]) is MyTensor
    # non_blocking does not matter when nothing moves
    assert BaseDataPreprocessor(non_blocking=True).cast_data(x) is x
    prep.to('meta')
    moved = prep.cast_data([x])[0]
    assert moved.device.type == 'meta' and x.device.type == 'cpu'
