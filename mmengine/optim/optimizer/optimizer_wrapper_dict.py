"""``OptimWrapperDict``: named optimizer wrappers (e.g. for GANs)."""
import logging
from contextlib import contextmanager
from typing import Dict, Iterator, List, Tuple

import torch
import torch.nn as nn

from mmengine.logging import print_log
from .optimizer_wrapper import OptimWrapper

__all__ = ['OptimWrapperDict']


class OptimWrapperDict(OptimWrapper):
    """A dict of :class:`OptimWrapper`, for models with several optimizers.

    It only aggregates queries and state (``get_lr``, ``get_momentum``,
    ``state_dict``, ``load_state_dict``, ``initialize_count_status``); the
    update methods must be called on the contained wrappers, e.g.
    ``optim_wrapper['generator'].update_params(loss)``.

    Args:
        **optim_wrapper_dict: ``name=OptimWrapper(...)`` pairs.

    Examples:
        >>> optim_wrapper = OptimWrapperDict(
        ...     gen=OptimWrapper(SGD(gen.parameters(), lr=0.01)),
        ...     disc=OptimWrapper(SGD(disc.parameters(), lr=0.01)))
        >>> optim_wrapper.get_lr()
        {'gen.lr': [0.01], 'disc.lr': [0.01]}
    """

    def __init__(self, **optim_wrapper_dict: OptimWrapper) -> None:
        for name, wrapper in optim_wrapper_dict.items():
            if not isinstance(wrapper, OptimWrapper) or isinstance(
                    wrapper, OptimWrapperDict):
                raise TypeError(
                    f'OptimWrapperDict: {name!r} must be an OptimWrapper, '
                    f'but got {type(wrapper).__name__}')
        # Deliberately no super().__init__: there is no single optimizer.
        self.optim_wrappers: Dict[str, OptimWrapper] = optim_wrapper_dict

    def _use_members(self, name: str, is_method: bool = False) -> str:
        """Explain that ``name`` belongs to the contained wrappers."""
        names = list(self.__dict__.get('optim_wrappers', {})) or ['<name>']
        head = (f'OptimWrapperDict does not implement `{name}`' if is_method
                else f'OptimWrapperDict has no single `{name}`')
        call = '(...)' if is_method else ''
        return (f'{head}; use the contained wrappers, e.g. '
                f'optim_wrapper[{names[0]!r}].{name}{call} (names: {names})')

    def _unsupported(self, method: str):
        raise NotImplementedError(self._use_members(method, is_method=True))

    def update_params(self, loss: torch.Tensor, step_kwargs=None,
                      zero_kwargs=None) -> None:
        """Not supported: update each wrapper separately."""
        self._unsupported('update_params')

    def scale_loss(self, loss: torch.Tensor) -> torch.Tensor:
        """Not supported: each wrapper scales its own loss."""
        self._unsupported('scale_loss')

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        """Not supported: call ``backward`` of the contained wrappers."""
        self._unsupported('backward')

    def step(self, **kwargs) -> None:
        """Not supported: call ``step`` of the contained wrappers."""
        self._unsupported('step')

    def zero_grad(self, **kwargs) -> None:
        """Not supported: call ``zero_grad`` of the contained wrappers."""
        self._unsupported('zero_grad')

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Not supported: use ``optim_context`` of the contained wrappers."""
        self._unsupported('optim_context')
        yield  # pragma: no cover

    def initialize_count_status(self, model: nn.Module, init_counts: int,
                                max_counts: int) -> None:
        """Forward :meth:`OptimWrapper.initialize_count_status` to all."""
        for wrapper in self.optim_wrappers.values():
            wrapper.initialize_count_status(model, init_counts, max_counts)

    @property
    def optimizer(self):
        """Not meaningful: raises ``AttributeError`` naming the wrappers."""
        raise AttributeError(self._use_members('optimizer'))

    @property
    def param_groups(self):
        """Not meaningful: raises ``AttributeError`` naming the wrappers."""
        raise AttributeError(self._use_members('param_groups'))

    @property
    def defaults(self):
        """Not meaningful: raises ``AttributeError`` naming the wrappers."""
        raise AttributeError(self._use_members('defaults'))

    @property
    def inner_count(self) -> int:
        """Not meaningful: raises ``AttributeError`` naming the wrappers."""
        raise AttributeError(self._use_members('inner_count'))

    @property
    def max_counts(self) -> int:
        """Not meaningful: raises ``AttributeError`` naming the wrappers."""
        raise AttributeError(self._use_members('max_counts'))

    def __getattr__(self, name: str):
        # Only reached for missing attributes, e.g. the per-wrapper state
        # (``clip_grad_kwargs``, ``message_hub``, ``_inner_count``) that
        # OptimWrapper methods inherited here would read.
        if name.startswith('__') or name == 'optim_wrappers':
            raise AttributeError(name)
        raise AttributeError(self._use_members(name))

    def should_update(self) -> bool:
        """Not meaningful for several wrappers."""
        self._unsupported('should_update')

    def should_sync(self) -> bool:
        """Not meaningful for several wrappers."""
        self._unsupported('should_sync')

    def _prefixed(self, query: str) -> Dict[str, List[float]]:
        """``{'<name>.<key>': value}`` from ``wrapper.<query>()`` of all."""
        return {
            f'{name}.{key}': value
            for name, wrapper in self.optim_wrappers.items()
            for key, value in getattr(wrapper, query)().items()
        }

    def get_lr(self) -> Dict[str, List[float]]:
        """Return ``{'<name>.lr': [...]}`` (and ``<name>.base_lr``)."""
        return self._prefixed('get_lr')

    def get_momentum(self) -> Dict[str, List[float]]:
        """Return ``{'<name>.momentum': [...]}``."""
        return self._prefixed('get_momentum')

    def state_dict(self) -> dict:
        """Return ``{name: wrapper.state_dict()}``."""
        return {
            name: wrapper.state_dict()
            for name, wrapper in self.optim_wrappers.items()
        }

    def load_state_dict(self, state_dict: dict) -> None:
        """Load ``{name: state}`` into the wrappers of the same names."""
        if not isinstance(state_dict, dict):
            raise TypeError('OptimWrapperDict.load_state_dict expects a dict '
                            f'{{name: state}}, but got '
                            f'{type(state_dict).__name__}')
        # Check every name first so that a bad state loads nothing.
        unknown = [name for name in state_dict if name not in self]
        if unknown:
            raise KeyError(
                f'OptimWrapperDict.load_state_dict: no wrapper named '
                f'{unknown} (have {list(self.optim_wrappers)})')
        missing = [name for name in self.optim_wrappers
                   if name not in state_dict]
        if missing:
            print_log(
                f'OptimWrapperDict.load_state_dict: the state has no entry '
                f'for {missing}; these wrappers keep their current state.',
                logger='current',
                level=logging.WARNING)
        for name, state in state_dict.items():
            self.optim_wrappers[name].load_state_dict(state)

    # Mapping interface
    def items(self) -> Iterator[Tuple[str, OptimWrapper]]:
        """Iterate over ``(name, wrapper)`` pairs."""
        yield from self.optim_wrappers.items()

    def values(self) -> Iterator[OptimWrapper]:
        """Iterate over the wrappers."""
        yield from self.optim_wrappers.values()

    def keys(self) -> Iterator[str]:
        """Iterate over the names."""
        yield from self.optim_wrappers.keys()

    def __getitem__(self, key: str) -> OptimWrapper:
        if key not in self.optim_wrappers:
            raise KeyError(f'OptimWrapperDict: no wrapper named {key!r} '
                           f'(have {list(self.optim_wrappers)})')
        return self.optim_wrappers[key]

    def __contains__(self, key: str) -> bool:
        return key in self.optim_wrappers

    def __len__(self) -> int:
        return len(self.optim_wrappers)

    def __iter__(self) -> Iterator[str]:
        return iter(self.optim_wrappers)

    def __repr__(self) -> str:
        desc = ''
        for name, wrapper in self.optim_wrappers.items():
            desc += f'name: {name}\n{wrapper!r}\n'
        return desc
