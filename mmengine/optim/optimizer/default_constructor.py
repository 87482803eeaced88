"""``DefaultOptimWrapperConstructor``: build an optimizer wrapper for a model.

Without ``paramwise_cfg`` all parameters go into one group. With it, every
parameter gets its own group whose ``lr`` / ``weight_decay`` follow the
parameter's type (bias, normalization, depth-wise conv, 1-D, deformable-conv
offset) and the ``custom_keys`` matching its name.
"""
import inspect
import logging
from typing import Any, Dict, List, Optional, Set

import torch.nn as nn
from torch.optim import Optimizer

from mmengine.logging import print_log
from mmengine.registry import (OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS,
                               OPTIMIZERS)
from .errors import OptimConfigKeyError

__all__ = ['DefaultOptimWrapperConstructor']

# Keys understood by DefaultOptimWrapperConstructor; subclasses may read more.
PARAMWISE_KEYS = frozenset({
    'lr_mult', 'decay_mult', 'bias_lr_mult', 'bias_decay_mult',
    'norm_decay_mult', 'dwconv_decay_mult', 'flat_decay_mult',
    'dcn_offset_lr_mult', 'bypass_duplicate', 'custom_keys'
})
_DECAY_KEYS = ('decay_mult', 'bias_decay_mult', 'norm_decay_mult',
               'dwconv_decay_mult', 'flat_decay_mult')
_LR_KEYS = ('lr_mult', 'bias_lr_mult', 'dcn_offset_lr_mult')
_DCN_NAMES = frozenset({'DeformConv2d', 'ModulatedDeformConv2d'})


def _is_norm(module: nn.Module) -> bool:
    from torch.nn.modules.batchnorm import _BatchNorm
    from torch.nn.modules.instancenorm import _InstanceNorm
    return isinstance(module,
                      (_BatchNorm, _InstanceNorm, nn.GroupNorm, nn.LayerNorm))


def _is_deform_conv(module: nn.Module) -> bool:
    # Matched by class name so that mmcv (optional) is never imported here.
    return any(cls.__name__ in _DCN_NAMES for cls in type(module).__mro__)


