"""``MMSeparateDistributedDataParallel``: one DDP per trainable submodule."""
from contextlib import ExitStack, contextmanager
from typing import Any, Dict, Iterator, Union

import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel

from mmengine.device import get_device
from mmengine.registry import MODEL_WRAPPERS
from .distributed import MMDistributedDataParallel

__all__ = ['MMSeparateDistributedDataParallel']


@MODEL_WRAPPERS.register_module()
class MMSeparateDistributedDataParallel(DistributedDataParallel):
    """Wrap every trainable child of a model with its own DDP.

    For models with several optimizers (GANs: generator and discriminator)
    whose parts are updated at different times: each direct child that has
    trainable parameters becomes an ``MMDistributedDataParallel``, so its
    gradients are synchronised independently, under the control of its own
    optimizer wrapper's ``optim_context``. Children without parameters, or
    whose parameters are all frozen (an EMA copy, an activation), are only
    moved to the device.

    ``train_step``/``val_step``/``test_step`` call the wrapped model's own
    methods, which are expected to drive the submodules (and an
    ``OptimWrapperDict``) themselves.

    Note:
        DDP's own ``__init__`` is deliberately not run: this object only
        reuses the DDP type (so code that checks for DDP treats it as a
        distributed wrapper); the communication is done by the child DDPs.

    Args:
        module (nn.Module): The model to wrap.
        broadcast_buffers (bool): Passed to every child DDP. Defaults to
            False.
        find_unused_parameters (bool): Passed to every child DDP. Defaults to
            False.
        **kwargs: Other arguments of ``MMDistributedDataParallel``.
    """

    def __init__(self,
                 module: nn.Module,
                 broadcast_buffers: bool = False,
                 find_unused_parameters: bool = False,
                 **kwargs) -> None:
        nn.Module.__init__(self)
        if not isinstance(module, nn.Module):
            raise TypeError('MMSeparateDistributedDataParallel expects an '
                            f'nn.Module to wrap, but got {type(module)}')
        self.module = module
        device = get_device()
        for name, sub_module in module._modules.items():
            if sub_module is None:
                continue
            params = list(sub_module.parameters())
            if not any(p.requires_grad for p in params):
                sub_module = sub_module.to(device)
            else:
                sub_module = MMDistributedDataParallel(
                    module=sub_module.to(device),
                    broadcast_buffers=broadcast_buffers,
                    find_unused_parameters=find_unused_parameters,
                    **kwargs)
            module._modules[name] = sub_module

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper) -> Dict[str, Any]:
        """Return ``module.train_step(data, optim_wrapper)``.

        Args:
            data (dict | tuple | list): A batch from the dataloader.
            optim_wrapper (OptimWrapperDict): One optimizer wrapper per
                trainable part; the model decides how to use them.
        """
        return self.module.train_step(data, optim_wrapper)

    def val_step(self, data: Union[dict, tuple, list]) -> list:
        """Return ``module.val_step(data)``."""
        return self.module.val_step(data)

    def test_step(self, data: Union[dict, tuple, list]) -> list:
        """Return ``module.test_step(data)``."""
        return self.module.test_step(data)

    def forward(self, *args, **kwargs) -> Any:
        """Call the wrapped model (its children synchronise themselves)."""
        return self.module(*args, **kwargs)

    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """Disable gradient synchronisation of every child DDP."""
        with ExitStack() as stack:
            for sub_module in self.module._modules.values():
                if isinstance(sub_module, DistributedDataParallel):
                    stack.enter_context(sub_module.no_sync())
            yield

    def train(self, mode: bool = True) -> 'MMSeparateDistributedDataParallel':
        """Set the training mode of this wrapper and the wrapped model."""
        self.training = mode
        self.module.train(mode)
        return self
