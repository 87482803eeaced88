"""``PrepareTTAHook`` and ``build_runner_with_tta``: test-time augmentation."""
from typing import TYPE_CHECKING, Union

from mmengine.config import Config, ConfigDict
from mmengine.registry import HOOKS, MODELS, RUNNERS
from .hook import Hook

if TYPE_CHECKING:
    from mmengine.runner import Runner

ConfigType = Union[Config, ConfigDict, dict]


@HOOKS.register_module()
class PrepareTTAHook(Hook):
    """Wraps the model in a test-time-augmentation model before testing.

    In ``before_test`` the runner's model (or, for a wrapped model, its
    ``module``) becomes ``MODELS.build(tta_cfg, default_args=dict(
    module=model))``, typically a :class:`mmengine.model.BaseTTAModel`
    subclass that merges the predictions of the augmented views.

    Args:
        tta_cfg (dict): Config of the TTA model.
    """

    def __init__(self, tta_cfg: dict) -> None:
        if not isinstance(tta_cfg, dict):
            raise TypeError('PrepareTTAHook: tta_cfg must be a dict config '
                            'of the TTA model, but got '
                            f'{type(tta_cfg).__name__}')
        self.tta_cfg = tta_cfg

    def before_test(self, runner) -> None:
        """Replace the model by the TTA model wrapping it."""
        from mmengine.model import is_model_wrapper
        if is_model_wrapper(runner.model):
            runner.model.module = MODELS.build(
                dict(**self.tta_cfg),
                default_args=dict(module=runner.model.module))
        else:
            runner.model = MODELS.build(
                dict(**self.tta_cfg), default_args=dict(module=runner.model))


def build_runner_with_tta(cfg: ConfigType) -> 'Runner':
    """Build a runner whose test uses test-time augmentation.

    The config needs ``tta_model`` (the TTA model config) and
    ``tta_pipeline`` (replacing ``test_dataloader.dataset.pipeline``). A
    :class:`PrepareTTAHook` is registered so that ``runner.test()`` runs the
    TTA model.

    Args:
        cfg (Config or dict): The full config.

    Returns:
        Runner: The runner (``RUNNERS.build`` when ``runner_type`` is set).

    Raises:
        KeyError: if ``tta_model``, ``tta_pipeline`` or
            ``test_dataloader.dataset`` is missing.
    """
    for key in ('tta_model', 'tta_pipeline'):
        if key not in cfg:
            raise KeyError(f'build_runner_with_tta: the config has no '
                           f'{key!r}; please define it in your config')
    test_dataloader = cfg.get('test_dataloader')
    if not isinstance(test_dataloader, dict) or not isinstance(
            test_dataloader.get('dataset'), dict):
        raise KeyError('build_runner_with_tta: the config needs a '
                       '`test_dataloader` dict with a `dataset` dict whose '
                       'pipeline the `tta_pipeline` replaces')
    test_dataloader['dataset']['pipeline'] = cfg['tta_pipeline']
    if 'runner_type' in cfg:
        runner = RUNNERS.build(cfg)
    else:
        from mmengine.runner import Runner
        runner = Runner.from_cfg(cfg)
    runner.register_hook(PrepareTTAHook(tta_cfg=cfg['tta_model']))
    return runner
