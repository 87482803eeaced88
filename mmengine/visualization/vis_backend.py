"""Visualization backends: local files and TensorBoard.

The experiment-tracker backends (W&B, MLflow, ClearML, Neptune, DVCLive,
Aim) live in :mod:`mmengine.visualization.tracker_backends` and are
re-exported here, so ``mmengine.visualization.vis_backend`` names every
backend.
"""
import json
import os
import os.path as osp
import warnings
from typing import Any, Optional

import numpy as np

from mmengine.registry import VISBACKENDS
from .backend_utils import config_to_text, to_json_value, to_scalar
from .base_backend import BaseVisBackend, force_init_env
from .tracker_backends import (AimVisBackend, ClearMLVisBackend,
                               DVCLiveVisBackend, MLflowVisBackend,
                               NeptuneVisBackend, WandbVisBackend)
from .utils import encode_png

__all__ = [
    'BaseVisBackend', 'LocalVisBackend', 'TensorboardVisBackend',
    'WandbVisBackend', 'MLflowVisBackend', 'ClearMLVisBackend',
    'NeptuneVisBackend', 'DVCLiveVisBackend', 'AimVisBackend',
    'force_init_env'
]


@VISBACKENDS.register_module()
class LocalVisBackend(BaseVisBackend):
    """Write visualization data to local files.

    Layout under ``save_dir``::

        config.py        # add_config: the config as Python
        scalars.json     # add_scalar(s): one JSON object per call (appended)
        vis_image/       # add_image: <name>_<step>.png

    Args:
        save_dir (str): Directory to write to (created on first write).
        img_save_dir (str): Sub-directory for images.
            Defaults to ``'vis_image'``.
        config_save_file (str): File name of the config, must end with
            ``.py``. Defaults to ``'config.py'``.
        scalar_save_file (str): File name of the scalars, must end with
            ``.json``. Defaults to ``'scalars.json'``.
    """

    def __init__(self,
                 save_dir: str,
                 img_save_dir: str = 'vis_image',
                 config_save_file: str = 'config.py',
                 scalar_save_file: str = 'scalars.json'):
        assert config_save_file.split('.')[-1] == 'py', (
            'LocalVisBackend: config_save_file must be a .py file, but got '
            f'{config_save_file!r}')
        assert scalar_save_file.split('.')[-1] == 'json', (
            'LocalVisBackend: scalar_save_file must be a .json file, but '
            f'got {scalar_save_file!r}')
        if save_dir is None:
            raise ValueError('LocalVisBackend needs a save_dir to write to, '
                             'got None')
        super().__init__(save_dir)
        self._img_save_dir = img_save_dir
        self._config_save_file = config_save_file
        self._scalar_save_file = scalar_save_file

    def _init_env(self) -> None:
        """Create ``save_dir`` and turn the file names into paths."""
        os.makedirs(self._save_dir, exist_ok=True)
        self._img_save_dir = osp.join(self._save_dir, self._img_save_dir)
        self._config_save_file = osp.join(self._save_dir,
                                          self._config_save_file)
        self._scalar_save_file = osp.join(self._save_dir,
                                          self._scalar_save_file)

    @property  # type: ignore
    @force_init_env
    def experiment(self) -> 'LocalVisBackend':
        """The backend itself (it has no separate writer object)."""
        return self

    @force_init_env
    def add_config(self, config: Any, **kwargs) -> None:
        """Write the config as Python source to ``config_save_file``.

        Args:
            config (Config | dict): The config.
        """
        text = config_to_text(config, 'LocalVisBackend.add_config')
        with open(self._config_save_file, 'w', encoding='utf-8') as f:
            f.write(text)

    @force_init_env
    def add_image(self, name: str, image: np.ndarray, step: int = 0,
                  **kwargs) -> None:
        """Save ``image`` as ``<img_save_dir>/<name>_<step>.png``.

        Args:
            name (str): Image identifier (may contain ``/`` for a
                sub-folder).
            image (np.ndarray): RGB ``uint8`` image ``(H, W, 3)``
                (``(H, W)`` gray and ``(H, W, 4)`` RGBA are accepted too).
            step (int): Global step. Defaults to 0.
        """
        assert isinstance(image, np.ndarray) and image.dtype == np.uint8, (
            f'LocalVisBackend.add_image({name!r}): the image must be a '
            'np.ndarray of dtype uint8, but got '
            f'{getattr(image, "dtype", type(image).__name__)}')
        path = osp.join(self._img_save_dir, f'{name}_{step}.png')
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(encode_png(image))

    @force_init_env
    def add_scalar(self, name: str, value: Any, step: int = 0,
                   **kwargs) -> None:
        """Append ``{name: value, "step": step}`` to the scalar file.

        Args:
            name (str): Scalar identifier.
            value (int | float | torch.Tensor | np.ndarray): A single
                number (tensors / arrays with one element are converted).
            step (int): Global step. Defaults to 0.

        Raises:
            TypeError: naming ``name`` if ``value`` is not a single number.
        """
        value = to_scalar(name, value)
        self._append_json({name: value, 'step': step},
                          self._scalar_save_file)

    @force_init_env
    def add_scalars(self,
                    scalar_dict: dict,
                    step: int = 0,
                    file_path: Optional[str] = None,
                    **kwargs) -> None:
        """Append the scalars (and ``"step"``) as one JSON line.

        Values may also be lists / arrays (e.g. per-class metrics), which
        are written as JSON lists. ``scalar_dict`` is not modified.

        Args:
            scalar_dict (dict): Name -> value.
            step (int): Global step, stored as ``"step"`` unless the dict
                has its own. Defaults to 0.
            file_path (str, optional): Name of an extra ``.json`` file under
                ``save_dir`` the same line is also appended to. It must
                differ from ``scalar_save_file``.

        Raises:
            TypeError: naming the key whose value cannot be written.
        """
        if not isinstance(scalar_dict, dict):
            raise TypeError('LocalVisBackend.add_scalars expects a dict, '
                            f'got {type(scalar_dict).__name__}')
        record = {
            str(key): to_json_value(str(key), value)
            for key, value in scalar_dict.items()
        }
        record.setdefault('step', step)
        # Serialised once, appended to both files.
        line = json.dumps(record) + '\n'
        if file_path is not None:
            assert file_path.split('.')[-1] == 'json', (
                f'file_path must be a .json file, but got {file_path!r}')
            extra = osp.join(self._save_dir, file_path)
            assert extra != self._scalar_save_file, (
                f'file_path {file_path!r} and scalar_save_file '
                f'{osp.basename(self._scalar_save_file)!r} must differ')
            self._append_line(line, extra)
        self._append_line(line, self._scalar_save_file)

    def _append_json(self, record: dict, path: str) -> None:
        self._append_line(json.dumps(record) + '\n', path)

    def _append_line(self, line: str, path: str) -> None:
        """Append ``line`` to ``path`` with one ``write`` system call.

        Opening and closing the file for every line cost most of a log
        interval's time, so each file stays open (an unbuffered ``O_APPEND``
        descriptor: every line reaches the OS right away, and a crash can at
        worst lose the line being written) until :meth:`close`. A file
        removed or replaced since it was opened is reopened, so the line
        always goes to the file currently at ``path``, as with a fresh
        ``open(path, 'a')``.
        """
        fds = self.__dict__.setdefault('_append_fds', {})
        entry = fds.get(path)
        if entry is not None:
            try:
                st = os.stat(path)
                if (st.st_dev, st.st_ino) != entry[1]:
                    entry = None
            except OSError:
                entry = None
            if entry is None:
                os.close(fds.pop(path)[0])
        if entry is None:
            if len(fds) >= 16:  # bound the descriptors held
                self._close_append_fds()
                fds = self.__dict__.setdefault('_append_fds', {})
            # Text mode on Windows (no O_BINARY) turns '\n' into '\r\n',
            # as open(path, 'a') did.
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
            st = os.fstat(fd)
            entry = fds[path] = (fd, (st.st_dev, st.st_ino))
        data = memoryview(line.encode('utf-8'))
        while data:  # regular files take it all at once; loop to be safe
            data = data[os.write(entry[0], data):]

    def _close_append_fds(self) -> None:
        fds = self.__dict__.pop('_append_fds', None) or {}
        for fd, _ in fds.values():
            try:
                os.close(fd)
            except OSError:
                pass

    def close(self) -> None:
        """Close the scalar files kept open for appending."""
        self._close_append_fds()

    def __del__(self) -> None:
        try:
            self._close_append_fds()
        except Exception:  # interpreter shutdown
            pass

    def __getstate__(self) -> dict:
        # The open descriptors belong to this object: a copy (deepcopy,
        # pickle) opens its own on its first write instead of sharing them
        # (and closing them twice).
        state = self.__dict__.copy()
        state.pop('_append_fds', None)
        return state


