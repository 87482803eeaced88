"""Weight initialisation: init functions, initializers and ``initialize``.

An ``init_cfg`` is a dict (or a list of dicts) such as
``dict(type='Constant', layer='Conv2d', val=1, bias=2)``. ``type`` names an
initializer registered in ``WEIGHT_INITIALIZERS``; ``layer`` restricts it to
sub-modules whose class (or a base class) has that name; ``override`` applies
a cfg to a named child as a whole; ``Pretrained`` loads weights from a
checkpoint.
"""
import copy
import logging
import math
from typing import List, Optional, Sequence, Union

import torch
import torch.nn as nn
from torch import Tensor

from mmengine.logging import print_log
from mmengine.registry import WEIGHT_INITIALIZERS, build_from_cfg

__all__ = [
    'update_init_info', 'constant_init', 'xavier_init', 'normal_init',
    'trunc_normal_init', 'uniform_init', 'kaiming_init', 'caffe2_xavier_init',
    'bias_init_with_prob', 'trunc_normal_', 'BaseInit', 'ConstantInit',
    'XavierInit', 'NormalInit', 'TruncNormalInit', 'UniformInit',
    'KaimingInit', 'Caffe2XavierInit', 'PretrainedInit', 'initialize'
]


def update_init_info(module: nn.Module, init_info: str) -> None:
    """Record ``init_info`` for every parameter of ``module`` whose value
    changed since it was last recorded.

    ``BaseModule.init_weights`` of the top-level module attaches a shared
    ``_params_init_info`` dict to every sub-module; without it this is a
    no-op.

    Args:
        module (nn.Module): The module whose parameters were initialised.
        init_info (str): How they were initialised.
    """
    params_info = getattr(module, '_params_init_info', None)
    if params_info is None:
        return
    for param in module.parameters():
        record = params_info.get(param)
        if record is None:
            # A parameter created after the top-level call started.
            continue
        mean_value = _param_mean(param)
        if mean_value is None or record['tmp_mean_value'] is None or \
                not torch.equal(record['tmp_mean_value'], mean_value):
            record['init_info'] = init_info
            record['tmp_mean_value'] = mean_value


def _param_mean(param: torch.Tensor) -> Optional[torch.Tensor]:
    """Mean of a parameter as a change fingerprint; None where it has no
    data to read (meta tensors)."""
    if param.is_meta:
        return None
    return param.detach().float().mean().cpu()


def _has_tensor(module: nn.Module, name: str) -> bool:
    return getattr(module, name, None) is not None


# ----------------------------------------------------------------------------
# Functional initialisers (operate on one module's ``weight`` and ``bias``)
# ----------------------------------------------------------------------------


def constant_init(module: nn.Module, val: float, bias: float = 0) -> None:
    """Fill ``module.weight`` with ``val``, ``module.bias`` with ``bias``."""
    if _has_tensor(module, 'weight'):
        nn.init.constant_(module.weight, val)
    if _has_tensor(module, 'bias'):
        nn.init.constant_(module.bias, bias)


def xavier_init(module: nn.Module,
                gain: float = 1,
                bias: float = 0,
                distribution: str = 'normal') -> None:
    """Xavier (Glorot) init of ``module.weight``; ``distribution`` is
    ``'uniform'`` or ``'normal'``."""
    if distribution not in ('uniform', 'normal'):
        raise ValueError("xavier_init: distribution must be 'uniform' or "
                         f"'normal', but got {distribution!r}")
    if _has_tensor(module, 'weight'):
        if distribution == 'uniform':
            nn.init.xavier_uniform_(module.weight, gain=gain)
        else:
            nn.init.xavier_normal_(module.weight, gain=gain)
    if _has_tensor(module, 'bias'):
        nn.init.constant_(module.bias, bias)


def normal_init(module: nn.Module,
                mean: float = 0,
                std: float = 1,
                bias: float = 0) -> None:
    """Draw ``module.weight`` from N(mean, std²); fill the bias."""
    if _has_tensor(module, 'weight'):
        nn.init.normal_(module.weight, mean, std)
    if _has_tensor(module, 'bias'):
        nn.init.constant_(module.bias, bias)


