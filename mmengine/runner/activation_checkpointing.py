"""Activation checkpointing: trade compute for memory on chosen submodules.

A checkpointed submodule does not keep its intermediate activations for the
backward pass; it runs its forward again during backward instead
(``torch.utils.checkpoint``).
"""
from functools import wraps
from typing import Any, Callable, List, Union

import torch.nn as nn
from torch.utils.checkpoint import checkpoint

__all__ = ['turn_on_activation_checkpointing']

# Marks a forward already wrapped, so turning it on twice is harmless.
_WRAPPED = '_mmengine_activation_checkpointing'


def wrap_forward(forward: Callable, use_reentrant: bool = False) -> Callable:
    """Return ``forward`` running under ``torch.utils.checkpoint``."""

    @wraps(forward)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return checkpoint(
            forward, *args, use_reentrant=use_reentrant, **kwargs)

    setattr(wrapper, _WRAPPED, True)
    return wrapper


def turn_on_activation_checkpointing(model: nn.Module,
                                     modules: Union[List[str], str],
                                     use_reentrant: bool = False) -> None:
    """Checkpoint the activations of the named submodules of ``model``.

    The outputs and gradients are unchanged; activation memory of those
    submodules is traded for a second forward pass during backward.

    Args:
        model (nn.Module): the model.
        modules (list[str] | str): dotted names of submodules, as in
            ``model.named_modules()`` (e.g. ``'backbone.layer1'``).
        use_reentrant (bool): use the reentrant implementation of
            ``torch.utils.checkpoint``. Defaults to False (recommended by
            PyTorch; supports keyword arguments).

    Raises:
        TypeError: if ``modules`` is not a str or list of str.
        ValueError: naming a submodule that does not exist.
    """
    if isinstance(modules, str):
        modules = [modules]
    if not isinstance(modules, (list, tuple)) or not all(
            isinstance(m, str) for m in modules):
        raise TypeError('modules must be a str or a list of str (submodule '
                        f'names), but got {modules!r}')
    targets = []
    for name in modules:  # resolve all first: fail before changing anything
        try:
            targets.append(model.get_submodule(name))
        except AttributeError as e:
            raise ValueError(
                f'turn_on_activation_checkpointing: {type(model).__name__} '
                f'has no submodule {name!r} ({e})') from None
    for module in targets:
        if getattr(module.forward, _WRAPPED, False):
            continue
        module.forward = wrap_forward(module.forward, use_reentrant)
