"""Backends for experiment trackers: W&B, MLflow, ClearML, Neptune,
DVCLive and Aim.

Each client is imported when the backend first writes (never at import or
construction), and a missing client gives an ``ImportError`` that names the
package to install.
"""
import os
import os.path as osp
from typing import Any, Optional, Sequence, Union

import numpy as np

from mmengine.registry import VISBACKENDS
from .backend_utils import (artifact_files, config_to_dict, config_to_text,
                            flatten_dict, import_client, plain_scalars,
                            to_param_like)
from .base_backend import BaseVisBackend, force_init_env

__all__ = [
    'WandbVisBackend', 'MLflowVisBackend', 'ClearMLVisBackend',
    'NeptuneVisBackend', 'DVCLiveVisBackend', 'AimVisBackend'
]


@VISBACKENDS.register_module()
class WandbVisBackend(BaseVisBackend):
    """Log to Weights & Biases (``pip install wandb``).

    Args:
        save_dir (str): Local directory of the wandb files.
        init_kwargs (dict, optional): Passed to ``wandb.init`` (e.g.
            ``dict(project='toy-example')``); ``dir`` defaults to
            ``save_dir``.
        define_metric_cfg (dict | list[dict], optional): A dict
            ``{metric: summary}`` (``wandb.define_metric(metric,
            summary=...)``) or a list of kwargs dicts for
            ``wandb.define_metric``.
        commit (bool): Passed to ``wandb.log``. Defaults to True.
        log_code_name (str, optional): Name of the code artifact logged
            with the config.
        watch_kwargs (dict, optional): Passed to ``wandb.watch`` by
            ``add_graph``.
    """

    def __init__(self,
                 save_dir: str,
                 init_kwargs: Optional[dict] = None,
                 define_metric_cfg: Union[dict, list, None] = None,
                 commit: Optional[bool] = True,
                 log_code_name: Optional[str] = None,
                 watch_kwargs: Optional[dict] = None):
        super().__init__(save_dir)
        if define_metric_cfg is not None and not isinstance(
                define_metric_cfg, (dict, list)):
            raise TypeError('define_metric_cfg must be a dict or a list of '
                            'dicts, but got '
                            f'{type(define_metric_cfg).__name__}')
        self._init_kwargs = init_kwargs
        self._define_metric_cfg = define_metric_cfg
        self._commit = commit
        self._log_code_name = log_code_name
        self._watch_kwargs = watch_kwargs if watch_kwargs is not None else {}

    def _init_env(self) -> None:
        """Create ``save_dir`` and start the wandb run."""
        wandb = import_client('wandb', 'WandbVisBackend', 'wandb')
        if self._save_dir is not None:
            os.makedirs(self._save_dir, exist_ok=True)
        init_kwargs = dict(self._init_kwargs or {})
        if self._save_dir is not None:
            init_kwargs.setdefault('dir', self._save_dir)
        wandb.init(**init_kwargs)
        if isinstance(self._define_metric_cfg, dict):
            for metric, summary in self._define_metric_cfg.items():
                wandb.define_metric(metric, summary=summary)
        elif isinstance(self._define_metric_cfg, list):
            for metric_cfg in self._define_metric_cfg:
                wandb.define_metric(**metric_cfg)
        self._wandb = wandb

    @property  # type: ignore
    @force_init_env
    def experiment(self) -> Any:
        """The ``wandb`` module (with an active run)."""
        return self._wandb

    @force_init_env
    def add_config(self, config: Any, **kwargs) -> None:
        """Update ``wandb.config`` and log the code.

        Args:
            config (Config | dict): The config.
        """
        self._wandb.config.update(config_to_dict(config))
        self._wandb.run.log_code(name=self._log_code_name)

    @force_init_env
    def add_graph(self, model: Any, data_batch: Any, **kwargs) -> None:
        """Watch the model's gradients / parameters (``wandb.watch``)."""
        self._wandb.watch(model, **self._watch_kwargs)

    @force_init_env
    def add_image(self, name: str, image: np.ndarray, step: int = 0,
                  **kwargs) -> None:
        """Log an RGB image (wandb keeps its own step counter)."""
        self._wandb.log({name: self._wandb.Image(image)},
                        commit=self._commit)

    @force_init_env
    def add_scalar(self, name: str, value: Any, step: int = 0,
                   **kwargs) -> None:
        """Log one scalar."""
        self._wandb.log(plain_scalars({name: value}), commit=self._commit)

    @force_init_env
    def add_scalars(self,
                    scalar_dict: dict,
                    step: int = 0,
                    file_path: Optional[str] = None,
                    **kwargs) -> None:
        """Log several scalars in one ``wandb.log`` call."""
        self._wandb.log(plain_scalars(scalar_dict), commit=self._commit)

    def close(self) -> None:
        """Finish the wandb run."""
        if hasattr(self, '_wandb'):
            finish = getattr(self._wandb, 'finish', None) or getattr(
                self._wandb, 'join')
            finish()