@VISBACKENDS.register_module()
class TensorboardVisBackend(BaseVisBackend):
    """Write TensorBoard event files with
    ``torch.utils.tensorboard.SummaryWriter``.

    Needs the ``tensorboard`` package (``pip install 'mmengine[tensorboard]'``)
    when the first item is written.

    Args:
        save_dir (str): Directory of the event files.
    """

    def __init__(self, save_dir: str):
        if save_dir is None:
            raise ValueError('TensorboardVisBackend needs a save_dir for its '
                             'event files, got None')
        super().__init__(save_dir)

    def _init_env(self) -> None:
        """Create ``save_dir`` and the ``SummaryWriter``."""
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as e:
            raise ImportError(
                'TensorboardVisBackend needs the tensorboard package. '
                "Install it with: pip install 'mmengine[tensorboard]' "
                '(or pip install tensorboard)') from e
        os.makedirs(self._save_dir, exist_ok=True)
        self._tensorboard = SummaryWriter(self._save_dir)

    @property  # type: ignore
    @force_init_env
    def experiment(self) -> Any:
        """The ``SummaryWriter``."""
        return self._tensorboard

    @force_init_env
    def add_config(self, config: Any, **kwargs) -> None:
        """Store the config text under the ``config`` text tag.

        Args:
            config (Config | dict): The config.
        """
        text = config_to_text(config, 'TensorboardVisBackend.add_config')
        self._tensorboard.add_text('config', text)

    @force_init_env
    def add_graph(self, model: Any, data_batch: Any, **kwargs) -> None:
        """Trace ``model`` on ``data_batch`` and store the graph.

        Args:
            model (torch.nn.Module): The model.
            data_batch (torch.Tensor | tuple): Model input(s) for tracing.
        """
        self._tensorboard.add_graph(model, data_batch, **kwargs)

    @force_init_env
    def add_image(self, name: str, image: np.ndarray, step: int = 0,
                  **kwargs) -> None:
        """Store an RGB image ``(H, W, 3)``.

        Args:
            name (str): Image tag.
            image (np.ndarray): The image, ``uint8``.
            step (int): Global step. Defaults to 0.
        """
        self._tensorboard.add_image(name, image, step, dataformats='HWC')

    @force_init_env
    def add_scalar(self, name: str, value: Any, step: int = 0,
                   **kwargs) -> None:
        """Store one scalar; values that are not a single number are
        skipped with a warning.

        Args:
            name (str): Scalar tag.
            value (int | float | torch.Tensor | np.ndarray): The value.
            step (int): Global step. Defaults to 0.
        """
        try:
            value = to_scalar(name, value)
        except TypeError as e:
            warnings.warn(f'TensorboardVisBackend: {e}; skipping it.')
            return
        self._tensorboard.add_scalar(name, value, step)

    @force_init_env
    def add_scalars(self,
                    scalar_dict: dict,
                    step: int = 0,
                    file_path: Optional[str] = None,
                    **kwargs) -> None:
        """Store each scalar of ``scalar_dict`` at ``step``.

        Args:
            scalar_dict (dict): Tag -> value; must not contain ``'step'``.
            step (int): Global step. Defaults to 0.
            file_path (str, optional): Unused (local files only).
        """
        assert isinstance(scalar_dict, dict), (
            'TensorboardVisBackend.add_scalars expects a dict, got '
            f'{type(scalar_dict).__name__}')
        assert 'step' not in scalar_dict, (
            "'step' must be passed through the step argument, not as a key "
            'of scalar_dict')
        for key, value in scalar_dict.items():
            self.add_scalar(key, value, step)

    def close(self) -> None:
        """Flush and close the event file."""
        if hasattr(self, '_tensorboard'):
            self._tensorboard.close()
