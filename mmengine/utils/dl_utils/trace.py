"""Whether the code is being traced by ``torch.jit``."""
import torch


def is_jit_tracing() -> bool:
    """Return True while ``torch.jit.trace`` is recording the caller.

    Useful to skip Python-only work (``.tolist()``, logging) that a trace
    cannot capture.
    """
    return bool(torch.jit.is_tracing())
