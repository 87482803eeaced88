"""``LabelData``: image-level labels, with helpers to convert between
label indices and one-hot vectors."""
import torch

from .base_data_element import BaseDataElement


class LabelData(BaseDataElement):
    """Data element for image-level labels; data fields are unrestricted.

    Examples:
        >>> import torch
        >>> onehot = LabelData.label_to_onehot(torch.tensor([1]), 10)
        >>> onehot
        tensor([0, 1, 0, 0, 0, 0, 0, 0, 0, 0])
        >>> LabelData.onehot_to_label(onehot)
        tensor([1])
    """

    @staticmethod
    def label_to_onehot(label: torch.Tensor,
                        num_classes: int) -> torch.Tensor:
        """Convert label indices to a one-hot vector.

        Args:
            label (torch.Tensor): 1-D (or 0-d) tensor of class indices.
            num_classes (int): Length of the one-hot vector.

        Returns:
            torch.Tensor: ``(num_classes, )`` tensor with the dtype and
            device of ``label``; ones at the given indices.
        """
        assert isinstance(label, torch.Tensor), (
            f'label should be a torch.Tensor but got {type(label)}')
        assert isinstance(num_classes, int) and num_classes > 0, (
            f'num_classes should be a positive int but got {num_classes!r}')
        assert not (label.dtype.is_floating_point
                    or label.dtype == torch.bool), (
                        f'label should be an integer tensor but got '
                        f'{label.dtype}')
        label = label.reshape(-1)
        onehot = label.new_zeros((num_classes, ))
        if label.numel() == 0:
            return onehot
        assert int(label.max()) < num_classes, (
            f'label values must be < num_classes ({num_classes}) but the '
            f'max is {int(label.max())}')
        assert int(label.min()) >= 0, (
            f'label values must be >= 0 but the min is {int(label.min())}')
        onehot[label] = 1
        return onehot

    @staticmethod
    def onehot_to_label(onehot: torch.Tensor) -> torch.Tensor:
        """Convert a one-hot vector to the indices of its non-zero entries.

        Args:
            onehot (torch.Tensor): 1-D tensor of zeros and ones.

        Returns:
            torch.Tensor: 1-D long tensor on the device of ``onehot``.

        Raises:
            ValueError: If ``onehot`` is not 1-D or holds values other
                than 0 and 1.
        """
        assert isinstance(onehot, torch.Tensor), (
            f'onehot should be a torch.Tensor but got {type(onehot)}')
        if onehot.ndim != 1:
            raise ValueError(
                f'input is not one-hot and can not convert to label: '
                f'expected a 1-D tensor but got shape {tuple(onehot.shape)}')
        if onehot.numel() == 0:
            return onehot.new_zeros((0, ), dtype=torch.long)
        if not bool(((onehot == 0) | (onehot == 1)).all()):
            raise ValueError(
                'input is not one-hot and can not convert to label: values '
                'must be 0 or 1')
        return onehot.nonzero().squeeze(-1)
