"""Configs and models of installed downstream packages (``pkg::path``)."""
from .hub import get_config, get_model

__all__ = ['get_config', 'get_model']
