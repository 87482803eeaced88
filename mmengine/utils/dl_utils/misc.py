"""Helpers on tensors and modules: images from tensors, norm-layer checks,
and whether the compiled MMCV is present."""
import importlib.util
import os
from typing import Optional, Sequence, Tuple, Type, Union

import numpy as np
import torch
import torch.nn as nn

from .parrots_wrapper import _BatchNorm, _InstanceNorm


def tensor2imgs(tensor: torch.Tensor,
                mean: Optional[Sequence[float]] = None,
                std: Optional[Sequence[float]] = None,
                to_bgr: bool = True,
                *,
                to_rgb: Optional[bool] = None) -> list:
    """Turn a batch of normalised image tensors back into uint8 images.

    Each image is de-normalised (``x * std + mean``), moved to HWC layout,
    rounded and clipped to ``[0, 255]``.

    Args:
        tensor (Tensor): shape ``(N, C, H, W)`` with C = 1 or 3.
        mean (Sequence[float], optional): per-channel mean used for
            normalisation; zeros by default.
        std (Sequence[float], optional): per-channel std used for
            normalisation; ones by default.
        to_bgr (bool): flip the channel order (RGB -> BGR) of 3-channel
            images. Defaults to True.
        to_rgb (bool, optional): the older spelling of ``to_bgr`` (the
            tensor was converted to RGB, so convert back); overrides
            ``to_bgr`` when given.

    Returns:
        list[np.ndarray]: N arrays of shape ``(H, W, C)`` and dtype uint8.

    Raises:
        TypeError: if ``tensor`` is not a tensor.
        ValueError: on a wrong shape, channel count or mean/std length.
    """
    if to_rgb is not None:
        to_bgr = to_rgb
    if not torch.is_tensor(tensor):
        raise TypeError(
            f'tensor2imgs expects a torch.Tensor, got {type(tensor).__name__}')
    if tensor.ndim != 4:
        raise ValueError('tensor2imgs expects a tensor of shape (N, C, H, W),'
                         f' got shape {tuple(tensor.shape)}')
    channels = tensor.size(1)
    if channels not in (1, 3):
        raise ValueError(
            f'tensor2imgs supports 1 or 3 channels, got {channels}')
    mean = (0.0, ) * channels if mean is None else tuple(mean)
    std = (1.0, ) * channels if std is None else tuple(std)
    if len(mean) != channels or len(std) != channels:
        raise ValueError(
            f'mean and std need {channels} values for a {channels}-channel '
            f'tensor, got mean={mean} and std={std}')
    if channels == 1 and to_bgr:
        # Nothing to flip in a single channel.
        to_bgr = False

    mean_arr = np.asarray(mean, dtype=np.float64).reshape(1, 1, -1)
    std_arr = np.asarray(std, dtype=np.float64).reshape(1, 1, -1)
    images = tensor.detach().cpu().to(torch.float64).numpy()
    result = []
    for img in images:
        img = img.transpose(1, 2, 0) * std_arr + mean_arr
        if to_bgr:
            img = img[..., ::-1]
        img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
        result.append(np.ascontiguousarray(img))
    return result


def is_norm(layer: nn.Module,
            exclude: Optional[Union[Type, Tuple[Type, ...]]] = None) -> bool:
    """Whether ``layer`` is a normalisation layer (batch, group, layer or
    instance norm).

    Args:
        layer (nn.Module): the layer to check.
        exclude (type | tuple[type], optional): norm types not to count.

    Raises:
        TypeError: if ``exclude`` is not a type or a tuple of types.
    """
    if exclude is not None:
        if not isinstance(exclude, tuple):
            exclude = (exclude, )
        if not all(isinstance(e, type) for e in exclude):
            raise TypeError(
                '"exclude" must be None, a type or a tuple of types, got '
                f'{exclude!r}')
        if isinstance(layer, exclude):
            return False
    all_norm_bases = (_BatchNorm, _InstanceNorm, nn.GroupNorm, nn.LayerNorm)
    return isinstance(layer, all_norm_bases)


def has_batch_norm(model: nn.Module) -> bool:
    """Whether ``model`` or any of its submodules is a batch norm layer."""
    return any(isinstance(m, _BatchNorm) for m in model.modules())


def mmcv_full_available() -> bool:
    """Whether MMCV with its compiled ops (``mmcv._ext``) is installed.

    Checked on the file system, without importing mmcv.
    """
    try:
        spec = importlib.util.find_spec('mmcv')
    except (ImportError, ValueError):
        return False
    if spec is None or not spec.submodule_search_locations:
        return False
    for location in spec.submodule_search_locations:
        try:
            names = os.listdir(location)
        except OSError:
            continue
        if any(name == '_ext' or name.startswith('_ext.') for name in names):
            return True
    return False