def _unwrap_model(model: nn.Module) -> nn.Module:
    """Return ``model.module`` for a model wrapper (DDP, DataParallel...).

    Wrappers are recognised, as in the original engine, by a ``module``
    attribute, but only when that module holds every parameter: a plain model
    that merely has a submodule named ``module`` is not cut down to it.
    """
    inner = getattr(model, 'module', None)
    if not isinstance(inner, nn.Module):
        return model
    inner_params = {id(p) for p in inner.parameters()}
    if all(id(p) in inner_params for p in model.parameters()):
        return inner
    return model


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class DefaultOptimWrapperConstructor:
    """Default constructor of optimizer wrappers.

    Args:
        optim_wrapper_cfg (dict): Wrapper config. Must contain ``optimizer``
            (a config dict with ``type`` and hyper-parameters, or a built
            ``torch.optim.Optimizer``); ``type`` defaults to
            ``'OptimWrapper'``; other keys go to the wrapper.
        paramwise_cfg (dict, optional): Per-parameter options:

            - ``custom_keys`` (dict): ``{name_part: dict(lr_mult=, decay_mult=,
              ...)}``; a parameter whose full name contains ``name_part`` gets
              ``lr = base_lr * lr_mult`` and ``weight_decay = base_wd *
              decay_mult`` plus the entries themselves. The longest matching
              key wins; custom keys take precedence over the rules below.
            - ``bias_lr_mult`` / ``bias_decay_mult``: biases (not of
              normalization layers or deformable-conv offsets).
            - ``norm_decay_mult``: weights and biases of normalization layers.
            - ``dwconv_decay_mult``: depth-wise convolution parameters.
            - ``flat_decay_mult``: other 1-D parameters.
            - ``dcn_offset_lr_mult``: deformable-conv offset parameters.
            - ``lr_mult`` / ``decay_mult``: multiply every other parameter.
            - ``bypass_duplicate`` (bool): skip (with a warning) parameters
              shared by several modules instead of failing. Default False.

    Attributes:
        base_lr (float | None): ``lr`` of the optimizer config.
        base_wd (float | None): ``weight_decay`` of the optimizer config.

    Example:
        >>> constructor = DefaultOptimWrapperConstructor(
        ...     dict(optimizer=dict(type='SGD', lr=0.01, weight_decay=1e-4)),
        ...     paramwise_cfg=dict(norm_decay_mult=0.))
        >>> optim_wrapper = constructor(model)
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        if not isinstance(optim_wrapper_cfg, dict):
            raise TypeError('optim_wrapper_cfg should be a dict, but got '
                            f'{type(optim_wrapper_cfg).__name__}')
        if 'optimizer' not in optim_wrapper_cfg:
            raise OptimConfigKeyError(
                '`optim_wrapper_cfg` must contain "optimizer" config, e.g. '
                "dict(optimizer=dict(type='SGD', lr=0.01)), but got keys "
                f'{sorted(optim_wrapper_cfg)}')
        if paramwise_cfg is not None and not isinstance(paramwise_cfg, dict):
            raise TypeError('paramwise_cfg should be None or a dict, but got '
                            f'{type(paramwise_cfg).__name__}')
        self.optim_wrapper_cfg = dict(optim_wrapper_cfg)
        self.optimizer_cfg = self.optim_wrapper_cfg.pop('optimizer')
        self.paramwise_cfg: Dict[str, Any] = \
            {} if paramwise_cfg is None else paramwise_cfg
        if isinstance(self.optimizer_cfg, Optimizer):
            self.base_lr = self.optimizer_cfg.defaults.get('lr')
            self.base_wd = self.optimizer_cfg.defaults.get('weight_decay')
        elif isinstance(self.optimizer_cfg, dict):
            self.base_lr = self.optimizer_cfg.get('lr', None)
            self.base_wd = self.optimizer_cfg.get('weight_decay', None)
        else:
            raise TypeError(
                'optim_wrapper_cfg["optimizer"] should be a config dict or '
                'a torch.optim.Optimizer, but got '
                f'{type(self.optimizer_cfg).__name__}')
        if isinstance(self.optimizer_cfg, Optimizer) and self.paramwise_cfg:
            raise ValueError(
                'paramwise_cfg cannot be applied to an already built '
                'optimizer: give optim_wrapper_cfg["optimizer"] as a config '
                "dict (e.g. dict(type='SGD', lr=0.01)) instead")
        self._validate_cfg()
        self._seen_params: Set[int] = set()
        self._seen_for: Optional[int] = None

    def _validate_cfg(self) -> None:
        """Check ``paramwise_cfg`` against the optimizer config."""
        cfg = self.paramwise_cfg
        # Subclasses (custom constructors) may read their own extra keys.
        if type(self) is DefaultOptimWrapperConstructor:
            unknown = sorted(set(cfg) - PARAMWISE_KEYS)
            if unknown:
                raise KeyError(
                    f'paramwise_cfg: unknown key(s) {unknown}; '
                    f'DefaultOptimWrapperConstructor accepts '
                    f'{sorted(PARAMWISE_KEYS)}. Use a custom constructor '
                    '(optim_wrapper constructor=...) for other options.')
        custom_keys = cfg.get('custom_keys', {})
        if not isinstance(custom_keys, dict):
            raise TypeError('paramwise_cfg["custom_keys"] should be a dict '
                            '{name: dict(lr_mult=..., decay_mult=...)}, but '
                            f'got {type(custom_keys).__name__}')
        for key, value in custom_keys.items():
            if not isinstance(value, dict):
                raise TypeError(
                    f'paramwise_cfg["custom_keys"][{key!r}] should be a '
                    f'dict, but got {type(value).__name__}')
            if self.base_wd is None and 'decay_mult' in value:
                raise ValueError(
                    f'paramwise_cfg["custom_keys"][{key!r}] sets decay_mult '
                    'but the optimizer config has no weight_decay')
            if self.base_lr is None and 'lr_mult' in value:
                raise ValueError(
                    f'paramwise_cfg["custom_keys"][{key!r}] sets lr_mult '
                    'but the optimizer config has no lr')
        if self.base_wd is None:
            for key in _DECAY_KEYS:
                if key in cfg:
                    raise ValueError(
                        f'paramwise_cfg sets {key} but the optimizer config '
                        'has no weight_decay (base_wd is None)')
        if self.base_lr is None:
            for key in _LR_KEYS:
                if key in cfg:
                    raise ValueError(
                        f'paramwise_cfg sets {key} but the optimizer config '
                        'has no lr (base_lr is None)')
        if isinstance(self.optimizer_cfg, dict) \
                and 'type' not in self.optimizer_cfg:
            raise OptimConfigKeyError(
                'optim_wrapper_cfg["optimizer"] must contain "type", e.g. '
                "dict(type='SGD', lr=0.01), but got keys "
                f'{sorted(self.optimizer_cfg)}')

    # ------------------------------------------------------------------
    def add_params(self,
                   params: List[dict],
                   module: nn.Module,
                   prefix: str = '',
                   is_dcn_module: Optional[bool] = None) -> None:
        """Append one param group per parameter of ``module`` (recursively).

        Args:
            params (list[dict]): Param groups collected so far; extended in
                place.
            module (nn.Module): The module whose parameters are added.
            prefix (str): Name prefix of ``module``. Defaults to ''.
            is_dcn_module (bool, optional): Whether ``module`` is the child
                of a deformable convolution (its offset conv).
        """
        # Track seen parameters per top-level ``params`` list: shared
        # parameters are met once per module that holds them.
        if self._seen_for != id(params) or not params and prefix == '':
            self._seen_for = id(params)
            self._seen_params = set()
        cfg = self.paramwise_cfg
        custom_keys = cfg.get('custom_keys', {})
        # Longest (most specific) keys first; ties in alphabetical order.
        sorted_keys = sorted(sorted(custom_keys), key=len, reverse=True)
        bias_lr_mult = cfg.get('bias_lr_mult', 1.)
        bias_decay_mult = cfg.get('bias_decay_mult', 1.)
        norm_decay_mult = cfg.get('norm_decay_mult', None)
        dwconv_decay_mult = cfg.get('dwconv_decay_mult', None)
        flat_decay_mult = cfg.get('flat_decay_mult', None)
        dcn_offset_lr_mult = cfg.get('dcn_offset_lr_mult', None)
        lr_mult = cfg.get('lr_mult', None)
        decay_mult = cfg.get('decay_mult', None)
        bypass_duplicate = cfg.get('bypass_duplicate', False)

        is_norm = _is_norm(module)
        is_dwconv = (isinstance(module, nn.Conv2d)
                     and module.in_channels == module.groups)

        for name, param in module.named_parameters(recurse=False):
            full_name = f'{prefix}.{name}' if prefix else name
            if id(param) in self._seen_params:
                if bypass_duplicate:
                    print_log(
                        f'{full_name} is duplicate. It is skipped since '
                        f'bypass_duplicate={bypass_duplicate}',
                        logger='current',
                        level=logging.WARNING)
                    continue
                if param.requires_grad:
                    raise ValueError(
                        'some parameters appear in more than one parameter '
                        f'group: {full_name} is shared with another module. '
                        'Set paramwise_cfg=dict(bypass_duplicate=True) to '
                        'skip the duplicates.')
            self._seen_params.add(id(param))
            if not param.requires_grad:
                # Frozen parameters are left out of the optimizer.
                continue

            param_group: Dict[str, Any] = {'params': [param]}
            matched = next((k for k in sorted_keys if k in full_name), None)
            if matched is not None:
                custom = custom_keys[matched]
                if self.base_lr is not None:
                    param_group['lr'] = self.base_lr * custom.get(
                        'lr_mult', 1.)
                if self.base_wd is not None:
                    param_group['weight_decay'] = self.base_wd * custom.get(
                        'decay_mult', 1.)
                param_group.update(custom)
            else:
                if name == 'bias' and not (is_norm or is_dcn_module) \
                        and self.base_lr is not None:
                    param_group['lr'] = self.base_lr * bias_lr_mult
                if (is_dcn_module and dcn_offset_lr_mult is not None
                        and isinstance(module, nn.Conv2d)
                        and 'conv_offset' in prefix):
                    param_group['lr'] = self.base_lr * dcn_offset_lr_mult
                if self.base_wd is not None:
                    if is_norm:
                        if norm_decay_mult is not None:
                            param_group['weight_decay'] = \
                                self.base_wd * norm_decay_mult
                    elif name == 'bias' and not is_dcn_module:
                        param_group['weight_decay'] = \
                            self.base_wd * bias_decay_mult
                    elif is_dwconv and dwconv_decay_mult is not None:
                        param_group['weight_decay'] = \
                            self.base_wd * dwconv_decay_mult
                    elif (param.ndim == 1 and not is_dcn_module
                          and flat_decay_mult is not None):
                        param_group['weight_decay'] = \
                            self.base_wd * flat_decay_mult
                if lr_mult is not None:
                    param_group['lr'] = param_group.get(
                        'lr', self.base_lr) * lr_mult
                if decay_mult is not None:
                    param_group['weight_decay'] = param_group.get(
                        'weight_decay', self.base_wd) * decay_mult
            params.append(param_group)
            for key, value in param_group.items():
                if key != 'params':
                    print_log(
                        f'paramwise_options -- {full_name}:{key}={value}',
                        logger='current')

        child_is_dcn = _is_deform_conv(module)
        for child_name, child in module.named_children():
            child_prefix = f'{prefix}.{child_name}' if prefix else child_name
            self.add_params(
                params, child, prefix=child_prefix, is_dcn_module=child_is_dcn)

    # ------------------------------------------------------------------
    def _first_arg_name(self) -> str:
        """Name of the optimizer's parameter argument (usually ``params``).

        Some optimizers name it differently (e.g. ``model_params``), so the
        first argument of the optimizer's signature receives the parameters.
        """
        optimizer_cls = self.optimizer_cfg['type']
        if isinstance(optimizer_cls, str):
            with OPTIMIZERS.switch_scope_and_registry(None) as registry:
                found = registry.get(optimizer_cls)
            if found is None:
                raise KeyError(
                    f'optimizer type {optimizer_cls!r} is not registered in '
                    'OPTIMIZERS: ' +
                    OPTIMIZERS.describe_missing(optimizer_cls))
            optimizer_cls = found
        try:
            parameters = list(
                inspect.signature(optimizer_cls).parameters.values())
        except (TypeError, ValueError):
            return 'params'
        if not parameters or parameters[0].kind in (
                inspect.Parameter.VAR_POSITIONAL,
                inspect.Parameter.VAR_KEYWORD):
            return 'params'
        return parameters[0].name

    def build_optimizer(self, model: nn.Module) -> Optimizer:
        """Build the optimizer for ``model`` (already unwrapped)."""
        if isinstance(self.optimizer_cfg, Optimizer):
            return self.optimizer_cfg
        optimizer_cfg = dict(self.optimizer_cfg)
        arg_name = self._first_arg_name()
        if not self.paramwise_cfg:
            optimizer_cfg[arg_name] = model.parameters()
        else:
            params: List[dict] = []
            self.add_params(params, model)
            optimizer_cfg[arg_name] = params
        return OPTIMIZERS.build(optimizer_cfg)

    def __call__(self, model: nn.Module):
        """Build the optimizer wrapper for ``model``.

        Args:
            model (nn.Module): The model; a model wrapper (with ``module``)
                is unwrapped first.

        Returns:
            OptimWrapper: The wrapper built from ``OPTIM_WRAPPERS``.
        """
        model = _unwrap_model(model)
        optim_wrapper_cfg = dict(self.optim_wrapper_cfg)
        optim_wrapper_cfg.setdefault('type', 'OptimWrapper')
        optimizer = self.build_optimizer(model)
        return OPTIM_WRAPPERS.build(
            optim_wrapper_cfg, default_args=dict(optimizer=optimizer))
