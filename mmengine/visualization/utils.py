"""Helpers for the Visualizer and its backends.

Everything here works with NumPy only (plus torch for tensor inputs);
nothing imports matplotlib at module level, so the visualization package can
be imported, and images stored, without the ``[vis]`` extra.
"""
import struct
import zlib
from typing import Any, List, Optional, Tuple, Type, Union

import numpy as np

__all__ = [
    'color_val_matplotlib', 'color_str2rgb', 'convert_overlay_heatmap',
    'img_from_canvas', 'get_adaptive_scale', 'wait_continue', 'check_type',
    'check_length', 'check_type_and_length', 'value2list', 'tensor2ndarray',
    'encode_png', 'jet_colormap', 'import_matplotlib'
]

VIS_EXTRA_HINT = "pip install 'mmengine[vis]'"

# Named colours accepted everywhere a colour is expected (matplotlib's basic
# single-letter names plus common words), as RGB 0-255.
_NAMED_COLORS = {
    'b': (0, 0, 255), 'blue': (0, 0, 255),
    'g': (0, 128, 0), 'green': (0, 128, 0),
    'r': (255, 0, 0), 'red': (255, 0, 0),
    'c': (0, 191, 191), 'cyan': (0, 255, 255),
    'm': (191, 0, 191), 'magenta': (255, 0, 255),
    'y': (191, 191, 0), 'yellow': (255, 255, 0),
    'k': (0, 0, 0), 'black': (0, 0, 0),
    'w': (255, 255, 255), 'white': (255, 255, 255),
    'gray': (128, 128, 128), 'grey': (128, 128, 128),
    'orange': (255, 165, 0), 'purple': (128, 0, 128),
    'pink': (255, 192, 203), 'brown': (165, 42, 42),
    'lime': (0, 255, 0), 'navy': (0, 0, 128),
}


def import_matplotlib():
    """Import matplotlib for off-screen drawing, or explain how to get it.

    Returns:
        module: the ``matplotlib`` module.

    Raises:
        ImportError: naming the ``[vis]`` extra when matplotlib is missing.
    """
    try:
        import matplotlib
    except ImportError as e:
        raise ImportError(
            'Drawing with the Visualizer needs matplotlib, which is not '
            f'installed. Install it with: {VIS_EXTRA_HINT}') from e
    return matplotlib


def tensor2ndarray(value: Any) -> Any:
    """Return ``value`` as a NumPy array if it is a torch tensor, else
    unchanged."""
    if hasattr(value, 'detach') and hasattr(value, 'cpu'):
        return value.detach().cpu().numpy()
    return value


def value2list(value: Any, valid_type: Union[Type, Tuple[Type, ...]],
               expand_dim: int) -> List[Any]:
    """Repeat a single ``value`` ``expand_dim`` times; lists pass through."""
    if isinstance(value, valid_type):
        return [value] * expand_dim
    return list(value)


def check_type(name: str, value: Any,
               valid_type: Union[Type, Tuple[Type, ...]]) -> None:
    """Raise ``TypeError`` naming ``name`` if ``value`` is not of
    ``valid_type``."""
    if not isinstance(value, valid_type):
        if isinstance(valid_type, tuple):
            expected = ', '.join(t.__name__ for t in valid_type)
        else:
            expected = valid_type.__name__
        raise TypeError(f'`{name}` should be {expected} '
                        f'but got {type(value).__name__}')


def check_length(name: str, value: Any, valid_length: int) -> None:
    """If ``value`` is a list, require at least ``valid_length`` items."""
    if isinstance(value, list) and len(value) < valid_length:
        raise AssertionError(
            f'The length of {name} must be at least {valid_length} '
            f'(one per item drawn), but got {len(value)}')


def check_type_and_length(name: str, value: Any,
                          valid_type: Union[Type, Tuple[Type, ...]],
                          valid_length: int) -> None:
    """``check_type`` then ``check_length``."""
    check_type(name, value, valid_type)
    check_length(name, value, valid_length)


def color_str2rgb(color: str) -> Tuple[int, int, int]:
    """Convert a colour name or ``'#rrggbb'`` to an RGB tuple (0-255)."""
    if not isinstance(color, str):
        raise TypeError(f'color must be a str, got {type(color).__name__}')
    key = color.strip().lower()
    if key in _NAMED_COLORS:
        return _NAMED_COLORS[key]
    if key.startswith('#') and len(key) in (7, 9):
        try:
            return tuple(int(key[i:i + 2], 16) for i in (1, 3, 5))
        except ValueError:
            pass
    # Anything else matplotlib knows (e.g. 'tab:blue', 'xkcd:...').
    try:
        matplotlib = import_matplotlib()
        rgb = matplotlib.colors.to_rgb(color)
    except ValueError as e:
        raise ValueError(f'unknown color name {color!r}') from e
    return tuple(int(round(c * 255)) for c in rgb)


