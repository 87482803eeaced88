"""Abstract data interfaces shared by datasets, models, evaluators and
visualizers: ``BaseDataElement`` and its ``InstanceData``, ``PixelData`` and
``LabelData`` specialisations."""
from .base_data_element import BaseDataElement
from .instance_data import InstanceData
from .label_data import LabelData
from .pixel_data import PixelData

__all__ = ['BaseDataElement', 'InstanceData', 'LabelData', 'PixelData']
