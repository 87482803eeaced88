"""Torch version and the private torch base classes of common layer kinds.

The module name is kept from the original engine (it once also covered the
Parrots framework) so that downstream deep imports keep working.
"""
import torch

TORCH_VERSION: str = torch.__version__


def get_build_config() -> str:
    """Return how PyTorch was built (``torch.__config__.show()``)."""
    return torch.__config__.show()


# Base classes used to recognise layer kinds with ``isinstance``.
from torch.nn.modules.batchnorm import _BatchNorm  # noqa: E402
from torch.nn.modules.conv import _ConvNd, _ConvTransposeMixin  # noqa: E402
from torch.nn.modules.instancenorm import _InstanceNorm  # noqa: E402
from torch.nn.modules.pooling import (_AdaptiveAvgPoolNd,  # noqa: E402
                                      _AdaptiveMaxPoolNd, _AvgPoolNd,
                                      _MaxPoolNd)

__all__ = [
    'TORCH_VERSION', 'get_build_config', '_BatchNorm', '_ConvNd',
    '_ConvTransposeMixin', '_InstanceNorm', '_AdaptiveAvgPoolNd',
    '_AdaptiveMaxPoolNd', '_AvgPoolNd', '_MaxPoolNd'
]