def color_val_matplotlib(
    colors: Union[str, tuple, List[Union[str, tuple]]]
) -> Union[str, tuple, List[Union[str, tuple]]]:
    """Convert RGB 0-255 colour tuples to matplotlib's 0-1 floats.

    Strings are returned unchanged (matplotlib understands names); lists are
    converted item by item.

    Raises:
        TypeError / ValueError: for values that are not colours.
    """
    if isinstance(colors, str):
        return colors
    if isinstance(colors, tuple):
        if len(colors) not in (3, 4):
            raise ValueError(
                f'a color tuple must have 3 (RGB) or 4 (RGBA) items, '
                f'got {colors}')
        for channel in colors:
            if not 0 <= channel <= 255:
                raise ValueError(
                    'color channels must be in [0, 255], but got '
                    f'{colors}')
        return tuple(channel / 255 for channel in colors)
    if isinstance(colors, list):
        return [color_val_matplotlib(color) for color in colors]
    raise TypeError('colors must be a str, an RGB tuple or a list of them, '
                    f'but got {type(colors).__name__}')


def get_adaptive_scale(img_shape: Tuple[int, int],
                       min_scale: float = 0.3,
                       max_scale: float = 3.0) -> float:
    """A size factor for line widths / fonts, from the image area.

    Args:
        img_shape (tuple): ``(h, w)``.
        min_scale (float): Lower bound. Defaults to 0.3.
        max_scale (float): Upper bound. Defaults to 3.0.
    """
    short_edge_length = min(img_shape)
    scale = short_edge_length / 224.
    return min(max(scale, min_scale), max_scale)


def jet_colormap(gray: np.ndarray) -> np.ndarray:
    """Map a ``uint8`` gray image ``(H, W)`` to an RGB ``uint8`` heat map
    with the classic "jet" palette (blue -> cyan -> yellow -> red)."""
    x = gray.astype(np.float32) / 255.0
    r = np.clip(1.5 - np.abs(4 * x - 3), 0, 1)
    g = np.clip(1.5 - np.abs(4 * x - 2), 0, 1)
    b = np.clip(1.5 - np.abs(4 * x - 1), 0, 1)
    return (np.stack([r, g, b], axis=-1) * 255).round().astype(np.uint8)


def convert_overlay_heatmap(feat_map: Any,
                            img: Optional[np.ndarray] = None,
                            alpha: float = 0.5) -> np.ndarray:
    """Turn a feature map into an RGB heat map, optionally over ``img``.

    Args:
        feat_map (np.ndarray | torch.Tensor): ``(H, W)`` map (coloured with
            the jet palette) or ``(3, H, W)`` map (used as RGB as is).
        img (np.ndarray, optional): RGB image ``(H, W, 3)`` to blend with.
        alpha (float): Weight of the heat map in the blend. Defaults to 0.5.

    Returns:
        np.ndarray: ``(H, W, 3)`` ``uint8`` image.
    """
    feat_map = np.asarray(tensor2ndarray(feat_map), dtype=np.float64)
    if feat_map.ndim not in (2, 3) or (feat_map.ndim == 3
                                       and feat_map.shape[0] != 3):
        raise ValueError('feat_map must have shape (H, W) or (3, H, W), '
                         f'but got {feat_map.shape}')
    low, high = np.nanmin(feat_map), np.nanmax(feat_map)
    span = high - low
    norm = (feat_map - low) / span if span > 0 else np.zeros_like(feat_map)
    norm_img = np.nan_to_num(norm * 255).astype(np.uint8)
    if norm_img.ndim == 3:
        heat_img = np.ascontiguousarray(norm_img.transpose(1, 2, 0))
    else:
        heat_img = jet_colormap(norm_img)
    if img is not None:
        img = np.asarray(img)
        if img.shape[:2] != heat_img.shape[:2]:
            raise ValueError(
                f'image shape {img.shape[:2]} differs from the feature map '
                f'shape {heat_img.shape[:2]}')
        heat_img = ((1 - alpha) * img[..., :3].astype(np.float64) +
                    alpha * heat_img).round().clip(0, 255).astype(np.uint8)
    return heat_img


