"""``BaseModule``: an ``nn.Module`` with configurable weight initialisation,
and the containers ``Sequential``, ``ModuleList`` and ``ModuleDict``."""
import copy
import logging
import warnings
from collections import defaultdict
from logging import FileHandler
from typing import Iterable, List, Optional, Union

import torch
import torch.nn as nn

from mmengine.logging import MMLogger, print_log
from .weight_init import (PretrainedInit, _param_mean, initialize,
                          update_init_info)
from .wrappers.utils import is_model_wrapper

__all__ = ['BaseModule', 'Sequential', 'ModuleList', 'ModuleDict']


def _check_init_cfg(init_cfg, owner: str) -> None:
    if init_cfg is None or isinstance(init_cfg, dict):
        return
    if isinstance(init_cfg, list) and all(
            isinstance(c, dict) for c in init_cfg):
        return
    raise TypeError(f'{owner}: init_cfg must be a dict, a list of dicts or '
                    f'None, but got {type(init_cfg).__name__}: {init_cfg!r}')


def _is_pretrained(cfg: dict) -> bool:
    return cfg.get('type') in ('Pretrained', PretrainedInit)


class BaseModule(nn.Module):
    """Base of the modules whose weights are initialised from ``init_cfg``.

    ``init_weights()`` applies ``init_cfg`` to this module, then calls
    ``init_weights()`` of every child that has one (so a child's own
    ``init_cfg`` overrides the parent's), then loads ``Pretrained`` weights
    last. Each module is initialised once (``is_init``). The top-level call
    records which initialiser last changed each parameter and writes that
    table to the current logger's log file (or to the console at DEBUG
    level when there is no log file).

    Args:
        init_cfg (dict | list[dict], optional): Initialisation config(s),
            see :func:`mmengine.model.initialize`. Defaults to None.
    """

    def __init__(self, init_cfg: Union[dict, List[dict], None] = None):
        super().__init__()
        _check_init_cfg(init_cfg, type(self).__name__)
        self._is_init = False
        self.init_cfg = copy.deepcopy(init_cfg)

    @property
    def is_init(self) -> bool:
        """bool: whether ``init_weights`` has already run."""
        return self._is_init

    @is_init.setter
    def is_init(self, value: bool) -> None:
        self._is_init = value

    def init_weights(self) -> None:
        """Initialise the weights from ``init_cfg`` and the children's own
        ``init_weights``."""
        if hasattr(self, '_params_init_info'):
            # Called from a parent's init_weights: it owns the info table.
            self._init_weights()
            return
        self._start_init_info()
        try:
            self._init_weights()
            self._dump_init_info()
        finally:
            # Also after an error, so that a retry starts afresh.
            for sub_module in self.modules():
                if hasattr(sub_module, '_params_init_info'):
                    del sub_module._params_init_info

    def _init_weights(self) -> None:
        module_name = type(self).__name__
        if self._is_init:
            warnings.warn(f'init_weights of {module_name} has been called '
                          'more than once.')
            return
        pretrained_cfgs: list = []
        if self.init_cfg:
            print_log(
                f'initialize {module_name} with init_cfg {self.init_cfg}',
                logger='current',
                level=logging.DEBUG)
            init_cfgs = self.init_cfg if isinstance(self.init_cfg,
                                                    list) else [self.init_cfg]
            # Pretrained weights are loaded last so that they win over
            # every other initialiser, the children's included.
            other_cfgs = [c for c in init_cfgs if not _is_pretrained(c)]
            pretrained_cfgs = [c for c in init_cfgs if _is_pretrained(c)]
            if other_cfgs:
                initialize(self, other_cfgs)

        for m in self.children():
            if is_model_wrapper(m) and not hasattr(m, 'init_weights'):
                m = m.module
            if hasattr(m, 'init_weights') and not getattr(
                    m, 'is_init', False):
                m.init_weights()
                update_init_info(
                    m,
                    init_info='Initialized by user-defined `init_weights`'
                    f' in {type(m).__name__} ')
        if pretrained_cfgs:
            initialize(self, pretrained_cfgs)
        self._is_init = True

    def _start_init_info(self) -> None:
        """Attach a shared table param -> init info to every sub-module."""
        info: dict = defaultdict(dict)
        for param in self.parameters():
            info[param]['init_info'] = (
                'The value is the same before and after calling '
                f'`init_weights` of {type(self).__name__} ')
            info[param]['tmp_mean_value'] = _param_mean(param)
        for sub_module in self.modules():
            sub_module._params_init_info = info

    @torch.no_grad()
    def _dump_init_info(self) -> None:
        """Write the initialisation table to the current logger's files."""
        logger = MMLogger.get_current_instance()
        info = self._params_init_info
        lines = [
            f'\n{name} - {tuple(param.shape)}: \n'
            f"{info[param]['init_info']} \n"
            for name, param in self.named_parameters()
        ]
        with_file_handler = False
        for handler in logger.handlers:
            if isinstance(handler, FileHandler) and handler.stream:
                handler.stream.write(
                    'Name of parameter - Initialization information\n')
                handler.stream.write(''.join(lines))
                handler.stream.flush()
                with_file_handler = True
        if not with_file_handler:
            # Without a log file, keep the console quiet unless debugging.
            for line in lines:
                print_log(line, logger=logger, level=logging.DEBUG)

    def __repr__(self) -> str:
        s = super().__repr__()
        if self.init_cfg:
            s += f'\ninit_cfg={self.init_cfg}'
        return s


class Sequential(BaseModule, nn.Sequential):
    """``nn.Sequential`` that is also a :class:`BaseModule`.

    Args:
        *args: The modules, in order.
        init_cfg (dict | list[dict], optional): Initialisation config.
    """

    def __init__(self, *args, init_cfg: Union[dict, List[dict],
                                              None] = None):
        BaseModule.__init__(self, init_cfg)
        nn.Sequential.__init__(self, *args)


class ModuleList(BaseModule, nn.ModuleList):
    """``nn.ModuleList`` that is also a :class:`BaseModule`.

    Args:
        modules (iterable, optional): The modules to add.
        init_cfg (dict | list[dict], optional): Initialisation config.
    """

    def __init__(self,
                 modules: Optional[Iterable[nn.Module]] = None,
                 init_cfg: Union[dict, List[dict], None] = None):
        BaseModule.__init__(self, init_cfg)
        nn.ModuleList.__init__(self, modules)


class ModuleDict(BaseModule, nn.ModuleDict):
    """``nn.ModuleDict`` that is also a :class:`BaseModule`.

    Args:
        modules (dict, optional): A mapping name -> module.
        init_cfg (dict | list[dict], optional): Initialisation config.
    """

    def __init__(self,
                 modules: Optional[dict] = None,
                 init_cfg: Union[dict, List[dict], None] = None):
        BaseModule.__init__(self, init_cfg)
        nn.ModuleDict.__init__(self, modules)
