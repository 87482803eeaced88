"""``NaiveVisualizationHook``: show test inputs with their predictions."""
import os.path as osp
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from mmengine.registry import HOOKS
from mmengine.structures import BaseDataElement
from mmengine.utils.dl_utils import tensor2imgs
from .hook import DATA_BATCH, Hook


def _resize(image: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """Bilinear resize of an ``(H, W, C)`` uint8 image to ``(w, h)``."""
    width, height = size
    if image.shape[:2] == (height, width):
        return image
    tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(
        2, 0, 1)[None].float()
    tensor = F.interpolate(
        tensor, size=(height, width), mode='bilinear', align_corners=False)
    return tensor[0].permute(1, 2, 0).round().clamp(0, 255).to(
        torch.uint8).numpy()


@HOOKS.register_module()
class NaiveVisualizationHook(Hook):
    """Sends every ``interval``-th test batch to the visualizer.

    For each sample the normalised input tensor is turned back into an
    image (``img_norm_cfg`` of the data sample's meta info: ``mean``,
    ``std``, ``to_bgr``), the padding is cut off (``pad_shape`` present →
    keep the ``scale`` (w, h) area, or the original size), the image is
    resized to ``(ori_width, ori_height)`` and given with the sample to
    ``runner.visualizer.add_datasample(<basename of img_path>, image, ...)``.

    A batch is either a list of ``dict(inputs=..., data_sample=...)`` or a
    dict ``dict(inputs=[...], data_samples=[...])``.

    Args:
        interval (int): Visualise every ``interval`` test iterations.
            Defaults to 1.
        draw_gt (bool): Draw the ground truth. Defaults to True.
        draw_pred (bool): Draw the prediction. Defaults to True.
    """

    priority = 'NORMAL'

    def __init__(self,
                 interval: int = 1,
                 draw_gt: bool = True,
                 draw_pred: bool = True) -> None:
        if not isinstance(interval, int) or interval <= 0:
            raise ValueError('NaiveVisualizationHook: interval must be a '
                             f'positive int, but got {interval!r}')
        self._interval = interval
        self.draw_gt = draw_gt
        self.draw_pred = draw_pred

    @staticmethod
    def _unpad(image: np.ndarray, unpad_shape: Tuple[int,
                                                     int]) -> np.ndarray:
        width, height = unpad_shape
        return image[:height, :width]

    @staticmethod
    def _samples(data_batch) -> list:
        """``[(inputs, data_sample), ...]`` from either batch layout."""
        if isinstance(data_batch, dict):
            inputs = data_batch.get('inputs')
            samples = data_batch.get('data_samples')
            if inputs is None or samples is None:
                raise KeyError('NaiveVisualizationHook: a dict batch needs '
                               "'inputs' and 'data_samples', got keys "
                               f'{list(data_batch)}')
            return list(zip(inputs, samples))
        pairs = []
        for i, data in enumerate(data_batch):
            if not isinstance(data, dict) or 'inputs' not in data or (
                    'data_sample' not in data
                    and 'data_samples' not in data):
                raise KeyError(
                    f'NaiveVisualizationHook: batch item {i} must be a dict '
                    "with 'inputs' and 'data_sample', got "
                    f'{type(data).__name__}')
            sample = data.get('data_sample', data.get('data_samples'))
            pairs.append((data['inputs'], sample))
        return pairs

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch: DATA_BATCH = None,
                        outputs: Optional[Sequence] = None) -> None:
        """Visualise the batch every ``interval`` iterations."""
        if data_batch is None or outputs is None or \
                not self.every_n_inner_iters(batch_idx, self._interval):
            return
        for (inputs, data_sample), output in zip(
                self._samples(data_batch), outputs):
            if inputs.ndim == 3:
                inputs = inputs[None]
            norm_cfg = data_sample.get(
                'img_norm_cfg', dict(mean=(0, 0, 0), std=(1, 1, 1),
                                     to_bgr=True))
            image = tensor2imgs(inputs, **norm_cfg)[0]
            ori_shape = (data_sample.ori_width, data_sample.ori_height)
            if 'pad_shape' in data_sample:
                image = self._unpad(image,
                                    data_sample.get('scale', ori_shape))
            image = _resize(image, ori_shape)
            name = osp.basename(data_sample.img_path)
            if isinstance(output, BaseDataElement) and isinstance(
                    data_sample, BaseDataElement):
                # One sample carrying both the ground truth and prediction.
                sample = data_sample.clone()
                sample.update(output)
            else:
                sample = output
            runner.visualizer.add_datasample(
                name,
                image,
                data_sample=sample,
                draw_gt=self.draw_gt,
                draw_pred=self.draw_pred,
                step=runner.iter)
