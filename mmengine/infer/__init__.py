"""The inference interface of downstream libraries (``BaseInferencer``)."""
from .infer import BaseInferencer

__all__ = ['BaseInferencer']
