"""Background checkpoint writes (``save_checkpoint(..., async_save=True)``).

The caller's thread only snapshots the tensors into (pooled) host memory;
one writer thread writes the files in call order. At most two saves are
pending at once, so at most two host copies of the state are alive.
"""
import os
import threading
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
import torch.nn as nn

__all__ = ['AsyncCheckpointSave', 'submit_async_save', 'wait_async_saves']


class AsyncCheckpointSave:
    """Handle of a checkpoint being written in the background.

    Returned by ``save_checkpoint(..., async_save=True)``.

    Attributes:
        filename (str): where the checkpoint is written.
    """

    def __init__(self, future: Any, filename: str) -> None:
        self._future = future
        self.filename = filename

    def done(self) -> bool:
        """Whether the write has finished (successfully or not)."""
        return self._future.done()

    def wait(self, timeout: Optional[float] = None) -> None:
        """Block until the file is written; re-raise the writer's error.

        Raises:
            TimeoutError: if ``timeout`` seconds pass first.
        """
        self._future.result(timeout)

    def add_done_callback(self, fn: Callable[['AsyncCheckpointSave'],
                                             Any]) -> None:
        """Call ``fn(handle)`` (on the writer thread) when the write ends,
        e.g. to update a ``last_checkpoint`` marker only after success."""
        self._future.add_done_callback(lambda _: fn(self))

    def __repr__(self) -> str:
        state = 'done' if self.done() else 'pending'
        return f'AsyncCheckpointSave({self.filename!r}, {state})'


_executor: Any = None  # a ThreadPoolExecutor, created on first use
_pending: List[AsyncCheckpointSave] = []
_lock = threading.Lock()
_MAX_PENDING = 2  # each pending save holds a CPU copy of the state


def _reset_after_fork() -> None:
    global _executor, _pending, _lock, _buffer_pool
    _executor, _pending, _lock = None, [], threading.Lock()
    _buffer_pool = _HostBufferPool()


if hasattr(os, 'register_at_fork'):
    os.register_at_fork(after_in_child=_reset_after_fork)


class _HostBufferPool:
    """Host byte buffers reused from one async save to the next.

    Copying into memory that was touched before avoids the page faults of
    fresh allocations, which otherwise cost more than the copy itself. The
    pool keeps at most as many bytes as the largest snapshot taken.
    """

    def __init__(self) -> None:
        self._free: Dict[Tuple[int, bool], List[torch.Tensor]] = {}
        self._lock = threading.Lock()
        self._bytes = 0
        self.limit = 0

    def take(self, nbytes: int, pin: bool) -> torch.Tensor:
        with self._lock:
            free = self._free.get((nbytes, pin))
            if free:
                self._bytes -= nbytes
                return free.pop()
        return torch.empty(nbytes, dtype=torch.uint8, pin_memory=pin)

    def give_back(self, buffers: List[Tuple[torch.Tensor, bool]]) -> None:
        """Return ``(buffer, pinned)`` pairs taken with :meth:`take`."""
        with self._lock:
            for buf, pin in buffers:
                nbytes = buf.numel()
                if self._bytes + nbytes > self.limit:
                    break
                self._free.setdefault((nbytes, pin), []).append(buf)
                self._bytes += nbytes

    def clear(self) -> None:
        with self._lock:
            self._free.clear()
            self._bytes = 0


_buffer_pool = _HostBufferPool()


