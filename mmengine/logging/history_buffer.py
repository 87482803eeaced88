"""``HistoryBuffer``: a bounded series of logged values with statistics."""
import sys
import warnings
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

# Device tensors waiting to be read are flushed once this many pile up, so
# the pending list stays small even if nobody reads the buffer for a while.
_MAX_PENDING = 1024
# What to_scalar returns for anything but a device tensor.
_NUMBER_TYPES = (int, float, bool)
_FLOAT64 = np.dtype(np.float64)
_add = np.add.reduce  # what ndarray.sum calls, minus two Python frames


_tensor_type: Optional[type] = None  # torch.Tensor, once torch is imported


def _torch_tensor_type() -> Optional[type]:
    """``torch.Tensor`` if torch is already imported, else None.

    A value can only be a tensor if torch has been imported, so there is no
    need to import torch here.
    """
    global _tensor_type
    if _tensor_type is None:
        torch = sys.modules.get('torch')
        if torch is not None:
            # None while torch is half-way through its own import.
            _tensor_type = getattr(torch, 'Tensor', None)
    return _tensor_type


def to_scalar(value: Any, what: str = 'value') -> Any:
    """Convert a single number to a Python number, keeping device tensors.

    Accepts Python numbers, numpy scalars / one-element arrays and
    one-element tensors. A CPU tensor is converted right away; a tensor on
    another device is returned detached but unconverted, because ``.item()``
    would synchronise host and device (see ``HistoryBuffer.update``).

    Args:
        value: The value to convert.
        what (str): How to name the value in an error message.

    Returns:
        int | float | torch.Tensor: The converted value.

    Raises:
        TypeError: if ``value`` is not a single number.
    """
    if type(value) in _NUMBER_TYPES:
        return value
    tensor_type = _tensor_type or _torch_tensor_type()
    if tensor_type is not None and type(value) is tensor_type:
        # Fast path for the loss of every iteration: a one-element tensor.
        if value.numel() == 1 and value.is_cpu:
            return value.item()
    if isinstance(value, (int, float)):
        # Subclasses such as numpy.float64: give back a plain Python number.
        return int(value) if isinstance(value, int) else float(value)
    if tensor_type is not None and isinstance(value, tensor_type):
        if value.numel() != 1:
            raise TypeError(
                f'{what} must be a single number, but got a tensor of shape '
                f'{tuple(value.shape)}')
        if value.is_cpu:
            return value.item()
        return value.detach().reshape(())
    if isinstance(value, (np.ndarray, np.generic)):
        if value.size != 1 or value.dtype.kind not in 'biuf':
            raise TypeError(
                f'{what} must be a single number, but got a numpy array of '
                f'shape {value.shape} and dtype {value.dtype}')
        return value.item()
    raise TypeError(
        f'{what} must be a number (int, float, numpy scalar or one-element '
        f'tensor), but got {type(value).__name__}: {value!r}'[:300])


def _tensors_to_numbers(items: List[Any]) -> List[Any]:
    """Replace the tensors in ``items`` by Python numbers.

    Tensors sharing one device and dtype are read with a single copy (one
    host-device synchronisation) instead of one ``.item()`` each.
    """
    tensor_type = _torch_tensor_type()
    if tensor_type is None:
        return items
    tensors = [x for x in items if isinstance(x, tensor_type)]
    if not tensors:
        return items
    if len({(t.device, t.dtype) for t in tensors}) == 1:
        import torch
        numbers = iter(torch.stack(tensors).tolist())
    else:
        numbers = iter([t.item() for t in tensors])
    return [
        next(numbers) if isinstance(x, tensor_type) else x for x in items
    ]


def _as_history_array(values: Any, what: str) -> np.ndarray:
    """Turn an initial history (list, array, tensor) into a 1-d array."""
    tensor_type = _torch_tensor_type()
    if tensor_type is not None and isinstance(values, tensor_type):
        values = values.detach().cpu().numpy()
    try:
        array = np.asarray(values)
    except Exception as e:  # e.g. ragged nested lists
        raise TypeError(
            f'{what} must be a sequence of numbers, got '
            f'{type(values).__name__}: {e}') from e
    if array.dtype.kind not in 'if':
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as e:
            raise TypeError(
                f'{what} must contain only numbers, got dtype '
                f'{array.dtype}') from e
    return array.reshape(-1)


