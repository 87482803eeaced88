"""``MessageHub``: scalar histories and runtime info shared by components."""
import copy
import sys
import warnings
from collections import OrderedDict
from typing import Any, Optional

from mmengine.utils.manager import ManagerMixin
from .history_buffer import _NUMBER_TYPES, HistoryBuffer, to_scalar

_PLAIN_ATOMS = (type(None), bool, int, float, complex, str, bytes)


class _NotPlain(TypeError):
    """A value that cannot be stored in a ``weights_only`` checkpoint."""


def to_plain(value: Any, where: str = 'value') -> Any:
    """Convert ``value`` to tensors and plain Python types.

    The result loads with ``torch.load(..., weights_only=True)``: numpy
    scalars become Python numbers, numpy arrays nested lists, tuple / list /
    mapping subclasses their plain base type; tensors, ``torch.Size``,
    ``torch.dtype`` and ``torch.device`` stay as they are.

    Args:
        value: The value to convert.
        where (str): Path of the value, used in the error message.

    Raises:
        TypeError: naming the offending (sub)value's path and type if some
            part cannot be converted.
    """
    if type(value) in _PLAIN_ATOMS:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str.__str__(value)
    torch = sys.modules.get('torch')
    if torch is not None and isinstance(
            value, (torch.Tensor, torch.Size, torch.dtype, torch.device)):
        return value
    numpy = sys.modules.get('numpy')
    if numpy is not None:
        if isinstance(value, numpy.generic):
            return to_plain(value.item(), where)
        if isinstance(value, numpy.ndarray):
            return to_plain(value.tolist(), where)
    if isinstance(value, dict):
        items = ((to_plain(k, f'{where} key {k!r}'),
                  to_plain(v, f'{where}[{k!r}]')) for k, v in value.items())
        return OrderedDict(items) if type(value) is OrderedDict \
            else dict(items)
    if isinstance(value, (list, tuple)):
        converted = [to_plain(v, f'{where}[{i}]') for i, v in enumerate(value)]
        return converted if isinstance(value, list) else tuple(converted)
    if isinstance(value, (set, frozenset)):
        return {to_plain(v, f'{where} item') for v in value}
    raise _NotPlain(f'{where} is a {type(value).__module__}.'
                    f'{type(value).__qualname__}, which is not a tensor or a '
                    'plain Python type')


