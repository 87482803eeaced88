"""Wrappers over torch operators whose defaults changed across versions."""
from typing import Tuple

import torch


def torch_meshgrid(*tensors: torch.Tensor) -> Tuple[torch.Tensor, ...]:
    """``torch.meshgrid`` with matrix (``'ij'``) indexing, without the
    warning torch gives when ``indexing`` is left out.

    Args:
        *tensors (Tensor): 1-D tensors (or one sequence of them).

    Returns:
        tuple[Tensor]: one grid per input, each of shape
        ``(len(t0), len(t1), ...)``.
    """
    return torch.meshgrid(*tensors, indexing='ij')
