"""The ``Visualizer``: draw on an image, and store images / scalars /
configs / graphs to one or more backends.

Storage works with the core dependencies only. Drawing (see
:mod:`mmengine.visualization.canvas` and
:mod:`mmengine.visualization.drawing`) renders with matplotlib's off-screen
Agg canvas; matplotlib is imported on the first drawing call
(``pip install 'mmengine[vis]'``), never at import or construction time.
"""
import inspect
import os.path as osp
import warnings
from typing import Any, Dict, Optional, Sequence, Union

import numpy as np
import torch

from mmengine.dist import master_only
from mmengine.registry import VISBACKENDS, VISUALIZERS
from mmengine.utils import ManagerMixin
from .base_backend import BaseVisBackend
from .drawing import DrawingMixin

__all__ = ['Visualizer']


def _requires_save_dir(backend_cls: Any) -> bool:
    """Whether ``backend_cls(...)`` has a ``save_dir`` argument without a
    default."""
    try:
        param = inspect.signature(backend_cls).parameters.get('save_dir')
    except (TypeError, ValueError):
        return False
    return param is not None and param.default is inspect.Parameter.empty


@VISUALIZERS.register_module()
class Visualizer(ManagerMixin, DrawingMixin):
    """Draw on images and store visualization data to backends.

    Drawing calls (``draw_bboxes``, ``draw_texts``, ...) accumulate on the
    canvas set by :meth:`set_image`; :meth:`get_image` returns the result.
    Storage calls (``add_scalars``, ``add_image``, ...) fan out to every
    backend. Any module can reach the run's visualizer with
    ``Visualizer.get_current_instance()``.

    Args:
        name (str): Instance name. Defaults to ``'visualizer'``.
        image (np.ndarray, optional): RGB image ``(H, W, 3)`` to draw on.
        vis_backends (dict | BaseVisBackend | list, optional): Backend
            configs (``dict(type='LocalVisBackend', name=...)``) or
            instances. ``name`` tells two backends of one type apart.
        save_dir (str, optional): Output root; backends write to
            ``<save_dir>/vis_data`` (unless ``save_dir`` already ends with
            ``vis_data``). Backends that need a directory are skipped, with
            a warning, when it is None.
        fig_save_cfg (dict): Keyword arguments of the off-screen figure.
        fig_show_cfg (dict): Keyword arguments of the figure of ``show``.
    """

    def __init__(self,
                 name: str = 'visualizer',
                 image: Optional[np.ndarray] = None,
                 vis_backends: Union[dict, BaseVisBackend, Sequence,
                                     None] = None,
                 save_dir: Optional[str] = None,
                 fig_save_cfg: dict = dict(frameon=False),
                 fig_show_cfg: dict = dict(frameon=False)) -> None:
        super().__init__(name)
        self._dataset_meta: Optional[dict] = None
        self._vis_backends: Dict[str, Any] = {}
        if save_dir is not None and osp.basename(
                osp.normpath(str(save_dir))) != 'vis_data':
            save_dir = osp.join(str(save_dir), 'vis_data')
        self._save_dir = save_dir
        if vis_backends is not None:
            self._build_backends(vis_backends, save_dir)

        self._init_drawing(fig_save_cfg, fig_show_cfg)
        if image is not None:
            self.set_image(image)

    # ------------------------------------------------------------------
    # backends
    def _build_backends(self, vis_backends: Any,
                        save_dir: Optional[str]) -> None:
        if isinstance(vis_backends, (dict, BaseVisBackend)):
            vis_backends = [vis_backends]
        if not isinstance(vis_backends, (list, tuple)) or not all(
                isinstance(b, (dict, BaseVisBackend)) for b in vis_backends):
            raise TypeError(
                'vis_backends must be a dict, a BaseVisBackend or a list of '
                f'them, but got {vis_backends!r}')
        for backend in vis_backends:
            name = None
            if isinstance(backend, dict):
                cfg = dict(backend)
                name = cfg.pop('name', None)
                if 'type' not in cfg:
                    raise KeyError(
                        f'vis backend config {backend!r} has no "type" key')
                backend_type = cfg['type']
                backend_cls = (
                    backend_type if inspect.isclass(backend_type) else
                    VISBACKENDS.get(backend_type))
                if 'save_dir' not in cfg:
                    if save_dir is not None:
                        cfg['save_dir'] = save_dir
                    elif backend_cls is not None and _requires_save_dir(
                            backend_cls):
                        warnings.warn(
                            f'vis backend {backend_type!r} is not built '
                            'because it needs a save_dir and the Visualizer '
                            'got none; pass save_dir to the Visualizer (the '
                            'Runner passes its log_dir) to store its data.')
                        continue
                backend = VISBACKENDS.build(cfg)
            name = name or type(backend).__name__
            if name in self._vis_backends:
                raise RuntimeError(
                    f'vis backend name {name!r} is used twice; give each '
                    'backend of the same type a distinct `name`')
            self._vis_backends[name] = backend

    def get_backend(self, name: str) -> Optional[BaseVisBackend]:
        """The backend called ``name`` (its ``name`` or class name), or
        None."""
        return self._vis_backends.get(name)

    @property
    def dataset_meta(self) -> Optional[dict]:
        """Meta information of the dataset (classes, palette, ...)."""
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: Optional[dict]) -> None:
        if dataset_meta is not None and not isinstance(dataset_meta, dict):
            raise TypeError('dataset_meta must be a dict or None, but got '
                            f'{type(dataset_meta).__name__}')
        self._dataset_meta = dataset_meta

    # ------------------------------------------------------------------
    # storage: fan out to every backend (rank 0 only)
    @master_only
    def add_config(self, config: Any, **kwargs) -> None:
        """Store the run's config in every backend."""
        for backend in self._vis_backends.values():
            backend.add_config(config, **kwargs)

    @master_only
    def add_graph(self, model: torch.nn.Module, data_batch: Any,
                  **kwargs) -> None:
        """Store the model graph in every backend that supports it."""
        for backend in self._vis_backends.values():
            backend.add_graph(model, data_batch, **kwargs)

    @master_only
    def add_image(self, name: str, image: np.ndarray, step: int = 0) -> None:
        """Store an RGB ``uint8`` image ``(H, W, 3)`` in every backend."""
        for backend in self._vis_backends.values():
            backend.add_image(name, image, step)

    @master_only
    def add_scalar(self,
                   name: str,
                   value: Union[int, float, torch.Tensor, np.ndarray],
                   step: int = 0,
                   **kwargs) -> None:
        """Store one scalar in every backend."""
        for backend in self._vis_backends.values():
            backend.add_scalar(name, value, step, **kwargs)

    @master_only
    def add_scalars(self,
                    scalar_dict: dict,
                    step: int = 0,
                    file_path: Optional[str] = None,
                    **kwargs) -> None:
        """Store several scalars at ``step`` in every backend.

        Args:
            scalar_dict (dict): Name -> value.
            step (int): Global step. Defaults to 0.
            file_path (str, optional): Extra JSON file (relative to the
                local backend's directory) the scalars also go to.
        """
        for backend in self._vis_backends.values():
            backend.add_scalars(scalar_dict, step, file_path, **kwargs)

    @master_only
    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample: Any = None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       step: int = 0) -> None:
        """Draw a data sample's annotations / predictions and store it.

        The base class knows no task format, so it draws nothing; task
        visualizers (e.g. ``DetLocalVisualizer``) override this.

        Args:
            name (str): Image identifier.
            image (np.ndarray): The image.
            data_sample (BaseDataElement, optional): Annotations and
                predictions.
            draw_gt (bool): Draw ground truth. Defaults to True.
            draw_pred (bool): Draw predictions. Defaults to True.
            show (bool): Show the result. Defaults to False.
            wait_time (float): Seconds to show it. Defaults to 0.
            step (int): Global step. Defaults to 0.
        """

    def close(self) -> None:
        """Close every backend and release the figures."""
        for backend in self._vis_backends.values():
            backend.close()
        self._close_figures()
