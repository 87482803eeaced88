"""Load configs and models shipped by installed downstream packages.

``get_config('mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py')`` reads the
config bundled with the installed ``mmdet`` (``<pkg>/.mim/configs`` or
``<pkg>/configs``, the same lookup as ``_base_ = 'mmdet::...'`` in configs);
with ``pretrained=True`` the checkpoint listed for that config in the
package's model index becomes ``cfg.model_path``. ``get_model`` builds the
configured model in the package's registry scope and loads those weights.
"""
import importlib
import importlib.util
from typing import Any

from mmengine.config import Config
from mmengine.config.utils import get_external_cfg_path
from mmengine.registry import MODELS, DefaultScope

from .model_index import (find_model_by_config, first_weights,
                          package_scope, split_package_path)


def get_config(cfg_path: str, pretrained: bool = False) -> Config:
    """Load a config shipped with an installed package.

    Args:
        cfg_path (str): ``'<package>::<path inside its configs directory>'``,
            e.g. ``'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'``.
        pretrained (bool): also set ``cfg.model_path`` to the checkpoint the
            package's model index lists for this config. Defaults to False.

    Returns:
        Config: the loaded config.

    Raises:
        ValueError: ``cfg_path`` is malformed, or ``pretrained`` is True and
            no model of the model index uses this config (or it lists no
            weights).
        ModuleNotFoundError: the package is not installed.
        FileNotFoundError: the config (or, when ``pretrained``, the model
            index) does not exist.
    """
    package, rel = split_package_path(cfg_path)
    cfg = Config.fromfile(get_external_cfg_path(package, rel))
    if pretrained:
        entry = find_model_by_config(package, rel)
        weights = first_weights(entry)
        if not weights:
            raise ValueError(
                f'model {entry.get("Name")!r} of config {cfg_path!r} lists no '
                f'"Weights" in {entry["_metafile"]}, so pretrained weights '
                'are unavailable')
        cfg.model_path = weights
    return cfg


def _register_legacy_modules(scope: str) -> None:
    """Packages that predate registry ``locations`` register their modules
    with ``<scope>.utils.register_all_modules``; call it when present."""
    try:
        found = importlib.util.find_spec(f'{scope}.utils') is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        return
    register_all = getattr(
        importlib.import_module(f'{scope}.utils'), 'register_all_modules',
        None)
    if callable(register_all):
        register_all(False)


def get_model(cfg_path: str, pretrained: bool = False, **kwargs) -> Any:
    """Build the model of a config shipped with an installed package.

    The model is built with the package as default scope (the caller's
    default scope is restored afterwards). A top-level ``data_preprocessor``
    of the config is used when the model config has none.

    Args:
        cfg_path (str): ``'<package>::<path inside its configs directory>'``.
        pretrained (bool): load the checkpoint listed in the package's model
            index. Defaults to False.
        **kwargs: default arguments of the model build (override nothing
            set in the config).

    Returns:
        The model (e.g. an ``mmdet`` ``FasterRCNN``).

    Raises:
        KeyError: the config has no ``model``.
        See :func:`get_config` for the other errors.
    """
    from mmengine.runner.checkpoint import load_checkpoint
    package, _ = split_package_path(cfg_path)
    scope = package_scope(package)
    with DefaultScope.overwrite_default_scope(scope):
        cfg = get_config(cfg_path, pretrained)
        if 'model' not in cfg:
            raise KeyError(f'config {cfg_path!r} ({cfg.filename}) has no '
                           '"model" to build')
        model_cfg = cfg.model
        if cfg.get('data_preprocessor') is not None and \
                model_cfg.get('data_preprocessor') is None:
            model_cfg.data_preprocessor = cfg.data_preprocessor
        _register_legacy_modules(scope)
        model = MODELS.build(model_cfg, default_args=kwargs or None)
        if pretrained:
            load_checkpoint(model, cfg.model_path, map_location='cpu')
            # The weights are final: a Runner must not re-initialise them.
            model._is_init = True
    return model
