"""Feature-map rendering (``Visualizer.draw_featmap``).

Pure torch/NumPy: heat maps use a NumPy "jet" palette and tiles are
composed as arrays, so this needs neither matplotlib nor OpenCV.
"""
import warnings
from typing import Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .utils import convert_overlay_heatmap

__all__ = ['draw_featmap']

_REDUCTIONS = ('squeeze_mean', 'select_max', None)


def _resize_chw(feat: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of a ``(C, H, W)`` float tensor to ``size=(h, w)``."""
    return F.interpolate(
        feat[None].float(), size, mode='bilinear', align_corners=False)[0]


def _resize_image(image: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """Bilinear resize of an ``(H, W, 3)`` image to ``size=(h, w)``."""
    chw = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)
    out = _resize_chw(chw, size).round().clamp(0, 255)
    return out.permute(1, 2, 0).to(torch.uint8).numpy()


def draw_featmap(featmap: torch.Tensor,
                 overlaid_image: Optional[np.ndarray] = None,
                 channel_reduction: Optional[str] = 'squeeze_mean',
                 topk: int = 20,
                 arrangement: Tuple[int, int] = (4, 5),
                 resize_shape: Optional[tuple] = None,
                 alpha: float = 0.5) -> np.ndarray:
    """Render a ``(C, H, W)`` feature map as an RGB heat-map image.

    Args:
        featmap (torch.Tensor): The feature map, ``(C, H, W)``.
        overlaid_image (np.ndarray, optional): RGB ``(H, W, 3)`` (or gray
            ``(H, W)``) image to blend the heat map with; the feature map is
            resized to it when their sizes differ.
        channel_reduction (str, optional): ``'squeeze_mean'`` (mean over
            channels), ``'select_max'`` (the channel with the largest sum)
            or None (show ``topk`` channels tiled).
        topk (int): With ``channel_reduction=None``: number of channels
            (largest activation sum first) to tile; ``<= 0`` requires a
            feature map with 1 or 3 channels, drawn as a single image.
        arrangement (tuple[int, int]): ``(rows, cols)`` of the tiles.
        resize_shape (tuple, optional): ``(h, w)`` to resize the output to.
        alpha (float): Heat map weight in the blend. Defaults to 0.5.

    Returns:
        np.ndarray: ``uint8`` RGB image.
    """
    if not isinstance(featmap, torch.Tensor):
        raise TypeError('featmap must be a torch.Tensor of shape (C, H, W), '
                        f'but got {type(featmap).__name__}')
    if featmap.ndim != 3:
        raise ValueError('featmap must have shape (C, H, W), but got '
                         f'{tuple(featmap.shape)}')
    if channel_reduction not in _REDUCTIONS:
        raise ValueError('channel_reduction must be one of '
                         f'{_REDUCTIONS}, but got {channel_reduction!r}')
    featmap = featmap.detach().cpu().float()

    if overlaid_image is not None:
        overlaid_image = np.asarray(overlaid_image)
        if overlaid_image.ndim == 2:
            overlaid_image = np.stack([overlaid_image] * 3, axis=-1)
        if overlaid_image.ndim != 3 or overlaid_image.shape[2] < 3:
            raise ValueError('overlaid_image must be (H, W, 3) or (H, W), '
                             f'got {overlaid_image.shape}')
        overlaid_image = overlaid_image[..., :3].astype(np.uint8)
        if overlaid_image.shape[:2] != tuple(featmap.shape[1:]):
            warnings.warn(
                f'the feature map size {tuple(featmap.shape[1:])} differs '
                f'from the overlaid image size {overlaid_image.shape[:2]}; '
                'the feature map is resized to the image.')
            featmap = _resize_chw(featmap, overlaid_image.shape[:2])
    if resize_shape is not None:
        resize_shape = tuple(int(s) for s in resize_shape)
        featmap = _resize_chw(featmap, resize_shape)
        if overlaid_image is not None:
            overlaid_image = _resize_image(overlaid_image, resize_shape)

    if channel_reduction is not None:
        if channel_reduction == 'squeeze_mean':
            feat = featmap.mean(dim=0)
        else:
            feat = featmap[torch.argmax(featmap.sum(dim=(1, 2)))]
        return convert_overlay_heatmap(feat, overlaid_image, alpha)

    if topk <= 0:
        if featmap.shape[0] not in (1, 3):
            raise ValueError(
                'with channel_reduction=None and topk <= 0 the feature map '
                f'must have 1 or 3 channels, got {featmap.shape[0]}')
        feat = featmap[0] if featmap.shape[0] == 1 else featmap
        return convert_overlay_heatmap(feat, overlaid_image, alpha)

    rows, cols = arrangement
    if rows * cols < topk:
        raise ValueError(f'arrangement {arrangement} has {rows * cols} '
                         f'tiles, fewer than topk={topk}')
    topk = min(topk, featmap.shape[0])
    indices = torch.topk(featmap.sum(dim=(1, 2)), topk).indices
    tiles = [
        convert_overlay_heatmap(featmap[i], overlaid_image, alpha)
        for i in indices.tolist()
    ]
    # Shrink the grid to what is needed, then tile with a 2-pixel white gap.
    rows = min(rows, -(-topk // cols))
    cols = min(cols, topk)
    h, w = tiles[0].shape[:2]
    gap = 2
    grid = np.full((rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap,
                    3),
                   255,
                   dtype=np.uint8)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, cols)
        grid[r * (h + gap):r * (h + gap) + h,
             c * (w + gap):c * (w + gap) + w] = tile
    return grid