class _StatisticsMethods(dict):
    """Name → statistics function; ``clear()`` keeps the built-ins.

    ``mean``, ``max``, ``min`` and ``current`` are part of the class, so code
    that resets the registry (e.g. between tests) cannot break them.
    """
    builtins: Dict[str, Callable] = {}

    def clear(self) -> None:
        super().clear()
        self.update(self.builtins)


class HistoryBuffer:
    """A bounded history of logged values and their counts.

    Each ``update(value, count)`` appends one value and its count (the weight
    used by :meth:`mean`, e.g. the batch size). Only the newest
    ``max_length`` entries are kept. Statistics are methods registered with
    :meth:`register_statistics` and can be called by name through
    :meth:`statistics`; ``mean``, ``max``, ``min`` and ``current`` are built
    in.

    Appending is amortised O(1) (the arrays grow geometrically and the
    oldest entries are dropped in blocks), and one-element tensors on an
    accelerator are kept as tensors until the history is read, so logging a
    loss every iteration costs neither a copy of the whole history nor a
    host-device synchronisation. Whole-history ``mean()``, ``max()`` and
    ``min()`` are kept up to date incrementally on read, so they cost
    O(entries logged since the last read) rather than O(history).

    Args:
        log_history (Sequence): Initial values. Defaults to empty.
        count_history (Sequence): Initial counts, same length as
            ``log_history``. Defaults to empty.
        max_length (int): Maximum number of entries kept. Defaults to
            1000000.

    Examples:
        >>> buffer = HistoryBuffer([1, 2, 3], [1, 1, 1])
        >>> buffer.mean(2)
        2.5
        >>> buffer.statistics('max')
        3
    """

    _statistics_methods: Dict[str, Callable] = _StatisticsMethods()

    def __init__(self,
                 log_history: Sequence = (),
                 count_history: Sequence = (),
                 max_length: int = 1000000) -> None:
        if isinstance(max_length, bool) or not isinstance(
                max_length, (int, np.integer)):
            raise TypeError('max_length must be an int, but got '
                            f'{type(max_length).__name__}')
        if max_length < 1:
            raise ValueError(
                f'max_length must be >= 1, but got {max_length}')
        max_length = int(max_length)
        self.max_length = max_length
        logs = _as_history_array(log_history, 'log_history')
        counts = _as_history_array(count_history, 'count_history')
        if len(logs) != len(counts):
            # The reference raises AssertionError here; keep its type.
            raise AssertionError(
                f'log_history and count_history must have the same length, '
                f'but got {len(logs)} and {len(counts)}')
        if len(logs) > max_length:
            warnings.warn(
                f'The length of history buffer({len(logs)}) exceeds the '
                f'max_length({max_length}), the first few elements will be '
                'ignored.',
                stacklevel=2)
            logs, counts = logs[-max_length:], counts[-max_length:]
        self._set_arrays(logs, counts)

    # ------------------------------------------------------------------
    # storage
    def _set_arrays(self, logs: np.ndarray, counts: np.ndarray) -> None:
        # Values live in _logs[_start:_end] (likewise _counts); spare room
        # after _end makes appends cheap.
        self._logs = np.array(logs)
        self._counts = np.array(counts)
        self._start = 0
        self._end = len(self._logs)
        self._pending: List[Tuple[Any, Any]] = []
        self._forget_totals()

    def _forget_totals(self) -> None:
        # Whole-history statistics, folded in lazily: (lo, hi, a, b) says
        # that slots _logs[lo:hi] give sum a / count sum b (resp. max a /
        # min b). Slots below _end are never rewritten in place, so a later
        # read only has to fold in the slots appended (and dropped) since:
        # O(entries since the last read), not O(history).
        self._sums: Optional[Tuple[int, int, Any, Any]] = None
        self._extremes: Optional[Tuple[int, int, Any, Any]] = None

    def _append(self, value: Any, count: Any) -> None:
        """Store one pair of Python numbers (the caller converted them)."""
        if self._end == len(self._logs):
            self._make_room()
        # Same promotion as numpy.append: a float turns the history float64.
        if type(value) is float and self._logs.dtype is not _FLOAT64:
            self._logs = self._logs.astype(np.float64)
        if type(count) is float and self._counts.dtype is not _FLOAT64:
            self._counts = self._counts.astype(np.float64)
        self._logs[self._end] = value
        self._counts[self._end] = count
        self._end += 1
        if self._end - self._start > self.max_length:
            self._start = self._end - self.max_length

    def _make_room(self) -> None:
        # Move the kept entries to the front of arrays about twice as long:
        # one copy per ~len appends keeps appending amortised O(1).
        keep = self._end - self._start
        capacity = max(16, 2 * (keep + 1))
        for name in ('_logs', '_counts'):
            arr = getattr(self, name)
            new = np.empty(capacity, dtype=arr.dtype)
            new[:keep] = arr[self._start:self._end]
            setattr(self, name, new)
        self._start, self._end = 0, keep
        # Slots moved: recompute the totals on the next read. This also
        # bounds the rounding drift of the running sums to one cycle.
        self._forget_totals()

    def _push(self, value: Any, count: Any) -> None:
        """Append values already converted by :func:`to_scalar`.

        Device tensors wait in ``_pending`` (and so does every later value,
        to keep the order) until the history is read.
        """
        if self._pending or type(value) not in _NUMBER_TYPES or \
                type(count) not in _NUMBER_TYPES:
            self._pending.append((value, count))
            if len(self._pending) >= _MAX_PENDING:
                self._flush()
        else:
            self._append(value, count)

    def _flush(self) -> None:
        """Convert pending device tensors to numbers (one sync per device)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        values = _tensors_to_numbers([v for v, _ in pending])
        counts = _tensors_to_numbers([c for _, c in pending])
        for value, count in zip(values, counts):
            self._append(value, count)

    @property
    def _log_history(self) -> np.ndarray:
        """The kept values, oldest first (a view; do not resize)."""
        self._flush()
        return self._logs[self._start:self._end]

    @property
    def _count_history(self) -> np.ndarray:
        """The kept counts, oldest first (a view; do not resize)."""
        self._flush()
        return self._counts[self._start:self._end]

    # ------------------------------------------------------------------
    # public API
    def update(self, log_val: Any, count: Any = 1) -> None:
        """Append one value and its count, dropping the oldest if full.

        Args:
            log_val: A number, numpy scalar or one-element tensor. A tensor
                on an accelerator is converted lazily, on the next read.
            count: The weight of ``log_val`` in :meth:`mean`. Defaults to 1.

        Raises:
            TypeError: if ``log_val`` or ``count`` is not a single number.
        """
        if type(log_val) not in _NUMBER_TYPES or \
                type(count) not in _NUMBER_TYPES:
            log_val = to_scalar(log_val, 'HistoryBuffer.update: log_val')
            count = to_scalar(count, 'HistoryBuffer.update: count')
        self._push(log_val, count)

    @property
    def data(self) -> Tuple[np.ndarray, np.ndarray]:
        """tuple[np.ndarray, np.ndarray]: ``(log_history, count_history)``."""
        return self._log_history, self._count_history

    @classmethod
    def register_statistics(cls, method: Callable) -> Callable:
        """Register ``method`` as a statistic callable by its name.

        Usable as a decorator. The function takes the buffer as its first
        argument and may read ``self._log_history`` / ``self._count_history``.

        Raises:
            TypeError: if ``method`` is not a named callable.
            ValueError: if a different function with the same name is
                already registered.
        """
        if not callable(method) or not isinstance(
                getattr(method, '__name__', None), str):
            raise TypeError(
                'HistoryBuffer.register_statistics expects a function (its '
                f'__name__ becomes the statistic name), but got '
                f'{type(method).__name__}: {method!r}'[:300])
        name = method.__name__
        old = cls._statistics_methods.get(name)
        if old is not None and old is not method and (
                old.__module__, old.__qualname__) != (method.__module__,
                                                      method.__qualname__):
            raise ValueError(
                f'A statistics method named {name!r} is already registered '
                f'in HistoryBuffer (from {old.__module__}); use another '
                'function name.')
        cls._statistics_methods[name] = method
        return method

    def statistics(self, method_name: str, *args, **kwargs) -> Any:
        """Call the registered statistic ``method_name``.

        Raises:
            KeyError: if ``method_name`` is not registered.
        """
        method = self._statistics_methods.get(method_name)
        if method is None:
            raise KeyError(
                f'{method_name!r} is not a registered statistics method of '
                f'HistoryBuffer; registered: '
                f'{sorted(self._statistics_methods)}. Register new ones with '
                '@HistoryBuffer.register_statistics.')
        return method(self, *args, **kwargs)

    def _window(self, window_size: Optional[int],
                method: str) -> Tuple[np.ndarray, np.ndarray]:
        logs, counts = self._log_history, self._count_history
        if len(logs) == 0:
            raise ValueError(
                f'HistoryBuffer.{method}() needs at least one logged value, '
                'but the buffer is empty')
        if type(window_size) is int and window_size >= 1:  # fast path
            return logs[-window_size:], counts[-window_size:]
        if window_size is None:
            return logs, counts
        if isinstance(window_size, bool) or not isinstance(
                window_size, (int, np.integer)):
            raise TypeError(
                f'window_size of HistoryBuffer.{method}() must be an int or '
                f'None, but got {type(window_size).__name__}')
        if window_size < 1:
            raise ValueError(
                f'window_size of HistoryBuffer.{method}() must be >= 1, but '
                f'got {window_size}')
        return logs[-window_size:], counts[-window_size:]

    def _global_sums(self) -> Tuple[Any, Any]:
        """Sums of all kept values and counts, updated incrementally."""
        self._window(None, 'mean')  # flushes; raises if empty
        start, end, logs, counts = self._start, self._end, self._logs, \
            self._counts
        state = self._sums
        if state is not None:
            lo, hi, total, weight = state
            if end > hi:  # appended since
                total = total + _add(logs[hi:end])
                weight = weight + _add(counts[hi:end])
            if start > lo:  # dropped since (still in place, see above)
                with np.errstate(invalid='ignore'):  # inf - inf: see below
                    total = total - _add(logs[lo:start])
                    weight = weight - _add(counts[lo:start])
                # inf/nan cannot be subtracted back out: start over.
                if not (np.isfinite(total) and np.isfinite(weight)):
                    state = None
        if state is None:
            total, weight = _add(logs[start:end]), _add(counts[start:end])
        self._sums = (start, end, total, weight)
        return total, weight

    def _global_extremes(self, method: str) -> Tuple[Any, Any]:
        """Max and min of all kept values, updated incrementally."""
        self._window(None, method)
        start, end, logs = self._start, self._end, self._logs
        state = self._extremes
        if state is not None and start > state[0]:
            lo, hi, high, low = state
            dropped = logs[lo:start]
            # Still valid if the dropped values held neither extreme (the
            # negated test also starts over when a NaN is involved).
            if start >= hi or not (np.maximum.reduce(dropped) < high
                                   and np.minimum.reduce(dropped) > low):
                state = None
        if state is None:
            kept = logs[start:end]
            high, low = np.maximum.reduce(kept), np.minimum.reduce(kept)
        else:
            _, hi, high, low = state
            if end > hi:
                new = logs[hi:end]
                # np.maximum/minimum propagate NaN like a full reduction.
                high = np.maximum(high, np.maximum.reduce(new))
                low = np.minimum(low, np.minimum.reduce(new))
        self._extremes = (start, end, high, low)
        # Same scalar type as a fresh reduction (the history may have been
        # promoted from int to float since).
        return logs.dtype.type(high), logs.dtype.type(low)

    # ------------------------------------------------------------------
    # built-in statistics (registered below the class)
    def mean(self, window_size: Optional[int] = None) -> Any:
        """Weighted mean of the last ``window_size`` entries (all if None):
        the sum of their values divided by the sum of their counts.

        The whole-history mean costs O(entries logged since the last call),
        not O(history), so ``window_size='global'`` logging stays cheap.
        """
        if window_size is None:
            total, weight = self._global_sums()
            return total / weight
        logs, counts = self._window(window_size, 'mean')
        return _add(logs) / _add(counts)

    def max(self, window_size: Optional[int] = None) -> Any:
        """Maximum of the last ``window_size`` values (all if None)."""
        if window_size is None:
            return self._global_extremes('max')[0]
        logs, _ = self._window(window_size, 'max')
        return np.maximum.reduce(logs)

    def min(self, window_size: Optional[int] = None) -> Any:
        """Minimum of the last ``window_size`` values (all if None)."""
        if window_size is None:
            return self._global_extremes('min')[1]
        logs, _ = self._window(window_size, 'min')
        return np.minimum.reduce(logs)

    def current(self) -> Any:
        """The most recently logged value.

        Raises:
            ValueError: if the buffer is empty.
        """
        logs = self._log_history
        if len(logs) == 0:
            raise ValueError('HistoryBuffer.current() needs at least one '
                             'logged value, but the buffer is empty')
        return logs[-1]

    # ------------------------------------------------------------------
    # checkpoint support (plain Python types only)
    def state_dict(self) -> dict:
        """State for checkpoints: ``log_history`` and ``count_history`` as
        CPU tensors (same dtype as the history) and ``max_length``.

        Tensors rather than lists keep saving and ``weights_only`` loading
        fast for long histories (a million-entry list takes seconds).
        """
        import torch  # lazy: importing this module must not import torch
        logs, counts = self.data
        # copy(): the views share memory with the spare capacity, which
        # torch.save would otherwise write too.
        return dict(
            log_history=torch.from_numpy(logs.copy()),
            count_history=torch.from_numpy(counts.copy()),
            max_length=self.max_length)

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore the state produced by :meth:`state_dict`.

        The histories may be tensors, numpy arrays or lists.

        Raises:
            KeyError: if a required entry is missing.
        """
        if not isinstance(state_dict, dict):
            raise TypeError('HistoryBuffer.load_state_dict expects a dict, '
                            f'but got {type(state_dict).__name__}')
        for key in ('log_history', 'count_history', 'max_length'):
            if key not in state_dict:
                raise KeyError(
                    f'HistoryBuffer state dict is missing {key!r}; expected '
                    'keys log_history, count_history, max_length')
        restored = HistoryBuffer(state_dict['log_history'],
                                 state_dict['count_history'],
                                 state_dict['max_length'])
        self.max_length = restored.max_length
        self._set_arrays(*restored.data)

    @classmethod
    def from_state_dict(cls, state_dict: dict) -> 'HistoryBuffer':
        """Build a buffer from :meth:`state_dict` output."""
        buffer = cls()
        buffer.load_state_dict(state_dict)
        return buffer

    def __getstate__(self) -> dict:
        # Pickle only the live entries, in the reference's attribute layout.
        logs, counts = self.data
        return dict(
            max_length=self.max_length,
            _log_history=logs.copy(),
            _count_history=counts.copy())

    def __setstate__(self, state: dict) -> None:
        # Accepts our own pickles and buffers pickled by the reference
        # implementation (same attribute names; it also pickled the
        # registered statistics, which are re-registered here).
        for name, method in state.get('statistics_methods', {}).items():
            if callable(method):
                self._statistics_methods.setdefault(name, method)
        self.max_length = state['max_length']
        self._set_arrays(
            np.asarray(state['_log_history']).reshape(-1),
            np.asarray(state['_count_history']).reshape(-1))

    def __repr__(self) -> str:
        size = self._end - self._start + len(self._pending)
        return (f'{type(self).__name__}(len={size}, '
                f'max_length={self.max_length})')


for _name in ('mean', 'max', 'min', 'current'):
    HistoryBuffer.register_statistics(getattr(HistoryBuffer, _name))
    _StatisticsMethods.builtins[_name] = getattr(HistoryBuffer, _name)
del _name