@VISBACKENDS.register_module()
class MLflowVisBackend(BaseVisBackend):
    """Log to MLflow (``pip install mlflow``).

    Args:
        save_dir (str): Local directory; the tracking URI defaults to
            ``file://<save_dir>`` when ``tracking_uri`` is not given.
        exp_name (str, optional): Experiment name. Defaults to ``'Default'``.
        run_name (str, optional): Run name (``mlflow.runName`` tag).
        tags (dict, optional): Tags of the run.
        params (dict, optional): Parameters logged at start.
        tracking_uri (str, optional): MLflow tracking URI.
        artifact_suffix (Sequence[str]): Files under the config's
            ``work_dir`` with these suffixes are logged as artifacts on
            ``close``. Defaults to ``('.json', '.log', '.py', 'yaml')``.
        tracked_config_keys (dict, optional): Only these (flattened) config
            keys are logged as params; all by default.
        artifact_location (str, optional): Artifact location of a new
            experiment.
    """

    def __init__(self,
                 save_dir: str,
                 exp_name: Optional[str] = None,
                 run_name: Optional[str] = None,
                 tags: Optional[dict] = None,
                 params: Optional[dict] = None,
                 tracking_uri: Optional[str] = None,
                 artifact_suffix: Sequence[str] = ('.json', '.log', '.py',
                                                   'yaml'),
                 tracked_config_keys: Optional[dict] = None,
                 artifact_location: Optional[str] = None):
        super().__init__(save_dir)
        self._exp_name = exp_name
        self._run_name = run_name
        self._tags = tags
        self._params = params
        self._tracking_uri = tracking_uri
        self._artifact_suffix = tuple(artifact_suffix)
        self._tracked_config_keys = tracked_config_keys
        self._artifact_location = artifact_location
        self.cfg: Any = None

    def _init_env(self) -> None:
        """Set the tracking URI and experiment and start the run."""
        mlflow = import_client('mlflow', 'MLflowVisBackend', 'mlflow')
        if self._save_dir is not None:
            os.makedirs(self._save_dir, exist_ok=True)
        if self._tracking_uri is not None:
            mlflow.set_tracking_uri(self._tracking_uri)
        elif self._save_dir is not None:
            mlflow.set_tracking_uri(
                'file://' + osp.abspath(self._save_dir).replace(os.sep, '/'))
        exp_name = self._exp_name or 'Default'
        if mlflow.get_experiment_by_name(exp_name) is None:
            mlflow.create_experiment(
                exp_name, artifact_location=self._artifact_location)
        mlflow.set_experiment(exp_name)
        if self._run_name is not None:
            mlflow.set_tag('mlflow.runName', self._run_name)
        if self._tags is not None:
            mlflow.set_tags(self._tags)
        if self._params is not None:
            mlflow.log_params(self._params)
        self._mlflow = mlflow

    @property  # type: ignore
    @force_init_env
    def experiment(self) -> Any:
        """The ``mlflow`` module."""
        return self._mlflow

    @force_init_env
    def add_config(self, config: Any, **kwargs) -> None:
        """Log the (flattened) config as params and its text as
        ``config.py``."""
        self.cfg = config
        flat = flatten_dict(config_to_dict(config))
        if self._tracked_config_keys is not None:
            flat = {
                k: v
                for k, v in flat.items() if k in self._tracked_config_keys
            }
        self._mlflow.log_params(flat)
        self._mlflow.log_text(config_to_text(config), 'config.py')

    @force_init_env
    def add_image(self, name: str, image: np.ndarray, step: int = 0,
                  **kwargs) -> None:
        """Log an image as an artifact file ``name``."""
        self._mlflow.log_image(image, name)

    @force_init_env
    def add_scalar(self, name: str, value: Any, step: int = 0,
                   **kwargs) -> None:
        """Log one metric."""
        self._mlflow.log_metric(name, plain_scalars({name: value})[name],
                                step=step)

    @force_init_env
    def add_scalars(self,
                    scalar_dict: dict,
                    step: int = 0,
                    file_path: Optional[str] = None,
                    **kwargs) -> None:
        """Log several metrics."""
        self._mlflow.log_metrics(plain_scalars(scalar_dict), step=step)

    def close(self) -> None:
        """Upload the work dir's artifacts and end the run."""
        if not hasattr(self, '_mlflow'):
            return
        for path in artifact_files(self.cfg, self._artifact_suffix):
            self._mlflow.log_artifact(path)
        self._mlflow.end_run()


