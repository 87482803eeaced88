"""Test helpers for code that runs in several processes."""
from .distributed import MultiProcessTestCase

__all__ = ['MultiProcessTestCase']