def img_from_canvas(canvas: Any) -> np.ndarray:
    """Render a matplotlib Agg canvas and return its RGB ``uint8`` pixels."""
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    return np.ascontiguousarray(rgba[..., :3]).astype(np.uint8)


def wait_continue(figure: Any, timeout: float = 0,
                  continue_key: str = ' ') -> int:
    """Wait for ``continue_key`` on an interactive figure.

    Args:
        figure: A matplotlib figure shown in an interactive window.
        timeout (float): Seconds to wait; 0 waits until the key is pressed
            or the window is closed.
        continue_key (str): Key that ends the wait. Defaults to space.

    Returns:
        int: 0 when the key was pressed or the time ran out, 1 when the
        window was closed.
    """
    pressed = {}

    def on_key(event):
        pressed['key'] = event.key

    cid = figure.canvas.mpl_connect('key_press_event', on_key)
    try:
        while True:
            pressed.clear()
            closed = False

            def on_close(event):
                nonlocal closed
                closed = True
                # End the wait now: a closed window sends no more keys.
                figure.canvas.stop_event_loop()

            close_cid = figure.canvas.mpl_connect('close_event', on_close)
            try:
                # None means timeout without a press (time is up).
                result = figure.waitforbuttonpress(
                    timeout if timeout > 0 else -1)
            finally:
                figure.canvas.mpl_disconnect(close_cid)
            if closed:
                return 1
            if result is None or pressed.get('key') == continue_key:
                return 0
    finally:
        figure.canvas.mpl_disconnect(cid)


def _filter_scanlines(rows: np.ndarray, bpp: int) -> np.ndarray:
    """PNG-filter every scanline of ``rows`` (``(H, W * bpp)`` uint8).

    Each row gets the filter (None, Sub, Up, Average or Paeth) whose output
    has the smallest sum of absolute signed bytes (the heuristic of the PNG
    spec), which makes smooth images compress far better than no filtering.
    All filters work on the raw bytes, so every row is filtered at once.

    Returns:
        np.ndarray: ``(H, 1 + W * bpp)`` uint8, the filter type byte first.
    """
    x = rows.astype(np.int16)
    a = np.zeros_like(x)  # left
    a[:, bpp:] = x[:, :-bpp]
    b = np.zeros_like(x)  # up
    b[1:] = x[:-1]
    c = np.zeros_like(x)  # up-left
    c[1:, bpp:] = x[:-1, :-bpp]
    p = a + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    paeth = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
    candidates = np.stack(
        [x, x - a, x - b, x - (a + b) // 2, x - paeth]).astype(np.uint8)
    signed = candidates.astype(np.int16)
    cost = np.minimum(signed, 256 - signed).sum(axis=2)  # (5, H)
    best = cost.argmin(axis=0)
    filtered = candidates[best, np.arange(len(rows))]
    return np.concatenate(
        [best.astype(np.uint8)[:, None], filtered], axis=1)


def encode_png(image: np.ndarray) -> bytes:
    """Encode a ``uint8`` image as PNG bytes (no Pillow needed).

    Args:
        image (np.ndarray): ``(H, W)`` gray, ``(H, W, 3)`` RGB or
            ``(H, W, 4)`` RGBA, dtype ``uint8``.
    """
    image = np.ascontiguousarray(image)
    if image.dtype != np.uint8:
        raise TypeError(f'PNG images must be uint8, got {image.dtype}')
    if image.ndim == 2:
        color_type, channels = 0, 1
    elif image.ndim == 3 and image.shape[2] in (1, 3, 4):
        channels = image.shape[2]
        color_type = {1: 0, 3: 2, 4: 6}[channels]
    else:
        raise ValueError('image must have shape (H, W), (H, W, 1), '
                         f'(H, W, 3) or (H, W, 4), got {image.shape}')
    height, width = image.shape[:2]
    if height == 0 or width == 0:
        raise ValueError(f'cannot encode an empty image of shape '
                         f'{image.shape} as PNG')
    rows = image.reshape(height, width * channels)
    raw = _filter_scanlines(rows, channels).tobytes()

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack('>I', len(data)) + tag + data +
                struct.pack('>I', zlib.crc32(tag + data) & 0xffffffff))

    header = struct.pack('>IIBBBBB', width, height, 8, color_type, 0, 0, 0)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) +
            chunk(b'IDAT', zlib.compress(raw, 6)) + chunk(b'IEND', b''))
