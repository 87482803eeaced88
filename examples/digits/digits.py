"""A complete small example: classify scikit-learn's 8x8 handwritten digits.

The data ships with scikit-learn (``pip install scikit-learn``), so the
example runs offline. It registers three components the config names by
string: ``DigitsDataset``, ``DigitsMLP`` and ``DigitsAccuracy``.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset

from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, METRICS, MODELS


@DATASETS.register_module()
class DigitsDataset(Dataset):
    """scikit-learn's digits (1797 images, 8x8, 10 classes), split into a
    fixed train and val part.

    Args:
        split (str): ``'train'`` or ``'val'``.
        val_fraction (float): Share of the images held out for ``'val'``.
        seed (int): Seed of the permutation that splits the images.
    """

    def __init__(self,
                 split: str = 'train',
                 val_fraction: float = 0.2,
                 seed: int = 0) -> None:
        if split not in ('train', 'val'):
            raise ValueError(
                f"DigitsDataset split must be 'train' or 'val', got {split!r}")
        try:
            from sklearn.datasets import load_digits
        except ImportError as e:
            raise ImportError(
                'the digits example needs scikit-learn: '
                'pip install scikit-learn') from e
        digits = load_digits()
        images = torch.as_tensor(digits.data, dtype=torch.float32) / 16.0
        labels = torch.as_tensor(digits.target, dtype=torch.long)
        order = torch.randperm(
            len(labels), generator=torch.Generator().manual_seed(seed))
        num_val = int(len(labels) * val_fraction)
        keep = order[:num_val] if split == 'val' else order[num_val:]
        self.images, self.labels = images[keep], labels[keep]
        self.metainfo = dict(classes=tuple(str(i) for i in range(10)))

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, idx: int) -> Dict[str, torch.Tensor]:
        return dict(inputs=self.images[idx], labels=self.labels[idx])


@MODELS.register_module()
class DigitsMLP(BaseModel):
    """A two-layer perceptron on the 64 pixel values.

    ``forward(inputs, labels, mode)`` follows the BaseModel contract:
    ``'loss'`` returns ``dict(loss=...)``, ``'predict'`` returns
    ``(logits, labels)`` for the metric, ``'tensor'`` the logits.
    """

    def __init__(self, hidden: int = 128, num_classes: int = 10) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))

    def forward(self,
                inputs: torch.Tensor,
                labels: Optional[torch.Tensor] = None,
                mode: str = 'tensor'
                ) -> Union[Dict[str, torch.Tensor], Tuple, torch.Tensor]:
        logits = self.net(inputs)
        if mode == 'loss':
            return dict(loss=F.cross_entropy(logits, labels))
        if mode == 'predict':
            return logits, labels
        return logits


@METRICS.register_module()
class DigitsAccuracy(BaseMetric):
    """Top-1 accuracy in percent, reported as ``accuracy``."""

    def process(self, data_batch: dict, data_samples: Sequence) -> None:
        logits, labels = data_samples
        self.results.append(
            dict(
                batch_size=len(labels),
                correct=int((logits.argmax(1) == labels).sum())))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        total = sum(r['batch_size'] for r in results)
        correct = sum(r['correct'] for r in results)
        return dict(accuracy=100.0 * correct / total)