@VISBACKENDS.register_module()
class ClearMLVisBackend(BaseVisBackend):
    """Log to ClearML (``pip install clearml``).

    Args:
        save_dir (str, optional): Unused by ClearML; kept for a uniform
            signature.
        init_kwargs (dict, optional): Passed to ``clearml.Task.init``.
        artifact_suffix (Sequence[str]): Files under the config's
            ``work_dir`` uploaded on ``close``. Defaults to
            ``('.py', '.pth')``.
    """

    def __init__(self,
                 save_dir: Optional[str] = None,
                 init_kwargs: Optional[dict] = None,
                 artifact_suffix: Sequence[str] = ('.py', '.pth')):
        super().__init__(save_dir)
        self._init_kwargs = init_kwargs
        self._artifact_suffix = tuple(artifact_suffix)
        self.cfg: Any = None

    def _init_env(self) -> None:
        """Start the ClearML task."""
        clearml = import_client('clearml', 'ClearMLVisBackend', 'clearml')
        self._task = clearml.Task.init(**(self._init_kwargs or {}))
        self._logger = self._task.get_logger()
        self._clearml = clearml

    @property  # type: ignore
    @force_init_env
    def experiment(self) -> Any:
        """The ``clearml`` module."""
        return self._clearml

    @force_init_env
    def add_config(self, config: Any, **kwargs) -> None:
        """Connect the config to the task."""
        self.cfg = config
        self._task.connect_configuration(config_to_dict(config))

    @force_init_env
    def add_image(self, name: str, image: np.ndarray, step: int = 0,
                  **kwargs) -> None:
        """Report an image."""
        self._logger.report_image(
            title=name, series=name, iteration=step, image=image)

    @force_init_env
    def add_scalar(self, name: str, value: Any, step: int = 0,
                   **kwargs) -> None:
        """Report one scalar."""
        self._logger.report_scalar(
            title=name,
            series=name,
            value=plain_scalars({name: value})[name],
            iteration=step)

    @force_init_env
    def add_scalars(self,
                    scalar_dict: dict,
                    step: int = 0,
                    file_path: Optional[str] = None,
                    **kwargs) -> None:
        """Report each scalar at ``step``."""
        assert 'step' not in scalar_dict, (
            "'step' must be passed through the step argument")
        for key, value in plain_scalars(scalar_dict).items():
            self._logger.report_scalar(
                title=key, series=key, value=value, iteration=step)

    def close(self) -> None:
        """Upload artifacts and close the task."""
        if not hasattr(self, '_task'):
            return
        for path in artifact_files(self.cfg, self._artifact_suffix):
            self._task.upload_artifact(osp.basename(path), path)
        self._task.close()


@VISBACKENDS.register_module()
class NeptuneVisBackend(BaseVisBackend):
    """Log to Neptune (``pip install neptune``).

    Args:
        save_dir (str, optional): Unused by Neptune.
        init_kwargs (dict, optional): Passed to ``neptune.init_run``
            (``project``, ``api_token``, ...).
    """

    def __init__(self,
                 save_dir: Optional[str] = None,
                 init_kwargs: Optional[dict] = None):
        super().__init__(save_dir)
        self._init_kwargs = init_kwargs

    def _init_env(self) -> None:
        """Start the Neptune run."""
        neptune = import_client('neptune', 'NeptuneVisBackend', 'neptune')
        types = import_client('neptune.types', 'NeptuneVisBackend',
                               'neptune')
        self._file_type = types.File
        self._neptune = neptune.init_run(**(self._init_kwargs or {}))

    @property  # type: ignore
    @force_init_env
    def experiment(self) -> Any:
        """The Neptune run."""
        return self._neptune

    @force_init_env
    def add_config(self, config: Any, **kwargs) -> None:
        """Store the config text under ``config``."""
        self._neptune['config'] = config_to_text(config)

    @force_init_env
    def add_image(self, name: str, image: np.ndarray, step: int = 0,
                  **kwargs) -> None:
        """Append an image to the series ``name``."""
        self._neptune[name].append(
            self._file_type.as_image(image.astype(np.float32) / 255.),
            step=step)

    @force_init_env
    def add_scalar(self, name: str, value: Any, step: int = 0,
                   **kwargs) -> None:
        """Append one value to the series ``name``."""
        self._neptune[name].append(
            plain_scalars({name: value})[name], step=step)

    @force_init_env
    def add_scalars(self,
                    scalar_dict: dict,
                    step: int = 0,
                    file_path: Optional[str] = None,
                    **kwargs) -> None:
        """Append each value to its series."""
        for key, value in plain_scalars(scalar_dict).items():
            self._neptune[key].append(value, step=step)

    def close(self) -> None:
        """Stop the run."""
        if hasattr(self, '_neptune'):
            self._neptune.stop()