def trunc_normal_(tensor: Tensor,
                  mean: float = 0.,
                  std: float = 1.,
                  a: float = -2.,
                  b: float = 2.) -> Tensor:
    """Fill ``tensor`` from N(mean, std²) truncated to ``[a, b]``."""
    return nn.init.trunc_normal_(tensor, mean=mean, std=std, a=a, b=b)


def trunc_normal_init(module: nn.Module,
                      mean: float = 0,
                      std: float = 1,
                      a: float = -2,
                      b: float = 2,
                      bias: float = 0) -> None:
    """Truncated-normal init of ``module.weight`` (values in ``[a, b]``)."""
    if _has_tensor(module, 'weight'):
        trunc_normal_(module.weight, mean, std, a, b)
    if _has_tensor(module, 'bias'):
        nn.init.constant_(module.bias, bias)


def uniform_init(module: nn.Module,
                 a: float = 0,
                 b: float = 1,
                 bias: float = 0) -> None:
    """Draw ``module.weight`` from U(a, b); fill the bias."""
    if _has_tensor(module, 'weight'):
        nn.init.uniform_(module.weight, a, b)
    if _has_tensor(module, 'bias'):
        nn.init.constant_(module.bias, bias)


def kaiming_init(module: nn.Module,
                 a: float = 0,
                 mode: str = 'fan_out',
                 nonlinearity: str = 'relu',
                 bias: float = 0,
                 distribution: str = 'normal') -> None:
    """Kaiming (He) init of ``module.weight``."""
    if distribution not in ('uniform', 'normal'):
        raise ValueError("kaiming_init: distribution must be 'uniform' or "
                         f"'normal', but got {distribution!r}")
    if _has_tensor(module, 'weight'):
        if distribution == 'uniform':
            nn.init.kaiming_uniform_(
                module.weight, a=a, mode=mode, nonlinearity=nonlinearity)
        else:
            nn.init.kaiming_normal_(
                module.weight, a=a, mode=mode, nonlinearity=nonlinearity)
    if _has_tensor(module, 'bias'):
        nn.init.constant_(module.bias, bias)


def caffe2_xavier_init(module: nn.Module, bias: float = 0) -> None:
    """Caffe2's XavierFill: uniform Kaiming with ``a=1, mode='fan_in'``."""
    kaiming_init(
        module,
        a=1,
        mode='fan_in',
        nonlinearity='leaky_relu',
        bias=bias,
        distribution='uniform')


def bias_init_with_prob(prior_prob: float) -> float:
    """The bias value that makes ``sigmoid(bias) == prior_prob``."""
    if not 0 < prior_prob < 1:
        raise ValueError('bias_init_with_prob: prior_prob must be in (0, 1), '
                         f'but got {prior_prob!r}')
    return float(-math.log((1 - prior_prob) / prior_prob))


def _get_bases_name(m: nn.Module) -> List[str]:
    return [b.__name__ for b in type(m).__mro__]


# ----------------------------------------------------------------------------
# Initializer classes (built from ``init_cfg`` via WEIGHT_INITIALIZERS)
# ----------------------------------------------------------------------------


class BaseInit:
    """Base of the configurable initializers.

    Args:
        bias (int | float): Value to fill biases with. Defaults to 0.
        bias_prob (float, optional): If given, biases are set to
            ``bias_init_with_prob(bias_prob)`` instead of ``bias``.
        layer (str | list[str], optional): Class names of the sub-modules
            to initialise (a sub-module matches if its class or one of its
            base classes has that name). ``None`` matches nothing unless the
            initializer is applied to a whole module through ``override``.
    """

    def __init__(self,
                 *,
                 bias: float = 0,
                 bias_prob: Optional[float] = None,
                 layer: Union[str, Sequence[str], None] = None) -> None:
        self.wholemodule = False
        if not isinstance(bias, (int, float)) or isinstance(bias, bool):
            raise TypeError(f'{type(self).__name__}: bias must be an int or '
                            f'float, but got {type(bias).__name__}: {bias!r}')
        if bias_prob is not None:
            if not isinstance(bias_prob, float):
                raise TypeError(
                    f'{type(self).__name__}: bias_prob must be a float, '
                    f'but got {type(bias_prob).__name__}: {bias_prob!r}')
            bias = bias_init_with_prob(bias_prob)
        if layer is None:
            layer = []
        elif isinstance(layer, str):
            layer = [layer]
        elif not (isinstance(layer, (list, tuple))
                  and all(isinstance(x, str) for x in layer)):
            raise TypeError(
                f'{type(self).__name__}: layer must be a str or a list of '
                f'str, but got {type(layer).__name__}: {layer!r}')
        self.bias = bias
        self.layer = list(layer)

    def _matches(self, m: nn.Module) -> bool:
        if self.wholemodule:
            return True
        return bool(set(self.layer).intersection(_get_bases_name(m)))

    def _init_module(self, m: nn.Module) -> None:
        """Initialise one (matching) module; subclasses implement it."""
        raise NotImplementedError  # abstract

    def __call__(self, module: nn.Module) -> None:
        def init(m: nn.Module) -> None:
            if self._matches(m):
                self._init_module(m)

        module.apply(init)
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    def _get_init_info(self) -> str:
        return f'{type(self).__name__}: bias={self.bias}'


