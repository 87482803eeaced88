import numpy as np
import pytest
import torch
import torch.nn as nn

from mmengine.utils.dl_utils import (has_batch_norm, is_norm,
                                     mmcv_full_available, tensor2imgs)


def test_tensor2imgs_rgb_flip_and_denormalise():
    mean, std = (10., 20., 30.), (2., 2., 2.)
    raw = np.random.RandomState(0).randint(40, 200, (2, 4, 5, 3))
    normed = (raw - np.array(mean)) / np.array(std)
    tensor = torch.from_numpy(normed).permute(0, 3, 1, 2).float()
    imgs = tensor2imgs(tensor, mean, std, to_bgr=False)
    assert len(imgs) == 2
    assert imgs[0].shape == (4, 5, 3) and imgs[0].dtype == np.uint8
    np.testing.assert_array_equal(imgs[1], raw[1])
    flipped = tensor2imgs(tensor, mean, std)  # to_bgr=True by default
    np.testing.assert_array_equal(flipped[1], raw[1][..., ::-1])
    # the older spelling
    same = tensor2imgs(tensor, mean, std, to_rgb=False)
    np.testing.assert_array_equal(same[0], imgs[0])
    assert imgs[0].flags['C_CONTIGUOUS'] and flipped[0].flags['C_CONTIGUOUS']


def test_tensor2imgs_gray_and_clipping():
    tensor = torch.tensor([[[[-5.0, 300.0], [1.4, 254.6]]]])
    (img, ) = tensor2imgs(tensor)
    assert img.shape == (2, 2, 1)
    assert img[..., 0].tolist() == [[0, 255], [1, 255]]


def test_tensor2imgs_errors():
    with pytest.raises(TypeError, match='Tensor'):
        tensor2imgs(np.zeros((1, 3, 2, 2)))
    with pytest.raises(ValueError, match='shape'):
        tensor2imgs(torch.zeros(3, 2, 2))
    with pytest.raises(ValueError, match='channels'):
        tensor2imgs(torch.zeros(1, 2, 2, 2))
    with pytest.raises(ValueError, match='mean and std'):
        tensor2imgs(torch.zeros(1, 3, 2, 2), mean=(0, 0))


def test_norm_helpers():
    assert is_norm(nn.BatchNorm2d(2)) and is_norm(nn.GroupNorm(1, 2))
    assert is_norm(nn.LayerNorm(2)) and is_norm(nn.InstanceNorm2d(2))
    assert not is_norm(nn.Conv2d(1, 1, 1))
    assert not is_norm(nn.BatchNorm2d(2), exclude=nn.BatchNorm2d)
    assert is_norm(nn.BatchNorm2d(2), exclude=(nn.GroupNorm, ))
    with pytest.raises(TypeError, match='exclude'):
        is_norm(nn.BatchNorm2d(2), exclude='bn')
    assert has_batch_norm(nn.Sequential(nn.Conv2d(1, 1, 1),
                                        nn.SyncBatchNorm(1)))
    assert not has_batch_norm(nn.Sequential(nn.Conv2d(1, 1, 1)))


def test_mmcv_full_available_without_mmcv():
    assert mmcv_full_available() is False


def test_torch_version_export():
    from mmengine.utils.dl_utils import TORCH_VERSION, get_build_config
    assert TORCH_VERSION == torch.__version__
    assert 'PyTorch' in get_build_config()