class MessageHub(ManagerMixin):
    """Scalar histories and runtime information shared across components.

    ``log_scalars`` maps keys (by convention prefixed ``train/``, ``val/`` or
    ``test/``) to :class:`HistoryBuffer`; ``runtime_info`` maps keys to
    arbitrary values that are overwritten on update. Keys updated with
    ``resumed=True`` (the default) are saved by :meth:`state_dict`.

    Args:
        name (str): Instance name.
        log_scalars (dict, optional): Initial ``{key: HistoryBuffer}``.
        runtime_info (dict, optional): Initial runtime information.
        resumed_keys (dict, optional): ``{key: bool}``, whether each key of
            ``log_scalars`` / ``runtime_info`` is saved in checkpoints.
            Keys not listed default to True.

    Examples:
        >>> hub = MessageHub.get_instance('task')
        >>> hub.update_scalar('train/loss', 1)
        >>> hub.update_scalar('train/loss', 3)
        >>> hub.get_scalar('train/loss').mean()
        2.0
        >>> hub.update_info('iter', 2)
        >>> hub.get_info('iter')
        2
    """

    def __init__(self,
                 name: str,
                 log_scalars: Optional[dict] = None,
                 runtime_info: Optional[dict] = None,
                 resumed_keys: Optional[dict] = None) -> None:
        super().__init__(name)
        self._log_scalars: OrderedDict = OrderedDict()
        for key, value in (log_scalars or {}).items():
            if not isinstance(value, HistoryBuffer):
                raise TypeError(
                    f'MessageHub: log_scalars[{key!r}] must be a '
                    f'HistoryBuffer, but got {type(value).__name__}')
            self._log_scalars[key] = value
        if runtime_info is not None and not isinstance(runtime_info, dict):
            raise TypeError('MessageHub: runtime_info must be a dict, got '
                            f'{type(runtime_info).__name__}')
        self._runtime_info: OrderedDict = OrderedDict(runtime_info or {})
        self._resumed_keys: OrderedDict = OrderedDict()
        for key, flag in (resumed_keys or {}).items():
            if key not in self._log_scalars and \
                    key not in self._runtime_info:
                raise KeyError(
                    f'MessageHub: resumed_keys has {key!r}, which is neither '
                    'in log_scalars nor in runtime_info')
            self._resumed_keys[key] = bool(flag)
        for key in list(self._log_scalars) + list(self._runtime_info):
            self._resumed_keys.setdefault(key, True)

    @classmethod
    def get_current_instance(cls) -> 'MessageHub':
        """The most recently created hub; creates ``'mmengine'`` if none."""
        if not cls._instance_dict:
            cls.get_instance('mmengine')
        return super().get_current_instance()

    # ------------------------------------------------------------------
    # scalars
    def update_scalar(self,
                      key: str,
                      value: Any,
                      count: Any = 1,
                      resumed: bool = True) -> None:
        """Append ``value`` (weighted by ``count``) to the history ``key``.

        Args:
            key (str): Scalar name, e.g. ``'train/loss'``.
            value: A number, numpy scalar or one-element tensor.
            count: Weight of ``value`` in means. Defaults to 1.
            resumed (bool): Whether the history is saved by
                :meth:`state_dict`. Defaults to True.

        Raises:
            TypeError: if ``key`` is not a str, or ``value`` or ``count`` is
                not a single number.
            ValueError: if ``resumed`` differs from an earlier update.
        """
        # Called several times per iteration: the common case (a str key, a
        # Python number or CPU tensor, count 1, an unchanged ``resumed``)
        # takes only the cheap type checks.
        if type(key) is not str and not isinstance(key, str):
            # Keys are matched by their 'train/', 'val/', 'test/' prefix.
            raise TypeError('MessageHub.update_scalar: key must be a str '
                            "such as 'train/loss', but got "
                            f'{type(key).__name__}: {key!r}')
        if type(value) not in _NUMBER_TYPES or \
                type(count) not in _NUMBER_TYPES:
            # Converted once, here, so that the error names the key.
            try:
                value = to_scalar(value, 'value')
                count = to_scalar(count, 'count')
            except TypeError as e:
                raise TypeError(
                    f'MessageHub.update_scalar: {key!r} {e}') from None
        if self._resumed_keys.get(key) is not resumed:
            self._set_resumed_key(key, resumed)
        buffer = self._log_scalars.get(key)
        if buffer is None:
            buffer = self._log_scalars[key] = HistoryBuffer()
        if buffer._pending or type(value) not in _NUMBER_TYPES or \
                type(count) not in _NUMBER_TYPES:
            buffer._push(value, count)  # device tensors wait, in order
        else:
            buffer._append(value, count)

    def update_scalars(self, log_dict: dict, resumed: bool = True) -> None:
        """Update several scalars at once.

        Args:
            log_dict (dict): ``{key: value}`` or
                ``{key: {'value': value, 'count': count}}``.
            resumed (bool): See :meth:`update_scalar`. Defaults to True.
        """
        if not isinstance(log_dict, dict):
            raise TypeError('MessageHub.update_scalars expects a dict, but '
                            f'got {type(log_dict).__name__}')
        for key, item in log_dict.items():
            if isinstance(item, dict):
                if 'value' not in item:
                    raise KeyError(
                        f'MessageHub.update_scalars: {key!r} is a dict '
                        f"without a 'value' entry (got keys {list(item)})")
                self.update_scalar(key, item['value'], item.get('count', 1),
                                   resumed)
            else:
                self.update_scalar(key, item, resumed=resumed)

    def get_scalar(self, key: str) -> HistoryBuffer:
        """The :class:`HistoryBuffer` of ``key``.

        Raises:
            KeyError: if ``key`` was never updated.
        """
        buffer = self._log_scalars.get(key)
        if buffer is None:
            raise KeyError(
                f'{key!r} is not found in the log_scalars of MessageHub '
                f'{self.instance_name!r}; known keys: '
                f'{list(self._log_scalars)[:50]}')
        return buffer

    @property
    def log_scalars(self) -> OrderedDict:
        """OrderedDict: all scalar histories, ``{key: HistoryBuffer}``."""
        return self._log_scalars

    # ------------------------------------------------------------------
    # runtime info
    def update_info(self, key: str, value: Any, resumed: bool = True) -> None:
        """Set the runtime information ``key`` to ``value`` (overwrites).

        Args:
            key (str): Name of the information.
            value: Any value.
            resumed (bool): Whether it is saved by :meth:`state_dict`.
                Defaults to True.
        """
        if self._resumed_keys.get(key) is not resumed:  # cheap when unchanged
            self._set_resumed_key(key, resumed)
        self._runtime_info[key] = value

    def update_info_dict(self, info_dict: dict, resumed: bool = True) -> None:
        """Update several runtime information entries at once."""
        if not isinstance(info_dict, dict):
            raise TypeError('MessageHub.update_info_dict expects a dict, but '
                            f'got {type(info_dict).__name__}')
        for key, value in info_dict.items():
            self.update_info(key, value, resumed=resumed)

    def get_info(self, key: str, default: Any = None) -> Any:
        """The runtime information ``key``, or ``default`` if missing."""
        return self._runtime_info.get(key, default)

    def pop_info(self, key: str, default: Any = None) -> Any:
        """Remove and return the runtime information ``key``."""
        self._resumed_keys.pop(key, None)
        return self._runtime_info.pop(key, default)

    @property
    def runtime_info(self) -> OrderedDict:
        """OrderedDict: all runtime information."""
        return self._runtime_info

    def _set_resumed_key(self, key: str, resumed: bool) -> None:
        old = self._resumed_keys.get(key)
        if old is None:
            self._resumed_keys[key] = bool(resumed)
        elif old != bool(resumed):
            raise ValueError(
                f'MessageHub: {key!r} was updated with resumed={old} before, '
                f'but now with resumed={resumed}; whether a key is resumed '
                'cannot change')

    # ------------------------------------------------------------------
    # checkpoints
    def state_dict(self) -> dict:
        """State of the resumable keys, as tensors and plain Python types.

        Returns:
            dict: ``{'log_scalars': {key: HistoryBuffer.state_dict()},
            'runtime_info': {key: value}, 'resumed_keys': {key: bool}}``;
            a buffer's state is ``{'log_history': Tensor, 'count_history':
            Tensor, 'max_length': int}``. It loads with
            ``torch.load(..., weights_only=True)``.
            Runtime values are converted with :func:`to_plain`; a value that
            cannot be converted is left out with a warning naming its key.
        """
        log_scalars = {}
        for key, buffer in self._log_scalars.items():
            if self._resumed_keys.get(key, True):
                log_scalars[key] = buffer.state_dict()
        runtime_info = {}
        for key, value in self._runtime_info.items():
            if not self._resumed_keys.get(key, True):
                continue
            try:
                runtime_info[key] = to_plain(value, f'runtime_info[{key!r}]')
            except _NotPlain as e:
                warnings.warn(
                    f'MessageHub {self.instance_name!r}: {e}, so '
                    f'runtime_info[{key!r}] is left out of the state dict '
                    '(checkpoints hold only tensors and plain Python types; '
                    'update it with resumed=False to silence this).',
                    stacklevel=2)
        return dict(
            log_scalars=log_scalars,
            runtime_info=runtime_info,
            resumed_keys=dict(self._resumed_keys))

    def load_state_dict(self, state_dict: Any) -> None:
        """Restore :meth:`state_dict` output (merged into this hub).

        Also accepts another :class:`MessageHub` and the reference layout
        whose ``log_scalars`` values are :class:`HistoryBuffer` objects.

        Raises:
            KeyError: if a required entry is missing.
            TypeError: if an entry has the wrong type.
        """
        if isinstance(state_dict, MessageHub):
            state_dict = dict(
                log_scalars=state_dict._log_scalars,
                runtime_info=state_dict._runtime_info,
                resumed_keys=state_dict._resumed_keys)
        if not isinstance(state_dict, dict):
            raise TypeError('MessageHub.load_state_dict expects a dict or a '
                            f'MessageHub, got {type(state_dict).__name__}')
        for name in ('log_scalars', 'runtime_info', 'resumed_keys'):
            if name not in state_dict:
                raise KeyError(
                    f'MessageHub state dict is missing {name!r}; expected '
                    'keys log_scalars, runtime_info and resumed_keys, got '
                    f'{list(state_dict)}')
            if not isinstance(state_dict[name], dict):
                raise TypeError(
                    f'MessageHub state dict entry {name!r} must be a dict, '
                    f'got {type(state_dict[name]).__name__}')
        buffers = {}
        for key, value in state_dict['log_scalars'].items():
            if isinstance(value, HistoryBuffer):
                buffers[key] = copy.deepcopy(value)
            elif isinstance(value, dict):
                try:
                    buffers[key] = HistoryBuffer.from_state_dict(value)
                except (KeyError, TypeError, ValueError,
                        AssertionError) as e:
                    detail = e.args[0] if e.args else e
                    raise type(e)(
                        f'MessageHub state dict: log_scalars[{key!r}] is '
                        f'invalid: {detail}') from e
            else:
                raise TypeError(
                    f'MessageHub state dict: log_scalars[{key!r}] must be a '
                    'HistoryBuffer state dict or a HistoryBuffer, got '
                    f'{type(value).__name__}')
        self._log_scalars.update(buffers)
        for key, value in state_dict['runtime_info'].items():
            self._runtime_info[key] = copy.deepcopy(value)
        for key, flag in state_dict['resumed_keys'].items():
            if key in self._log_scalars or key in self._runtime_info:
                self._resumed_keys[key] = bool(flag)
        for key in list(buffers) + list(state_dict['runtime_info']):
            self._resumed_keys.setdefault(key, True)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(name={self.instance_name!r}, '
                f'log_scalars={list(self._log_scalars)}, '
                f'runtime_info={list(self._runtime_info)})')