@VISBACKENDS.register_module()
class DVCLiveVisBackend(BaseVisBackend):
    """Log with DVCLive (``pip install dvclive``).

    Args:
        save_dir (str): Directory of the DVCLive output.
        artifact_suffix (Sequence[str]): Files under the config's
            ``work_dir`` logged as artifacts on ``close``.
            Defaults to ``('.json', '.py', 'yaml')``.
        init_kwargs (dict, optional): Passed to ``dvclive.Live``; ``dir``
            defaults to ``save_dir``.
    """

    def __init__(self,
                 save_dir: str,
                 artifact_suffix: Sequence[str] = ('.json', '.py', 'yaml'),
                 init_kwargs: Optional[dict] = None):
        super().__init__(save_dir)
        self._artifact_suffix = tuple(artifact_suffix)
        self._init_kwargs = init_kwargs
        self.cfg: Any = None

    def _init_env(self) -> None:
        """Create ``save_dir`` and the ``Live`` object."""
        dvclive = import_client('dvclive', 'DVCLiveVisBackend', 'dvclive')
        if self._save_dir is not None:
            os.makedirs(self._save_dir, exist_ok=True)
        init_kwargs = dict(self._init_kwargs or {})
        if self._save_dir is not None:
            init_kwargs.setdefault('dir', self._save_dir)
        self._dvclive = dvclive.Live(**init_kwargs)

    @property  # type: ignore
    @force_init_env
    def experiment(self) -> Any:
        """The ``dvclive.Live`` object."""
        return self._dvclive

    @force_init_env
    def add_config(self, config: Any, **kwargs) -> None:
        """Log the config as params (non-plain values as strings)."""
        self.cfg = config
        self._dvclive.log_params(to_param_like(config_to_dict(config)))

    @force_init_env
    def add_image(self, name: str, image: np.ndarray, step: int = 0,
                  **kwargs) -> None:
        """Log an image file ``<name>.png``."""
        self._dvclive.step = step
        if not name.endswith(('.png', '.jpg', '.jpeg')):
            name = f'{name}.png'
        self._dvclive.log_image(name, image)

    @force_init_env
    def add_scalar(self, name: str, value: Any, step: int = 0,
                   **kwargs) -> None:
        """Log one metric at ``step``."""
        self._dvclive.step = step
        self._dvclive.log_metric(name, plain_scalars({name: value})[name])

    @force_init_env
    def add_scalars(self,
                    scalar_dict: dict,
                    step: int = 0,
                    file_path: Optional[str] = None,
                    **kwargs) -> None:
        """Log each metric at ``step``."""
        self._dvclive.step = step
        for key, value in plain_scalars(scalar_dict).items():
            self._dvclive.log_metric(key, value)

    def close(self) -> None:
        """Log artifacts and end the DVCLive session."""
        if not hasattr(self, '_dvclive'):
            return
        for path in artifact_files(self.cfg, self._artifact_suffix):
            self._dvclive.log_artifact(path)
        self._dvclive.end()


@VISBACKENDS.register_module()
class AimVisBackend(BaseVisBackend):
    """Log to Aim (``pip install aim``).

    Args:
        save_dir (str, optional): Unused by Aim (its repo is set with
            ``init_kwargs['repo']``).
        init_kwargs (dict, optional): Passed to ``aim.Run``.
    """

    def __init__(self,
                 save_dir: Optional[str] = None,
                 init_kwargs: Optional[dict] = None):
        super().__init__(save_dir)
        self._init_kwargs = init_kwargs

    def _init_env(self) -> None:
        """Start the Aim run."""
        aim = import_client('aim', 'AimVisBackend', 'aim')
        self._aim = aim
        self._aim_run = aim.Run(**(self._init_kwargs or {}))

    @property  # type: ignore
    @force_init_env
    def experiment(self) -> Any:
        """The ``aim.Run``."""
        return self._aim_run

    @force_init_env
    def add_config(self, config: Any, **kwargs) -> None:
        """Store the config under ``hparams``."""
        self._aim_run['hparams'] = to_param_like(config_to_dict(config))

    @force_init_env
    def add_image(self, name: str, image: np.ndarray, step: int = 0,
                  **kwargs) -> None:
        """Track an image."""
        self._aim_run.track(
            name=name, value=self._aim.Image(image), step=step)

    @force_init_env
    def add_scalar(self, name: str, value: Any, step: int = 0,
                   **kwargs) -> None:
        """Track one value."""
        self._aim_run.track(
            name=name, value=plain_scalars({name: value})[name], step=step)

    @force_init_env
    def add_scalars(self,
                    scalar_dict: dict,
                    step: int = 0,
                    file_path: Optional[str] = None,
                    **kwargs) -> None:
        """Track each value at ``step``."""
        for key, value in plain_scalars(scalar_dict).items():
            self._aim_run.track(name=key, value=value, step=step)

    def close(self) -> None:
        """Close the run."""
        if hasattr(self, '_aim_run'):
            self._aim_run.close()
