"""``PixelData``: dense per-pixel annotations or predictions (segmentation
maps, feature maps) that share one spatial size."""
from typing import Any, Optional, Tuple, Union

import numpy as np
import torch

from .base_data_element import _PRIVATE_FIELDS, BaseDataElement


class PixelData(BaseDataElement):
    """Data element whose data fields are ``(C, H, W)`` maps with one common
    ``(H, W)``.

    Values may be tensors or numpy arrays of rank 2 or 3; a 2-D ``(H, W)``
    value is stored as ``(1, H, W)``. ``pixel_data[h, w]`` with ints and/or
    slices indexes the last two dimensions of every field (ints keep the
    dimension) and returns a new ``PixelData`` with the same metainfo.

    Examples:
        >>> import torch
        >>> pix = PixelData(metainfo=dict(img_id=0))
        >>> pix.featmap = torch.rand((10, 20, 40))
        >>> pix.shape
        (20, 40)
        >>> pix[10:20, 20:40].shape
        (10, 20)
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in _PRIVATE_FIELDS:
            assert isinstance(value, (torch.Tensor, np.ndarray)), (
                f'Can not set {type(value)} to `{name}`, only support '
                f'{(torch.Tensor, np.ndarray)}')
            assert value.ndim in (2, 3), (
                f'The dim of value must be 2 or 3, but got {value.ndim}')
            if value.ndim == 2:
                value = value[None]
            shape = self.shape
            if shape is not None:
                assert tuple(value.shape[-2:]) == shape, (
                    f'the height and width of values '
                    f'{tuple(value.shape[-2:])} is not consistent with the '
                    f'length of this :obj:`PixelData` {shape}')
        super().__setattr__(name, value)

    @property
    def shape(self) -> Optional[Tuple[int, int]]:
        """tuple[int, int] or None: ``(H, W)`` of the stored maps, ``None``
        while there is no data field."""
        for name in self._data_fields:
            return tuple(getattr(self, name).shape[-2:])
        return None

    def __getitem__(self, item: Union[str, Tuple[Union[int, slice],
                                                 Union[int, slice]]]):
        """Return a data field (str key) or a spatial crop ``[h, w]``."""
        if isinstance(item, str):
            return getattr(self, item)
        if not isinstance(item, tuple):
            raise TypeError(
                f'Unsupported type {type(item)} for slicing PixelData; '
                f'expected a tuple (h_index, w_index) of ints or slices')
        if len(item) != 2:
            raise TypeError(
                f'PixelData index must have 2 elements (h, w) but got '
                f'{len(item)}')
        shape = self.shape or (0, 0)
        spatial = []
        for index, size, axis in zip(item, shape, ('height', 'width')):
            if isinstance(index, (int, np.integer)) and not isinstance(
                    index, bool):
                index = int(index)
                if index >= size or index < -size:
                    raise IndexError(
                        f'Index {index} out of range for {axis} {size} of '
                        f'PixelData')
                index = index % size
                index = slice(index, index + 1)
            elif not isinstance(index, slice):
                raise TypeError(
                    f'Unsupported type {type(index)} in PixelData index; '
                    f'expected int or slice')
            spatial.append(index)
        new_data = self.__class__(metainfo=self.metainfo)
        h_index, w_index = spatial
        for k, v in self.items():
            setattr(new_data, k, v[..., h_index, w_index])
        return new_data
