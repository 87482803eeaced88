"""The Visualizer's canvas: the image drawn on, and showing it.

``CanvasMixin`` keeps a matplotlib ``Figure`` with its own off-screen Agg
canvas (not pyplot, so pyplot's global state is left alone). matplotlib is
imported when the first image is set, never at import time; without it the
call raises an ``ImportError`` naming ``pip install 'mmengine[vis]'``.
"""
import warnings
from typing import Any, Optional, Union

import numpy as np
import torch

from .utils import (check_type, img_from_canvas, import_matplotlib,
                    tensor2ndarray, wait_continue)

__all__ = ['CanvasMixin']

_ArrayLike = Union[np.ndarray, torch.Tensor]


def _non_interactive_backends(matplotlib: Any) -> set:
    """Names of matplotlib backends that cannot open a window."""
    names = {'agg', 'cairo', 'pdf', 'pgf', 'ps', 'svg', 'template'}
    try:  # matplotlib >= 3.9
        from matplotlib.backends import BackendFilter, backend_registry
        names.update(
            backend_registry.list_builtin(BackendFilter.NON_INTERACTIVE))
    except ImportError:
        names.update(getattr(matplotlib.rcsetup, 'non_interactive_bk', []))
    return {name.lower() for name in names}


class CanvasMixin:
    """The canvas of the ``Visualizer``: :meth:`set_image` starts one,
    :meth:`get_image` renders it, :meth:`show` displays it. Drawing calls
    (see :class:`~mmengine.visualization.drawing.DrawingMixin`) stack their
    artists on it in call order.
    """

    def _init_drawing(self, fig_save_cfg: dict, fig_show_cfg: dict) -> None:
        """Set the (not yet created) canvas state."""
        self.fig_save_cfg = dict(fig_save_cfg)
        self.fig_show_cfg = dict(fig_show_cfg)
        self.fig_save: Any = None
        self.fig_save_canvas: Any = None
        self.ax_save: Any = None
        self.fig_show: Any = None
        self._image: Optional[np.ndarray] = None
        self.width = self.height = 0
        self.dpi = 100
        self._default_font_size = 10.0
        self._zorder = 0

    def _close_figures(self) -> None:
        if self.fig_show is not None:
            import matplotlib.pyplot as plt
            plt.close(self.fig_show)
            self.fig_show = None

    # ------------------------------------------------------------------
    # canvas
    def _init_canvas(self) -> None:
        import_matplotlib()
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        # A Figure with its own Agg canvas (not pyplot): renders off-screen
        # and leaves pyplot's global state alone.
        fig = Figure(**self.fig_save_cfg)
        self.fig_save_canvas = FigureCanvasAgg(fig)
        self.ax_save = fig.add_axes((0, 0, 1, 1))
        self.ax_save.axis(False)
        self.fig_save = fig
        self.dpi = fig.get_dpi()

    def set_image(self, image: _ArrayLike) -> None:
        """Start a new canvas showing ``image``.

        Args:
            image (np.ndarray | torch.Tensor): RGB ``(H, W, 3)`` or gray
                ``(H, W)`` image; values are cast to ``uint8``.
        """
        image = tensor2ndarray(image)
        check_type('image', image, np.ndarray)
        if image.ndim == 2:
            image = np.stack([image] * 3, axis=-1)
        if image.ndim != 3 or image.shape[2] not in (3, 4):
            raise ValueError('image must have shape (H, W, 3) or (H, W), '
                             f'but got {image.shape}')
        image = image[..., :3].astype(np.uint8)
        if self.fig_save is None:
            self._init_canvas()
        self._image = image
        self.height, self.width = image.shape[:2]
        self._default_font_size = max(
            np.sqrt(self.height * self.width) // 90, 10)
        # +1e-2 so that the integer pixel size is exactly (W, H).
        self.fig_save.set_size_inches((self.width + 1e-2) / self.dpi,
                                      (self.height + 1e-2) / self.dpi)
        ax = self.ax_save
        ax.cla()
        ax.axis(False)
        ax.imshow(
            image,
            extent=(0, self.width, self.height, 0),
            interpolation='none',
            zorder=0)
        self._zorder = 0
        self._fix_limits()

    def _next_zorder(self) -> int:
        # Each drawing call goes on top of the previous ones, whatever the
        # artist type (matplotlib would put images below lines otherwise).
        self._zorder += 1
        return self._zorder

    def _fix_limits(self) -> None:
        # Drawn shapes must not rescale the view.
        self.ax_save.set_xlim(0, self.width)
        self.ax_save.set_ylim(self.height, 0)
        self.ax_save.set_autoscale_on(False)

    def _require_image(self) -> None:
        if self._image is None:
            raise RuntimeError('no image to draw on: call '
                               'Visualizer.set_image(image) first (or pass '
                               'image= to the constructor)')

    def get_image(self) -> np.ndarray:
        """The canvas with everything drawn so far, as RGB ``uint8``
        ``(H, W, 3)``."""
        self._require_image()
        img = img_from_canvas(self.fig_save_canvas)
        # Guard against an off-by-one pixel size from float rounding.
        if img.shape[:2] != (self.height, self.width):
            out = np.zeros((self.height, self.width, 3), dtype=np.uint8)
            h = min(self.height, img.shape[0])
            w = min(self.width, img.shape[1])
            out[:h, :w] = img[:h, :w]
            img = out
        return img

    def show(self,
             drawn_img: Optional[np.ndarray] = None,
             win_name: str = 'image',
             wait_time: float = 0.,
             continue_key: str = ' ',
             backend: str = 'matplotlib') -> None:
        """Show the canvas (or ``drawn_img``) in a window.

        With a non-interactive matplotlib backend (no display, ``Agg``) it
        warns and returns instead of blocking or failing.

        Args:
            drawn_img (np.ndarray, optional): Image to show; defaults to
                :meth:`get_image`.
            win_name (str): Window title. Defaults to ``'image'``.
            wait_time (float): Seconds to wait; 0 waits for
                ``continue_key`` or for the window to close.
            continue_key (str): Key that continues. Defaults to space.
            backend (str): Only ``'matplotlib'`` is supported.
        """
        if backend != 'matplotlib':
            raise ValueError(f"show() supports backend='matplotlib' only, "
                             f'got {backend!r} (cv2 is not used)')
        matplotlib = import_matplotlib()
        img = self.get_image() if drawn_img is None else drawn_img
        current = str(matplotlib.get_backend()).lower()
        if current in _non_interactive_backends(matplotlib):
            warnings.warn(
                f'Visualizer.show: matplotlib backend {current!r} cannot '
                'open a window (no display); the image is not shown. Use '
                'get_image() or add_image() to keep it.')
            return
        import matplotlib.pyplot as plt
        if self.fig_show is None or not plt.fignum_exists(
                self.fig_show.number):
            self.fig_show = plt.figure(**self.fig_show_cfg)
        fig = self.fig_show
        fig.clear()
        if fig.canvas.manager is not None:
            fig.canvas.manager.set_window_title(win_name)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.axis(False)
        ax.imshow(img)
        if 'inline' in current:
            # Notebook inline backend: the figure is displayed, but there is
            # no window to wait on.
            plt.show()
            return
        plt.show(block=False)
        wait_continue(fig, timeout=wait_time, continue_key=continue_key)
