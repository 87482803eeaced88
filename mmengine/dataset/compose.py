"""``Compose``: chain data transforms into one pipeline."""
from collections.abc import Mapping, Sequence
from typing import Any, Callable, List, Optional, Union

from mmengine.registry import TRANSFORMS

TransformCfg = Union[dict, Callable]


class Compose:
    """Apply a sequence of transforms to a data sample, in order.

    Each transform is either a callable (a function, a torchvision transform,
    an object with ``__call__``) or a config dict built from the
    ``TRANSFORMS`` registry. A transform usually takes and returns a dict, but
    ``Compose`` itself does not care about the data type, so it also chains
    transforms working on images or tensors.

    If a transform returns ``None`` the sample is considered invalid: the
    remaining transforms are skipped and ``None`` is returned (``BaseDataset``
    then picks another sample in training mode).

    Args:
        transforms (dict | Callable | Sequence[dict | Callable] | None):
            The transforms, or their configs. ``None`` or an empty list gives
            the identity pipeline.

    Examples:
        >>> pipeline = Compose([lambda x: x + 1, lambda x: x * 2])
        >>> pipeline(1)
        4
    """

    def __init__(self,
                 transforms: Optional[Union[TransformCfg,
                                            Sequence[TransformCfg]]]):
        self.transforms: List[Callable] = []
        if transforms is None:
            transforms = []
        # A single transform (callable or cfg) is accepted for convenience.
        if isinstance(transforms, Mapping) or callable(transforms) or \
                not isinstance(transforms, Sequence) or \
                isinstance(transforms, str):
            transforms = [transforms]

        for i, transform in enumerate(transforms):
            if isinstance(transform, Mapping):
                cfg = transform if isinstance(transform, dict) else dict(
                    transform)
                built = TRANSFORMS.build(cfg)
                if not callable(built):
                    raise TypeError(
                        f'transform {i} built from config {cfg!r} is a '
                        f'{type(built).__name__} object, which is not '
                        'callable; a transform must implement __call__')
                self.transforms.append(built)
            elif callable(transform):
                self.transforms.append(transform)
            else:
                raise TypeError(
                    f'transform {i} must be a callable object or a config '
                    f'dict, but got {type(transform).__name__}: '
                    f'{transform!r}')

    def __call__(self, data: Any) -> Any:
        """Run every transform on ``data``.

        Args:
            data: The sample (usually a dict of data information).

        Returns:
            The transformed sample, or ``None`` if a transform returned
            ``None``.
        """
        for transform in self.transforms:
            data = transform(data)
            # A transform returning None marks an invalid sample; stop here.
            if data is None:
                return None
        return data

    def __repr__(self) -> str:
        """List the transforms, one per line."""
        format_string = self.__class__.__name__ + '('
        for transform in self.transforms:
            format_string += '\n'
            format_string += f'    {transform}'
        format_string += '\n)'
        return format_string
