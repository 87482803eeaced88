"""Exceptions raised for bad optimizer-wrapper configuration.

Each one is the natural exception type (``TypeError`` / ``KeyError``) and
also an ``AssertionError``, which is what code written against the original
engine catches for these checks.
"""

__all__ = ['OptimConfigTypeError', 'OptimConfigKeyError']


class OptimConfigTypeError(TypeError, AssertionError):
    """An optimizer-wrapper argument has the wrong type."""


class OptimConfigKeyError(KeyError, AssertionError):
    """An optimizer-wrapper config lacks a required key."""

    def __str__(self) -> str:
        # KeyError would otherwise print the message in quotes.
        return str(self.args[0]) if self.args else ''
