"""``BaseTTAModel``: run a model on every test-time augmentation and fuse."""
import copy
from abc import abstractmethod
from typing import Any, Dict, List, Optional, Union

import torch.nn as nn

from mmengine.registry import MODELS
from .base_model import BaseModel

__all__ = ['BaseTTAModel']


def _split_augmentations(data: Union[dict, list, tuple]) -> list:
    """Turn a batch whose values are per-augmentation lists into a list of
    per-augmentation batches."""
    if isinstance(data, dict):
        if not data:
            raise ValueError('BaseTTAModel.test_step got an empty dict batch')
        lengths = {}
        for key, value in data.items():
            if not isinstance(value, (list, tuple)):
                raise TypeError(
                    'BaseTTAModel.test_step expects every value of the batch '
                    'to be a list with one entry per augmentation (the output '
                    f'of a TestTimeAug pipeline), but "{key}" is '
                    f'{type(value)}')
            lengths[key] = len(value)
        if len(set(lengths.values())) != 1:
            raise ValueError('BaseTTAModel.test_step: every value of the '
                             'batch must hold the same number of '
                             f'augmentations, but got lengths {lengths}')
        num_augs = next(iter(lengths.values()))
        return [{key: value[i]
                 for key, value in data.items()}
                for i in range(num_augs)]
    if isinstance(data, (list, tuple)):
        if len(data) == 0:
            raise ValueError('BaseTTAModel.test_step got an empty batch')
        for idx, value in enumerate(data):
            if not isinstance(value, (list, tuple)):
                raise TypeError(
                    'BaseTTAModel.test_step expects every item of the batch '
                    'to be a list with one entry per augmentation (the output '
                    f'of a TestTimeAug pipeline), but item {idx} is '
                    f'{type(value)}')
        lengths_list = [len(value) for value in data]
        if len(set(lengths_list)) != 1:
            raise ValueError('BaseTTAModel.test_step: every item of the batch '
                             'must hold the same number of augmentations, '
                             f'but got lengths {lengths_list}')
        return [[value[i] for value in data] for i in range(lengths_list[0])]
    raise TypeError('BaseTTAModel.test_step expects a dict, list or tuple '
                    f'batch, but got {type(data)}')


class BaseTTAModel(BaseModel):
    """Base class of test-time-augmentation models.

    The test dataloader uses a ``TestTimeAug`` pipeline, so each value of a
    batch is a list with one entry per augmentation, e.g.
    ``dict(inputs=[aug0_batch, aug1_batch], data_samples=[aug0, aug1])``.
    ``test_step`` splits it into one batch per augmentation, runs
    ``module.test_step`` on each, regroups the predictions per sample::

        [[sample0_aug0, sample0_aug1, ...], [sample1_aug0, ...], ...]

    and returns ``merge_preds`` of that list. Subclasses implement
    ``merge_preds`` (e.g. average classification scores); complex cases may
    override ``test_step``.

    Typical use: ``cfg.model = dict(**cfg.tta_model, module=cfg.model)``.

    Args:
        module (nn.Module | dict): The model, or its config (built with
            ``MODELS``).
        data_preprocessor (dict | nn.Module, optional): Preprocessor of the
            wrapped model, only usable when ``module`` is a config: it is put
            into that config. Defaults to None.
    """

    def __init__(self,
                 module: Union[dict, nn.Module],
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None):
        super().__init__()
        if isinstance(module, nn.Module):
            if data_preprocessor is not None:
                raise ValueError(
                    f'{type(self).__name__}: data_preprocessor can only be '
                    'given together with a module config (dict); the given '
                    'module is already built, set its data_preprocessor '
                    'instead')
            self.module = module
        elif isinstance(module, dict):
            module = copy.copy(module)
            if data_preprocessor is not None:
                module['data_preprocessor'] = data_preprocessor
            self.module = MODELS.build(module)
        else:
            raise TypeError(f'{type(self).__name__}: module must be an '
                            'nn.Module or a config dict, but got '
                            f'{type(module)}')
        if not callable(getattr(self.module, 'test_step', None)):
            raise TypeError(f'{type(self).__name__}: the wrapped module '
                            f'{type(self.module).__name__} has no test_step '
                            'method; wrap a BaseModel')

    @abstractmethod
    def merge_preds(self, data_samples_list: List[List[Any]]) -> List[Any]:
        """Fuse the augmented predictions of every sample.

        Args:
            data_samples_list (list[list]): For each sample, the predictions
                of all its augmentations.

        Returns:
            list: One merged prediction per sample.
        """

    def test_step(self, data: Union[Dict[str, list], list, tuple]) -> list:
        """Predict every augmentation with ``module.test_step`` and merge.

        Args:
            data (dict | list | tuple): A batch whose values (dict) or items
                (list/tuple) are lists with one entry per augmentation.

        Returns:
            list: ``merge_preds`` of the per-sample predictions.
        """
        predictions = [
            self.module.test_step(aug_data)
            for aug_data in _split_augmentations(data)
        ]
        lengths = [len(p) for p in predictions]
        if len(set(lengths)) != 1:
            raise ValueError(f'{type(self).__name__}: module.test_step '
                             'returned different numbers of predictions for '
                             f'the augmentations: {lengths}')
        per_sample = [list(preds) for preds in zip(*predictions)]
        return self.merge_preds(per_sample)

    def forward(self, *args, **kwargs):
        """Not used: a TTA model only predicts through ``test_step``."""
        raise RuntimeError(
            f'{type(self).__name__} only supports test_step (test-time '
            'augmentation); call the wrapped model (`.module`) to run a '
            'plain forward')
