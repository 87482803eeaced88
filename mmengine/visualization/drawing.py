"""Drawing primitives of the Visualizer.

``DrawingMixin`` adds to the canvas (:mod:`mmengine.visualization.canvas`)
boxes, points, texts, lines, circles, polygons and binary masks, drawn with
matplotlib artists, and feature-map rendering (pure NumPy/torch, see
:mod:`mmengine.visualization.featmap`).
"""
import warnings
from typing import Any, List, Optional, Tuple, Union

import numpy as np
import torch

from .canvas import CanvasMixin
from .featmap import draw_featmap as _draw_featmap
from .utils import (check_length, check_type, check_type_and_length,
                    color_val_matplotlib, tensor2ndarray, value2list)

__all__ = ['DrawingMixin']

_ArrayLike = Union[np.ndarray, torch.Tensor]
_Color = Union[str, tuple, List[str], List[tuple]]


def _to_rgb01(color: Union[str, tuple]) -> tuple:
    """A colour name / RGB 0-255 tuple as matplotlib RGB floats."""
    from matplotlib.colors import to_rgb
    try:
        return to_rgb(color_val_matplotlib(color))
    except ValueError as e:
        raise ValueError(f'unknown color {color!r}: use a matplotlib '
                         'colour name or an RGB tuple in 0-255') from e


def _check_colors(name: str, colors: _Color) -> Union[str, tuple, list]:
    """Validate colour argument ``name`` and convert it for matplotlib."""
    from matplotlib.colors import to_rgba
    converted = color_val_matplotlib(colors)
    for color in (converted if isinstance(converted, list) else [converted]):
        try:
            to_rgba(color)
        except ValueError as e:
            raise ValueError(f'{name}: unknown color {color!r}; use a '
                             'matplotlib colour name or an RGB tuple in '
                             '0-255') from e
    return converted