class _Snapshot:
    """A copy of a checkpoint with every tensor in host memory.

    Containers are rebuilt, tensors are copied into (pooled) byte buffers.
    Tensors sharing storage (tied weights, views) share the copy, so the
    written file is the one ``torch.save`` of the original would give.
    Device→host copies are only enqueued; :meth:`wait_copies` waits.
    """

    def __init__(self, checkpoint: dict) -> None:
        self._memo: Dict[Any, torch.Tensor] = {}
        self.buffers: List[Tuple[torch.Tensor, bool]] = []
        self._events = []
        device_copies: list = []
        self.value = self._copy(checkpoint, device_copies)
        # Copies were enqueued on each device's current stream: mark ends.
        for device in dict.fromkeys(device_copies):
            with torch.cuda.device(device):
                event = torch.cuda.Event()
                event.record()
            self._events.append(event)
        self._memo.clear()
        nbytes = sum(b.numel() for b, _ in self.buffers)
        _buffer_pool.limit = max(_buffer_pool.limit, nbytes)

    def wait_copies(self) -> None:
        for event in self._events:
            event.synchronize()

    def _copy(self, obj: Any, device_copies: list) -> Any:
        if isinstance(obj, torch.Tensor):
            return self._copy_tensor(obj, device_copies)
        cls = type(obj)
        if cls is dict or cls is OrderedDict:
            out = cls(
                (k, self._copy(v, device_copies)) for k, v in obj.items())
            if hasattr(obj, '_metadata'):
                out._metadata = obj._metadata
            return out
        if cls is list:
            return [self._copy(v, device_copies) for v in obj]
        if cls is tuple:
            return tuple(self._copy(v, device_copies) for v in obj)
        return obj  # plain immutable value (sets hold no tensors)

    def _copy_tensor(self, t: torch.Tensor, device_copies: list) -> Any:
        if (t.layout is not torch.strided or t.is_quantized
                or type(t) not in (torch.Tensor, nn.Parameter)
                or t.device.type == 'meta'):
            # Rare kinds: a plain detached copy (no storage sharing).
            return t.detach().clone() if t.device.type in (
                'cpu', 'meta') else t.detach().to('cpu')
        storage = t.untyped_storage()
        key = (storage.device, storage.data_ptr(), storage.nbytes())
        host = self._memo.get(key)
        if host is None:
            src = torch.empty(0, dtype=torch.uint8, device=t.device)
            src.set_(storage)
            on_cuda = t.device.type == 'cuda'
            host = _buffer_pool.take(src.numel(), pin=on_cuda)
            _copy_bytes(host, src, non_blocking=on_cuda)
            if on_cuda:
                device_copies.append(t.device)
            self.buffers.append((host, on_cuda))
            if storage.nbytes():
                self._memo[key] = host
        new = torch.empty(0, dtype=t.dtype)
        new.set_(host.untyped_storage(), t.storage_offset(), t.size(),
                 t.stride())
        if isinstance(t, nn.Parameter):
            return nn.Parameter(new, requires_grad=t.requires_grad)
        if t.requires_grad and t.is_leaf:
            new.requires_grad_(True)
        return new


def _copy_bytes(dst: torch.Tensor, src: torch.Tensor,
                non_blocking: bool) -> None:
    """Copy one uint8 buffer into another of the same size.

    Viewed as 8- or 4-byte words when the size allows: torch copies those
    about 15 % faster than single bytes, and this copy is the whole
    blocking part of an async save.
    """
    nbytes = src.numel()
    for wide in (torch.int64, torch.int32):
        if nbytes % wide.itemsize == 0:
            dst, src = dst.view(wide), src.view(wide)
            break
    dst.copy_(src, non_blocking=non_blocking)


def submit_async_save(checkpoint: dict, filename: Any, backend: Any,
                      write_fn: Callable[[dict, Any, Any], None]
                      ) -> AsyncCheckpointSave:
    """Snapshot ``checkpoint`` to host memory and write it on the writer
    thread with ``write_fn(snapshot, filename, backend)``.

    Saves run one at a time, in call order; at most two are pending (a
    third call waits for the oldest). See ``save_checkpoint(...,
    async_save=True)``.
    """
    global _executor
    with _lock:
        # Bound the host copies alive at once: wait for the oldest write.
        # Finished saves leave the list unless they failed (reported by
        # wait_async_saves), so no error is lost.
        _pending[:] = [
            h for h in _pending
            if not h.done() or h._future.exception() is not None
        ]
        running = [h for h in _pending if not h.done()]
        if len(running) >= _MAX_PENDING:
            running[0]._future.exception()  # waits; errors stay recorded
        snapshot = _Snapshot(checkpoint)

        def write() -> None:
            try:
                snapshot.wait_copies()
                write_fn(snapshot.value, filename, backend)
            finally:
                # File complete (or failed): its buffers can be reused.
                snapshot.value = None
                _buffer_pool.give_back(snapshot.buffers)
                snapshot.buffers = []

        if _executor is None:
            from concurrent.futures import ThreadPoolExecutor
            _executor = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix='mmengine-checkpoint')
        handle = AsyncCheckpointSave(
            _executor.submit(write), os.fspath(filename))
        _pending.append(handle)
    return handle


def wait_async_saves(timeout: Optional[float] = None,
                     free_buffers: bool = False) -> None:
    """Wait for every pending ``save_checkpoint(..., async_save=True)``.

    Args:
        timeout (float, optional): seconds to wait for each save.
        free_buffers (bool): also free the host buffers kept to make the
            next async save faster (about the size of one checkpoint).
            Defaults to False.

    Raises:
        Exception: the first error raised by a background write (the other
            writes are still waited for).
    """
    with _lock:
        pending = list(_pending)
        _pending.clear()
    error = None
    for handle in pending:
        try:
            handle.wait(timeout)
        except BaseException as e:  # keep waiting for the others
            error = error or e
    if free_buffers:
        _buffer_pool.clear()
    if error is not None:
        raise error
