from unittest.mock import Mock

import numpy as np
import pytest
import torch

from mmengine.hooks import NaiveVisualizationHook
from mmengine.structures import BaseDataElement


def _runner():
    runner = Mock(iter=5)
    runner.visualizer.add_datasample = Mock()
    return runner


def test_image_restored_and_sent():
    hook = NaiveVisualizationHook()
    runner = _runner()
    # A 2x2 white image normalised with mean 100 / std 2, padded to 4x4.
    inputs = torch.full((3, 4, 4), (255 - 100) / 2)
    gt = BaseDataElement(
        metainfo=dict(
            img_norm_cfg=dict(mean=(100, ) * 3, std=(2, ) * 3,
                              to_bgr=False),
            scale=(2, 2),
            pad_shape=(4, 4, 3),
            ori_width=6,
            ori_height=3,
            img_path='/data/cat.jpg'))
    pred = BaseDataElement(score=torch.tensor(0.9))
    hook.after_test_iter(runner, 0, [dict(inputs=inputs, data_sample=gt)],
                         [pred])
    args, kwargs = runner.visualizer.add_datasample.call_args
    name, image = args
    assert name == 'cat.jpg'
    assert image.shape == (3, 6, 3) and image.dtype == np.uint8
    assert (image == 255).all()
    # The sample carries both the ground-truth meta and the prediction.
    assert kwargs['data_sample'].img_path == '/data/cat.jpg'
    assert kwargs['data_sample'].score == 0.9
    assert kwargs['step'] == 5


def test_dict_batch_interval_and_errors():
    hook = NaiveVisualizationHook(interval=2, draw_gt=False)
    runner = _runner()
    sample = BaseDataElement(
        metainfo=dict(ori_height=4, ori_width=4, img_path='a.png'))
    batch = dict(inputs=[torch.zeros(3, 4, 4)], data_samples=[sample])
    hook.after_test_iter(runner, 0, batch, [BaseDataElement()])
    runner.visualizer.add_datasample.assert_not_called()  # interval 2
    hook.after_test_iter(runner, 1, batch, [BaseDataElement()])
    assert runner.visualizer.add_datasample.call_args.kwargs[
        'draw_gt'] is False
    with pytest.raises(KeyError, match='data_samples'):
        hook.after_test_iter(runner, 1, dict(inputs=[1]), [1])
    with pytest.raises(KeyError, match='batch item 0'):
        hook.after_test_iter(runner, 1, [dict(img=1)], [1])
    with pytest.raises(ValueError, match='interval'):
        NaiveVisualizationHook(interval=0)
