"""``PixelData``: dense per-pixel annotations or predictions (segmentation
maps, feature maps) that share one spatial size."""
from typing import Any, Optional, Tuple, Type, Union

import numpy as np
import torch

from .base_data_element import BaseDataElement


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

    def set_field(self,
                  value: Any,
                  name: str,
                  dtype: Optional[Union[Type, Tuple[Type, ...]]] = None,
                  field_type: str = 'data') -> None:
        """Set a field; data fields are checked and 2-D maps stored as
        ``(1, H, W)``.

        Attribute assignment, ``set_data`` and direct ``set_field`` calls
        all land here. See :meth:`BaseDataElement.set_field` for the
        arguments.
        """
        if (field_type == 'data' and name not in self._metainfo_fields
                and (dtype is None or isinstance(value, dtype))):
            value = self._check_value(name, value)
        super().set_field(value, name, dtype=dtype, field_type=field_type)

    def _check_value(self, name: str, value: Any) -> Any:
        assert isinstance(value, (torch.Tensor, np.ndarray)), (
            f'Can not set {type(value)} to `{name}`, only support '
            f'{(torch.Tensor, np.ndarray)}')
        # Documented messages first, then the field at fault.
        assert value.ndim in (2, 3), (
            f'The dim of value must be 2 or 3, but got {value.ndim} '
            f'(setting field `{name}` of shape {tuple(value.shape)})')
        if value.ndim == 2:
            value = value[None]
        shape = self.shape
        if shape is not None:
            assert tuple(value.shape[-2:]) == shape, (
                f'the height and width of values '
                f'{tuple(value.shape[-2:])} is not consistent with the '
                f'length of this :obj:`PixelData` {shape} (setting '
                f'field `{name}`)')
        return value

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
        if all(s.step is None or s.step > 0 for s in spatial):
            for k, v in self.items():
                setattr(new_data, k, v[..., h_index, w_index])
            return new_data
        # Tensors refuse negative slice steps: spell such a slice out as
        # positions and index one axis at a time (keeps both dims).
        h_pos, w_pos = (
            s if s.step is None or s.step > 0 else list(
                range(*s.indices(size))) for s, size in zip(spatial, shape))
        for k, v in self.items():
            if isinstance(v, torch.Tensor):
                h, w = (p if isinstance(p, slice) else torch.tensor(
                    p, dtype=torch.long, device=v.device)
                        for p in (h_pos, w_pos))
            else:
                h, w = h_pos, w_pos
            setattr(new_data, k, v[..., h, :][..., w])
        return new_data