@WEIGHT_INITIALIZERS.register_module(name='Constant')
class ConstantInit(BaseInit):
    """Fill weights with ``val`` and biases with ``bias``.

    Args:
        val (int | float): The weight value.
        **kwargs: ``bias``, ``bias_prob``, ``layer`` (see :class:`BaseInit`).
    """

    def __init__(self, val: float, **kwargs) -> None:
        super().__init__(**kwargs)
        self.val = val

    def _init_module(self, m: nn.Module) -> None:
        constant_init(m, self.val, self.bias)

    def _get_init_info(self) -> str:
        return f'{type(self).__name__}: val={self.val}, bias={self.bias}'


@WEIGHT_INITIALIZERS.register_module(name='Xavier')
class XavierInit(BaseInit):
    """Xavier init (``gain``, ``distribution`` 'normal' or 'uniform')."""

    def __init__(self,
                 gain: float = 1,
                 distribution: str = 'normal',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if distribution not in ('uniform', 'normal'):
            raise ValueError("XavierInit: distribution must be 'uniform' or "
                             f"'normal', but got {distribution!r}")
        self.gain = gain
        self.distribution = distribution

    def _init_module(self, m: nn.Module) -> None:
        xavier_init(m, self.gain, self.bias, self.distribution)

    def _get_init_info(self) -> str:
        return (f'{type(self).__name__}: gain={self.gain}, '
                f'distribution={self.distribution}, bias={self.bias}')


@WEIGHT_INITIALIZERS.register_module(name='Normal')
class NormalInit(BaseInit):
    """Normal init N(``mean``, ``std``²)."""

    def __init__(self, mean: float = 0, std: float = 1, **kwargs) -> None:
        super().__init__(**kwargs)
        self.mean = mean
        self.std = std

    def _init_module(self, m: nn.Module) -> None:
        normal_init(m, self.mean, self.std, self.bias)

    def _get_init_info(self) -> str:
        return (f'{type(self).__name__}: mean={self.mean}, std={self.std}, '
                f'bias={self.bias}')


@WEIGHT_INITIALIZERS.register_module(name='TruncNormal')
class TruncNormalInit(BaseInit):
    """Truncated normal init: N(``mean``, ``std``²) cut to ``[a, b]``."""

    def __init__(self,
                 mean: float = 0,
                 std: float = 1,
                 a: float = -2,
                 b: float = 2,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if a >= b:
            raise ValueError(f'TruncNormalInit: a must be < b, but got a={a}'
                             f', b={b}')
        self.mean = mean
        self.std = std
        self.a = a
        self.b = b

    def _init_module(self, m: nn.Module) -> None:
        trunc_normal_init(m, self.mean, self.std, self.a, self.b, self.bias)

    def _get_init_info(self) -> str:
        return (f'{type(self).__name__}: a={self.a}, b={self.b}, '
                f'mean={self.mean}, std={self.std}, bias={self.bias}')


@WEIGHT_INITIALIZERS.register_module(name='Uniform')
class UniformInit(BaseInit):
    """Uniform init U(``a``, ``b``)."""

    def __init__(self, a: float = 0., b: float = 1., **kwargs) -> None:
        super().__init__(**kwargs)
        self.a = a
        self.b = b

    def _init_module(self, m: nn.Module) -> None:
        uniform_init(m, self.a, self.b, self.bias)

    def _get_init_info(self) -> str:
        return (f'{type(self).__name__}: a={self.a}, b={self.b}, '
                f'bias={self.bias}')


@WEIGHT_INITIALIZERS.register_module(name='Kaiming')
class KaimingInit(BaseInit):
    """Kaiming init (``a``, ``mode``, ``nonlinearity``, ``distribution``)."""

    def __init__(self,
                 a: float = 0,
                 mode: str = 'fan_out',
                 nonlinearity: str = 'relu',
                 distribution: str = 'normal',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if mode not in ('fan_in', 'fan_out'):
            raise ValueError("KaimingInit: mode must be 'fan_in' or "
                             f"'fan_out', but got {mode!r}")
        if distribution not in ('uniform', 'normal'):
            raise ValueError("KaimingInit: distribution must be 'uniform' "
                             f"or 'normal', but got {distribution!r}")
        self.a = a
        self.mode = mode
        self.nonlinearity = nonlinearity
        self.distribution = distribution

    def _init_module(self, m: nn.Module) -> None:
        kaiming_init(m, self.a, self.mode, self.nonlinearity, self.bias,
                     self.distribution)

    def _get_init_info(self) -> str:
        return (f'{type(self).__name__}: a={self.a}, mode={self.mode}, '
                f'nonlinearity={self.nonlinearity}, '
                f'distribution={self.distribution}, bias={self.bias}')


@WEIGHT_INITIALIZERS.register_module(name='Caffe2Xavier')
class Caffe2XavierInit(KaimingInit):
    """Caffe2's XavierFill (uniform Kaiming, ``a=1``, ``fan_in``)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(
            a=1,
            mode='fan_in',
            nonlinearity='leaky_relu',
            distribution='uniform',
            **kwargs)


@WEIGHT_INITIALIZERS.register_module(name='Pretrained')
class PretrainedInit:
    """Load weights from a checkpoint (all of it, or only keys under
    ``prefix`` with the prefix stripped), non-strictly.

    Args:
        checkpoint (str): Path or URL of the checkpoint.
        prefix (str, optional): Keep only the keys starting with it, e.g.
            ``'backbone.'``. Defaults to None.
        map_location (str): Where to map the tensors. Defaults to 'cpu'.
    """

    def __init__(self,
                 checkpoint: str,
                 prefix: Optional[str] = None,
                 map_location: str = 'cpu') -> None:
        if not isinstance(checkpoint, str):
            raise TypeError('PretrainedInit: checkpoint must be a str path '
                            f'or URL, but got {type(checkpoint).__name__}')
        if prefix is not None and not isinstance(prefix, str):
            raise TypeError('PretrainedInit: prefix must be a str or None, '
                            f'but got {type(prefix).__name__}')
        self.checkpoint = checkpoint
        self.prefix = prefix
        self.map_location = map_location
        self.wholemodule = False

    def __call__(self, module: nn.Module) -> None:
        # runner sits above model in the dependency order: import lazily.
        from mmengine.runner.checkpoint import (_load_checkpoint,
                                                load_checkpoint,
                                                load_state_dict)
        if self.prefix is None:
            print_log(f'load model from: {self.checkpoint}', logger='current')
            load_checkpoint(
                module,
                self.checkpoint,
                map_location=self.map_location,
                strict=False,
                logger='current')
        else:
            print_log(
                f'load {self.prefix} in model from: {self.checkpoint}',
                logger='current')
            ckpt = _load_checkpoint(
                self.checkpoint, map_location=self.map_location)
            state_dict = ckpt.get('state_dict', ckpt) if isinstance(
                ckpt, dict) else ckpt
            prefix = self.prefix if self.prefix.endswith(
                '.') else self.prefix + '.'
            state_dict = {
                k[len(prefix):]: v
                for k, v in state_dict.items() if k.startswith(prefix)
            }
            if not state_dict:
                raise ValueError(
                    f'PretrainedInit: no key of checkpoint '
                    f'{self.checkpoint!r} starts with prefix {prefix!r}')
            load_state_dict(module, state_dict, strict=False, logger='current')
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    def _get_init_info(self) -> str:
        return f'{type(self).__name__}: load from {self.checkpoint}'


# ----------------------------------------------------------------------------
# ``initialize``: apply an init_cfg (with ``override``) to a module
# ----------------------------------------------------------------------------

# Registered names and classes of the initializers that act on ``layer``.
_LAYER_INITIALIZERS = {
    name_or_cls
    for cls in (ConstantInit, XavierInit, NormalInit, TruncNormalInit,
                UniformInit, KaimingInit, Caffe2XavierInit)
    for name_or_cls in (cls, cls.__name__[:-len('Init')])
}


def _initialize(module: nn.Module,
                cfg: dict,
                wholemodule: bool = False) -> None:
    func = build_from_cfg(cfg, WEIGHT_INITIALIZERS)
    # wholemodule: the cfg came from ``override`` and applies to every
    # sub-module of the named child, whatever its class.
    func.wholemodule = wholemodule
    func(module)


def _initialize_override(module: nn.Module, override: Union[dict, list],
                         cfg: dict) -> None:
    if isinstance(override, dict):
        override = [override]
    if not isinstance(override, list):
        raise TypeError('init_cfg: override must be a dict or a list of '
                        f'dicts, but got {type(override).__name__}')
    for override_ in override:
        if not isinstance(override_, dict):
            raise TypeError('init_cfg: each override must be a dict, but '
                            f'got {type(override_).__name__}: {override_!r}')
        cp_override = copy.deepcopy(dict(override_))
        name = cp_override.pop('name', None)
        if name is None:
            raise ValueError('init_cfg: `override` must contain the key '
                             f'"name", but got {override_!r}')
        if not cp_override:
            # only a name: reuse the outer cfg's initializer and arguments.
            cp_override.update(cfg)
        elif 'type' not in cp_override:
            raise ValueError('init_cfg: `override` with arguments needs a '
                             f'"type" key, but got {override_!r}')
        if not hasattr(module, name):
            raise RuntimeError(
                f'init_cfg: {type(module).__name__} has no attribute '
                f'{name!r} named in override {override_!r}')
        _initialize(getattr(module, name), cp_override, wholemodule=True)


def initialize(module: nn.Module, init_cfg: Union[dict, List[dict]]) -> None:
    """Initialise ``module`` according to ``init_cfg``.

    Args:
        module (nn.Module): The module to initialise.
        init_cfg (dict | list[dict]): Initializer config(s), e.g.
            ``dict(type='Constant', layer='Conv2d', val=1, bias=2)``, or
            ``dict(type='Normal', layer='Conv2d', std=0.01,
            override=dict(type='Normal', name='reg', std=0.001))``.

    Raises:
        TypeError: If ``init_cfg`` is not a dict or a list of dicts.

    Examples:
        >>> model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.Linear(2, 2))
        >>> initialize(model, dict(type='Constant', layer='Conv2d', val=1))
    """
    if isinstance(init_cfg, dict):
        init_cfg = [init_cfg]
    if not isinstance(init_cfg, list):
        raise TypeError('initialize: init_cfg must be a dict or a list of '
                        f'dicts, but got {type(init_cfg).__name__}')
    for cfg in init_cfg:
        if not isinstance(cfg, dict):
            raise TypeError('initialize: each init_cfg must be a dict, but '
                            f'got {type(cfg).__name__}: {cfg!r}')
        cp_cfg = copy.deepcopy(dict(cfg))
        override = cp_cfg.pop('override', None)
        if override is None and not cp_cfg.get('layer') and cp_cfg.get(
                'type') in _LAYER_INITIALIZERS:
            # Without ``layer`` (or ``override``) a built-in initializer
            # matches no sub-module: say so rather than do nothing quietly.
            print_log(
                f'init_cfg {cfg} has neither `layer` nor `override`, so it '
                f'initialises nothing in {type(module).__name__}; add e.g. '
                "layer='Conv2d' or override=dict(name=...)",
                logger='current',
                level=logging.WARNING)
        _initialize(module, cp_cfg)
        if override is not None:
            cp_cfg.pop('layer', None)
            _initialize_override(module, override, cp_cfg)
