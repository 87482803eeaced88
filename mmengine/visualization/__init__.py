"""Visualization: the ``Visualizer`` and its storage backends.

Importing this package registers ``Visualizer`` in ``VISUALIZERS`` and every
backend in ``VISBACKENDS``. It does not import matplotlib (needed only for
drawing) nor any tracker client.
"""
from .base_backend import BaseVisBackend
from .vis_backend import (AimVisBackend, ClearMLVisBackend,
                          DVCLiveVisBackend, LocalVisBackend,
                          MLflowVisBackend, NeptuneVisBackend,
                          TensorboardVisBackend, WandbVisBackend)
from .visualizer import Visualizer

__all__ = [
    'Visualizer', 'BaseVisBackend', 'LocalVisBackend', 'WandbVisBackend',
    'TensorboardVisBackend', 'MLflowVisBackend', 'ClearMLVisBackend',
    'NeptuneVisBackend', 'DVCLiveVisBackend', 'AimVisBackend'
]
