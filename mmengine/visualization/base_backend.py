"""The interface every visualization backend implements (``BaseVisBackend``).

A backend stores what the :class:`~mmengine.visualization.Visualizer` hands
it (configs, images, scalars, model graphs) in one place: local files, a
TensorBoard event file, an experiment tracker. Backends set themselves up
lazily: the writer / run object is created on the first call that needs it
(see :func:`force_init_env`), so that building a Runner on a machine without
the tracker's client only fails when something is actually logged.
"""
import functools
from abc import ABCMeta, abstractmethod
from typing import Any, Callable, Optional

__all__ = ['BaseVisBackend', 'force_init_env']


def force_init_env(old_func: Callable) -> Callable:
    """Decorator for backend methods that need the backend's environment.

    Calls ``self._init_env()`` once, on the first decorated call, and marks
    the backend initialised (``self._env_initialized``).
    """

    @functools.wraps(old_func)
    def wrapper(obj: 'BaseVisBackend', *args, **kwargs):
        if not getattr(obj, '_env_initialized', False):
            obj._init_env()
            obj._env_initialized = True
        return old_func(obj, *args, **kwargs)

    return wrapper


class BaseVisBackend(metaclass=ABCMeta):
    """Base class of visualization backends.

    Subclasses implement :meth:`_init_env` (create the writer / run) and the
    ``experiment`` property, and override the ``add_*`` methods for what they
    can store; what a backend cannot store is ignored (the base methods do
    nothing), so that the ``Visualizer`` can fan every call out to every
    backend.

    Args:
        save_dir (str, optional): Directory the backend writes to.
    """

    def __init__(self, save_dir: Optional[str] = None):
        if save_dir is not None and not isinstance(save_dir, str):
            # ``pathlib.Path`` is common; store a str so os.path joins work.
            import os
            if isinstance(save_dir, os.PathLike):
                save_dir = os.fspath(save_dir)
            else:
                raise TypeError(
                    f'{type(self).__name__}: save_dir must be a str or '
                    f'PathLike, but got {type(save_dir).__name__}')
        self._save_dir = save_dir
        self._env_initialized = False

    @property
    @abstractmethod
    def experiment(self) -> Any:
        """The underlying writer / run object (created on first access)."""

    @abstractmethod
    def _init_env(self) -> None:
        """Create the writer / run object and output directories."""

    def add_config(self, config: Any, **kwargs) -> None:
        """Store the run's config.

        Args:
            config (Config): The config.
        """

    def add_graph(self, model: Any, data_batch: Any, **kwargs) -> None:
        """Store the model graph.

        Args:
            model (torch.nn.Module): The model.
            data_batch (Any): An input batch, for tracing.
        """

    def add_image(self, name: str, image: Any, step: int = 0,
                  **kwargs) -> None:
        """Store an RGB ``uint8`` image of shape ``(H, W, 3)``.

        Args:
            name (str): Image identifier.
            image (np.ndarray): The image.
            step (int): Global step. Defaults to 0.
        """

    def add_scalar(self, name: str, value: Any, step: int = 0,
                   **kwargs) -> None:
        """Store one scalar.

        Args:
            name (str): Scalar identifier.
            value (int | float | torch.Tensor | np.ndarray): The value.
            step (int): Global step. Defaults to 0.
        """

    def add_scalars(self,
                    scalar_dict: dict,
                    step: int = 0,
                    file_path: Optional[str] = None,
                    **kwargs) -> None:
        """Store several scalars at the same step.

        Args:
            scalar_dict (dict): Name -> value.
            step (int): Global step. Defaults to 0.
            file_path (str, optional): Extra file to also write the scalars
                to (used by ``LocalVisBackend``).
        """

    def close(self) -> None:
        """Flush and release the writer / run."""