class DrawingMixin(CanvasMixin):
    """Drawing primitives of the ``Visualizer``.

    Drawing calls accumulate on the canvas set by :meth:`set_image`, each
    on top of the previous ones; :meth:`get_image` returns the result. All
    primitives except text accept ``np.ndarray`` and ``torch.Tensor``, and
    return the visualizer so calls can be chained.
    """

    # ------------------------------------------------------------------
    # drawing helpers
    def _is_posion_valid(self, position: np.ndarray) -> bool:
        """Whether every ``(x, y)`` in ``position`` lies in the image."""
        position = np.asarray(position).reshape(-1, 2)
        return bool((position[:, 0] >= 0).all()
                    and (position[:, 0] <= self.width).all()
                    and (position[:, 1] >= 0).all()
                    and (position[:, 1] <= self.height).all())

    @staticmethod
    def _as_points(name: str, value: Any) -> np.ndarray:
        check_type(name, value, (np.ndarray, torch.Tensor))
        value = np.asarray(tensor2ndarray(value), dtype=np.float64)
        if value.ndim == 1:
            value = value[None]
        if value.ndim != 2 or value.shape[1] != 2:
            raise ValueError(f'{name} must have shape (2,) or (N, 2), '
                             f'but got {value.shape}')
        return value

    @staticmethod
    def _per_item(name: str, value: Any, single: Any, n: int) -> list:
        """Broadcast a style argument to one value per drawn item."""
        check_length(name, value, n)
        return value2list(value, single, n)

    def _collection_style(self, n: int, edge_colors: _Color,
                          line_styles: Any, line_widths: Any,
                          face_colors: _Color) -> dict:
        check_type('edge_colors', edge_colors, (str, tuple, list))
        check_type('face_colors', face_colors, (str, tuple, list))
        check_type_and_length('line_styles', line_styles, (str, list), n)
        check_type_and_length('line_widths', line_widths,
                              (int, float, list), n)
        edge = _check_colors('edge_colors', edge_colors)
        face = _check_colors('face_colors', face_colors)
        check_length('edge_colors', edge, n)
        check_length('face_colors', face, n)
        return dict(
            edgecolors=edge,
            facecolors=face,
            linestyles=self._per_item('line_styles', line_styles, str, n),
            linewidths=self._per_item('line_widths', line_widths,
                                      (int, float), n))

    # ------------------------------------------------------------------
    # drawing primitives
    def draw_points(self,
                    positions: _ArrayLike,
                    colors: _Color = 'g',
                    marker: Optional[str] = None,
                    sizes: Optional[_ArrayLike] = None) -> 'DrawingMixin':
        """Draw points.

        Args:
            positions (np.ndarray | torch.Tensor): ``(2,)`` or ``(N, 2)``
                ``(x, y)`` positions.
            colors (str | tuple | list): One colour or one per point.
            marker (str, optional): Matplotlib marker.
            sizes (np.ndarray | torch.Tensor, optional): Marker sizes.
        """
        self._require_image()
        positions = self._as_points('positions', positions)
        if not self._is_posion_valid(positions):
            warnings.warn('Warning: some points are out of the image; '
                          'they may not be drawn.')
        check_type('colors', colors, (str, tuple, list))
        colors = _check_colors('colors', colors)
        check_length('colors', colors, len(positions))
        if sizes is not None:
            sizes = np.asarray(tensor2ndarray(sizes))
        # ``color=`` for one colour: an RGB tuple passed as ``c`` would be
        # read as per-point values when there are 3 points.
        color_kw = dict(c=colors) if isinstance(colors, list) else dict(
            color=colors)
        self.ax_save.scatter(
            positions[:, 0],
            positions[:, 1],
            s=sizes,
            marker=marker,
            zorder=self._next_zorder(),
            **color_kw)
        self._fix_limits()
        return self

    def draw_texts(self,
                   texts: Union[str, List[str]],
                   positions: _ArrayLike,
                   font_sizes: Union[int, float, List, None] = None,
                   colors: _Color = 'g',
                   vertical_alignments: Union[str, List[str]] = 'top',
                   horizontal_alignments: Union[str, List[str]] = 'left',
                   font_families: Union[str, List[str]] = 'sans-serif',
                   bboxes: Union[dict, List[dict], None] = None,
                   font_properties: Any = None) -> 'DrawingMixin':
        """Draw text(s).

        Args:
            texts (str | list[str]): The text(s).
            positions (np.ndarray | torch.Tensor): ``(2,)`` or ``(N, 2)``
                anchor positions.
            font_sizes (int | float | list, optional): Font sizes;
                default scales with the image.
            colors (str | tuple | list): Text colours.
            vertical_alignments (str | list): ``'center'``, ``'top'``,
                ``'bottom'`` or ``'baseline'``.
            horizontal_alignments (str | list): ``'center'``, ``'right'``
                or ``'left'``.
            font_families (str | list): Font families.
            bboxes (dict | list[dict], optional): Box properties drawn
                behind each text (matplotlib ``bbox``).
            font_properties (FontProperties | list, optional): Fonts.
        """
        self._require_image()
        check_type('texts', texts, (str, list))
        if isinstance(texts, str):
            texts = [texts]
        for i, text in enumerate(texts):
            check_type(f'texts[{i}]', text, str)
        n = len(texts)
        positions = self._as_points('positions', positions)
        if len(positions) != n:
            raise ValueError(f'got {n} texts but {len(positions)} '
                             'positions; give one position per text')
        if not self._is_posion_valid(positions):
            warnings.warn('Warning: some text positions are out of the '
                          'image; they may not be drawn.')
        if font_sizes is None:
            font_sizes = self._default_font_size
        check_type_and_length('font_sizes', font_sizes, (int, float, list),
                              n)
        font_sizes = value2list(font_sizes, (int, float), n)
        check_type('colors', colors, (str, tuple, list))
        colors = value2list(
            _check_colors('colors', colors), (str, tuple), n)
        check_length('colors', colors, n)
        check_type_and_length('vertical_alignments', vertical_alignments,
                              (str, list), n)
        vertical_alignments = value2list(vertical_alignments, str, n)
        check_type_and_length('horizontal_alignments',
                              horizontal_alignments, (str, list), n)
        horizontal_alignments = value2list(horizontal_alignments, str, n)
        check_type_and_length('font_families', font_families, (str, list), n)
        font_families = value2list(font_families, str, n)
        if bboxes is None:
            bboxes = [None] * n
        else:
            check_type_and_length('bboxes', bboxes, (dict, list), n)
            bboxes = value2list(bboxes, dict, n)
        if font_properties is None or not isinstance(font_properties, list):
            font_properties = [font_properties] * n
        check_length('font_properties', font_properties, n)
        zorder = self._next_zorder()
        for i in range(n):
            self.ax_save.text(
                positions[i][0],
                positions[i][1],
                texts[i],
                size=font_sizes[i],
                bbox=bboxes[i],
                verticalalignment=vertical_alignments[i],
                horizontalalignment=horizontal_alignments[i],
                family=font_families[i],
                fontproperties=font_properties[i],
                color=colors[i],
                zorder=zorder)
        return self

    def draw_lines(self,
                   x_datas: _ArrayLike,
                   y_datas: _ArrayLike,
                   colors: _Color = 'g',
                   line_styles: Union[str, List[str]] = '-',
                   line_widths: Union[int, float, List] = 2) -> 'DrawingMixin':
        """Draw line segments.

        Args:
            x_datas (np.ndarray | torch.Tensor): ``(2,)`` or ``(N, 2)``;
                row ``i`` is ``[x_start, x_end]`` of segment ``i``.
            y_datas (np.ndarray | torch.Tensor): Same for y.
            colors, line_styles, line_widths: One value or one per line.
        """
        self._require_image()
        from matplotlib.collections import LineCollection
        xs = self._as_points('x_datas', x_datas)
        ys = self._as_points('y_datas', y_datas)
        if xs.shape != ys.shape:
            raise ValueError('x_datas and y_datas must have the same shape, '
                             f'got {xs.shape} and {ys.shape}')
        segments = np.stack([xs, ys], axis=-1)  # (N, 2 points, xy)
        if not self._is_posion_valid(segments):
            warnings.warn('Warning: some lines are out of the image; they '
                          'may not be fully drawn.')
        n = len(segments)
        check_type('colors', colors, (str, tuple, list))
        colors = _check_colors('colors', colors)
        check_length('colors', colors, n)
        check_type_and_length('line_styles', line_styles, (str, list), n)
        check_type_and_length('line_widths', line_widths, (int, float, list),
                              n)
        self.ax_save.add_collection(
            LineCollection(
                segments,
                colors=colors,
                linestyles=value2list(line_styles, str, n),
                linewidths=value2list(line_widths, (int, float), n),
                zorder=self._next_zorder()))
        self._fix_limits()
        return self

    def draw_circles(self,
                     center: _ArrayLike,
                     radius: Union[int, float, _ArrayLike],
                     edge_colors: _Color = 'g',
                     line_styles: Union[str, List[str]] = '-',
                     line_widths: Union[int, float, List] = 2,
                     face_colors: _Color = 'none',
                     alpha: Union[float, int] = 0.8) -> 'DrawingMixin':
        """Draw circles.

        Args:
            center (np.ndarray | torch.Tensor): ``(2,)`` or ``(N, 2)``.
            radius (number | np.ndarray | torch.Tensor): One radius or
                ``(N,)``.
            edge_colors, line_styles, line_widths, face_colors: One value
                or one per circle.
            alpha (float): Transparency. Defaults to 0.8.
        """
        self._require_image()
        from matplotlib.collections import PatchCollection
        from matplotlib.patches import Circle
        center = self._as_points('center', center)
        n = len(center)
        if isinstance(radius, (int, float)):
            radius = np.full(n, float(radius))
        else:
            check_type('radius', radius, (np.ndarray, torch.Tensor))
            radius = np.asarray(tensor2ndarray(radius),
                                dtype=np.float64).reshape(-1)
        if len(radius) != n:
            raise ValueError(f'got {n} centers but {len(radius)} radii')
        if (radius < 0).any():
            raise ValueError('radius must be non-negative')
        lo = center - radius[:, None]
        hi = center + radius[:, None]
        if not (self._is_posion_valid(lo) and self._is_posion_valid(hi)):
            warnings.warn('Warning: some circles are out of the image; they '
                          'may not be fully drawn.')
        style = self._collection_style(n, edge_colors, line_styles,
                                       line_widths, face_colors)
        circles = [Circle(tuple(c), r) for c, r in zip(center, radius)]
        self.ax_save.add_collection(
            PatchCollection(
                circles, alpha=alpha, zorder=self._next_zorder(), **style))
        self._fix_limits()
        return self

    def draw_bboxes(self,
                    bboxes: _ArrayLike,
                    edge_colors: _Color = 'g',
                    line_styles: Union[str, List[str]] = '-',
                    line_widths: Union[int, float, List] = 2,
                    face_colors: _Color = 'none',
                    alpha: Union[int, float] = 0.8) -> 'DrawingMixin':
        """Draw boxes in ``(x1, y1, x2, y2)`` pixel format.

        Args:
            bboxes (np.ndarray | torch.Tensor): ``(4,)`` or ``(N, 4)``.
            edge_colors, line_styles, line_widths, face_colors: One value
                or one per box.
            alpha (float): Transparency. Defaults to 0.8.
        """
        self._require_image()
        check_type('bboxes', bboxes, (np.ndarray, torch.Tensor))
        bboxes = np.asarray(tensor2ndarray(bboxes), dtype=np.float64)
        if bboxes.ndim == 1:
            bboxes = bboxes[None]
        if bboxes.ndim != 2 or bboxes.shape[1] != 4:
            raise ValueError('bboxes must have shape (4,) or (N, 4) in '
                             f'(x1, y1, x2, y2) format, got {bboxes.shape}')
        if not ((bboxes[:, 0] <= bboxes[:, 2]).all() and
                (bboxes[:, 1] <= bboxes[:, 3]).all()):
            raise ValueError('bboxes must satisfy x1 <= x2 and y1 <= y2 '
                             '(xyxy format)')
        if not self._is_posion_valid(bboxes.reshape(-1, 2)):
            warnings.warn('Warning: The bbox is out of bounds, the drawn '
                          'bbox may not be in the image')
        x1, y1, x2, y2 = bboxes.T
        polygons = np.stack([
            np.stack([x1, y1], -1),
            np.stack([x2, y1], -1),
            np.stack([x2, y2], -1),
            np.stack([x1, y2], -1)
        ], axis=1)  # (N, 4 corners, xy)
        return self.draw_polygons(
            list(polygons),
            alpha=alpha,
            edge_colors=edge_colors,
            line_styles=line_styles,
            line_widths=line_widths,
            face_colors=face_colors)

    def draw_polygons(self,
                      polygons: Union[_ArrayLike, List[_ArrayLike]],
                      edge_colors: _Color = 'g',
                      line_styles: Union[str, List[str]] = '-',
                      line_widths: Union[int, float, List] = 2,
                      face_colors: _Color = 'none',
                      alpha: Union[int, float] = 0.8) -> 'DrawingMixin':
        """Draw closed polygons.

        Args:
            polygons (np.ndarray | torch.Tensor | list): One ``(K, 2)``
                polygon or a list of them.
            edge_colors, line_styles, line_widths, face_colors: One value
                or one per polygon.
            alpha (float): Transparency. Defaults to 0.8.
        """
        self._require_image()
        from matplotlib.collections import PolyCollection
        check_type('polygons', polygons, (list, np.ndarray, torch.Tensor))
        if not isinstance(polygons, list):
            polygons = [polygons]
        polys = [
            self._as_points(f'polygons[{i}]', p)
            for i, p in enumerate(polygons)
        ]
        for poly in polys:
            if not self._is_posion_valid(poly):
                warnings.warn('Warning: The polygon is out of bounds, the '
                              'drawn polygon may not be in the image')
                break
        style = self._collection_style(
            len(polys), edge_colors, line_styles, line_widths, face_colors)
        self.ax_save.add_collection(
            PolyCollection(
                polys,
                closed=True,
                alpha=alpha,
                zorder=self._next_zorder(),
                **style))
        self._fix_limits()
        return self

    def draw_binary_masks(self,
                          binary_masks: _ArrayLike,
                          colors: _Color = 'g',
                          alphas: Union[float, List[float]] = 0.8
                          ) -> 'DrawingMixin':
        """Blend boolean masks over the image.

        Args:
            binary_masks (np.ndarray | torch.Tensor): ``(H, W)`` or
                ``(N, H, W)`` boolean masks of the image's size.
            colors (str | tuple | list): One colour or one per mask.
            alphas (float | list[float]): Opacity of each mask.
        """
        self._require_image()
        check_type('binary_masks', binary_masks, (np.ndarray, torch.Tensor))
        masks = np.asarray(tensor2ndarray(binary_masks))
        if masks.dtype != np.bool_:
            raise TypeError('binary_masks must be boolean, but got dtype '
                            f'{masks.dtype}')
        if masks.ndim == 2:
            masks = masks[None]
        if masks.ndim != 3 or masks.shape[1:] != (self.height, self.width):
            raise ValueError(
                'binary_masks must have shape (H, W) or (N, H, W) matching '
                f'the image ({self.height}, {self.width}), got '
                f'{tuple(np.shape(binary_masks))}')
        n = len(masks)
        check_type('colors', colors, (str, tuple, list))
        colors = value2list(colors, (str, tuple), n)
        check_length('colors', colors, n)
        check_type_and_length('alphas', alphas, (int, float, list), n)
        alphas = value2list(alphas, (int, float), n)
        for mask, color, alpha in zip(masks, colors, alphas):
            if not 0 <= alpha <= 1:
                raise ValueError(f'alphas must be in [0, 1], got {alpha}')
            rgb = _to_rgb01(color)
            overlay = np.zeros((self.height, self.width, 4), np.float32)
            overlay[mask] = (*rgb, alpha)
            # An RGBA layer is alpha-composited by Agg over what is drawn.
            self.ax_save.imshow(
                overlay,
                extent=(0, self.width, self.height, 0),
                interpolation='nearest',
                zorder=self._next_zorder())
        self._fix_limits()
        return self

    @staticmethod
    def draw_featmap(featmap: torch.Tensor,
                     overlaid_image: Optional[np.ndarray] = None,
                     channel_reduction: Optional[str] = 'squeeze_mean',
                     topk: int = 20,
                     arrangement: Tuple[int, int] = (4, 5),
                     resize_shape: Optional[tuple] = None,
                     alpha: float = 0.5) -> np.ndarray:
        """Render a ``(C, H, W)`` feature map as an RGB heat-map image.

        See :func:`mmengine.visualization.featmap.draw_featmap`.
        """
        return _draw_featmap(featmap, overlaid_image, channel_reduction,
                             topk, arrangement, resize_shape, alpha)
