"""Data preprocessors: move a batch to the model's device and prepare it
for ``forward`` (``BaseDataPreprocessor``, ``ImgDataPreprocessor``)."""
import math
from typing import Any, Callable, List, Mapping, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmengine.registry import MODELS
from mmengine.structures import BaseDataElement
from ..utils import stack_batch

__all__ = ['BaseDataPreprocessor', 'ImgDataPreprocessor']

CastData = Union[tuple, dict, BaseDataElement, torch.Tensor, list, bytes,
                 str, None]


@MODELS.register_module()
class BaseDataPreprocessor(nn.Module):
    """Move every tensor of a batch to the preprocessor's device.

    The device follows the model: ``BaseModel.to/cuda/cpu/...`` update it.
    ``train_step`` calls it with ``training=True``, ``val_step`` and
    ``test_step`` with ``training=False``.

    Subclasses are the place for work on the whole batch on the model's
    device: normalising after the transfer (a uint8 batch moves 4x fewer
    bytes than a float one), batch-level augmentation such as MixUp (only
    when ``training``), and adapting the dataloader's output to the
    signature of ``forward`` (e.g. a tuple to a dict). Per-sample geometric
    work (crop, resize) belongs in the dataset transforms. The returned
    structure may be anything that unpacks into ``forward``: a dict is
    passed as keyword arguments, a tuple/list as positional ones.

    Args:
        non_blocking (bool): Copy to the device asynchronously (useful with
            pinned memory). Defaults to False.
    """

    def __init__(self, non_blocking: Optional[bool] = False):
        super().__init__()
        self._non_blocking = non_blocking
        self._device = torch.device('cpu')

    def cast_data(self, data: CastData) -> CastData:
        """Recursively move the tensors and data elements inside ``data``
        (dict / list / tuple / namedtuple / ``BaseDataElement``) to
        ``self.device``; other values are returned unchanged.

        Args:
            data: The batch.

        Returns:
            The same structure with its tensors on ``self.device``.
        """
        # This runs on every batch. Fast paths for the exact built-in types
        # (isinstance against the Mapping ABC is slow); subclasses take the
        # general path below.
        cls = type(data)
        if cls is torch.Tensor:
            # `.to()` returns the tensor itself when it is already on the
            # device, whatever `non_blocking`; skip the call in that case.
            if data.device == self._device:
                return data
            return data.to(self._device, non_blocking=self._non_blocking)
        if cls is list:
            return [self.cast_data(d) for d in data]
        if cls is dict:
            return {key: self.cast_data(value) for key, value in data.items()}
        if cls is tuple:
            return tuple([self.cast_data(d) for d in data])
        if isinstance(data, (torch.Tensor, BaseDataElement)):
            return data.to(self._device, non_blocking=self._non_blocking)
        if isinstance(data, (dict, Mapping)):
            return {key: self.cast_data(data[key]) for key in data}
        if isinstance(data, (str, bytes)) or data is None:
            return data
        if isinstance(data, tuple) and hasattr(data, '_fields'):
            # namedtuple: rebuild from positional fields.
            return type(data)(*(self.cast_data(d) for d in data))
        if isinstance(data, (list, tuple)):
            return type(data)(self.cast_data(d) for d in data)
        return data

    def forward(self, data: dict, training: bool = False) -> Any:
        """Move ``data`` to the device.

        Args:
            data: The batch from the dataloader.
            training (bool): Whether called from ``train_step``.

        Returns:
            The batch on ``self.device``.
        """
        return self.cast_data(data)  # type: ignore

    @property
    def device(self) -> torch.device:
        """torch.device: where batches are moved to."""
        return self._device

    def to(self, *args, **kwargs) -> nn.Module:
        """Like ``nn.Module.to``; also sets the target device."""
        device = torch._C._nn._parse_to(*args, **kwargs)[0]
        if device is not None:
            self._device = torch.device(device)
        return super().to(*args, **kwargs)

    def cuda(self, device=None) -> nn.Module:
        """Move to a CUDA device (the current one by default)."""
        if device is None or isinstance(device, int):
            device = torch.device('cuda', index=device)
        self._device = torch.device(device)
        return super().cuda(device)

    def musa(self, device=None) -> nn.Module:
        """Move to a MUSA device (the current one by default)."""
        return self._to_accelerator('musa', device)

    def npu(self, device=None) -> nn.Module:
        """Move to an NPU device (the current one by default)."""
        return self._to_accelerator('npu', device)

    def mlu(self, device=None) -> nn.Module:
        """Move to an MLU device (the current one by default)."""
        return self._to_accelerator('mlu', device)

    def cpu(self, *args, **kwargs) -> nn.Module:
        """Move to the CPU."""
        self._device = torch.device('cpu')
        return super().cpu()

    def _to_accelerator(self, kind: str, device) -> nn.Module:
        device = _accelerator_device(kind, device)
        self._device = device
        return super().to(device)


def _accelerator_device(kind: str, device=None) -> torch.device:
    """``torch.device`` of an out-of-tree accelerator (npu/mlu/musa)."""
    if device is None or isinstance(device, int):
        if device is None:
            backend = getattr(torch, kind, None)
            if backend is None:
                raise RuntimeError(
                    f'{kind} is not available: torch has no `torch.{kind}`'
                    f' module (install the {kind} extension of PyTorch)')
            device = backend.current_device()
        return torch.device(kind, device)
    return torch.device(device)


@MODELS.register_module()
class ImgDataPreprocessor(BaseDataPreprocessor):
    """Normalise, pad and stack a batch of images.

    Expects ``dict(inputs=..., data_samples=...)`` where ``inputs`` is a
    list of CHW tensors (sizes may differ) or an NCHW tensor. It moves the
    batch to the device, optionally flips BGR<->RGB, casts to float,
    normalises ``(x - mean) / std``, pads height and width to multiples of
    ``pad_size_divisor`` with ``pad_value`` and stacks to ``(N, C, H, W)``.

    Args:
        mean (Sequence[float], optional): Per-channel mean (1 or 3 values).
        std (Sequence[float], optional): Per-channel std (1 or 3 values).
            ``mean`` and ``std`` are both given or both None (no
            normalisation).
        pad_size_divisor (int): Pad H and W to multiples of it. Defaults
            to 1.
        pad_value (float): Padding value. Defaults to 0.
        bgr_to_rgb (bool): Flip channel order BGR -> RGB. Defaults to False.
        rgb_to_bgr (bool): Flip channel order RGB -> BGR. Defaults to False.
        non_blocking (bool): Asynchronous device copies. Defaults to False.
        batch_augments (list, optional): Callables (or ``MODELS`` configs)
            applied in training as ``inputs, data_samples = aug(inputs,
            data_samples)`` after stacking. Defaults to None.
    """

    def __init__(self,
                 mean: Optional[Sequence[Union[float, int]]] = None,
                 std: Optional[Sequence[Union[float, int]]] = None,
                 pad_size_divisor: int = 1,
                 pad_value: Union[float, int] = 0,
                 bgr_to_rgb: bool = False,
                 rgb_to_bgr: bool = False,
                 non_blocking: Optional[bool] = False,
                 batch_augments: Optional[List[Union[dict,
                                                     Callable]]] = None):
        super().__init__(non_blocking)
        if bgr_to_rgb and rgb_to_bgr:
            raise ValueError('ImgDataPreprocessor: `bgr_to_rgb` and '
                             '`rgb_to_bgr` cannot both be True')
        if (mean is None) != (std is None):
            raise ValueError(
                'ImgDataPreprocessor: `mean` and `std` must be both None or '
                f'both given, but got mean={mean!r}, std={std!r}')
        if not isinstance(pad_size_divisor, int) or pad_size_divisor < 1:
            raise ValueError('ImgDataPreprocessor: `pad_size_divisor` must '
                             'be a positive int, but got '
                             f'{pad_size_divisor!r}')
        if mean is not None:
            for name, value in (('mean', mean), ('std', std)):
                if len(value) not in (1, 3):  # type: ignore
                    raise ValueError(
                        f'ImgDataPreprocessor: `{name}` should have 1 or 3 '
                        'values, to be compatible with gray or RGB images, '
                        f'but got {len(value)} values')  # type: ignore
            self._enable_normalize = True
            self.register_buffer('mean',
                                 torch.tensor(mean).view(-1, 1, 1), False)
            self.register_buffer('std',
                                 torch.tensor(std).view(-1, 1, 1), False)
        else:
            self._enable_normalize = False
        self._channel_conversion = rgb_to_bgr or bgr_to_rgb
        self.pad_size_divisor = pad_size_divisor
        self.pad_value = pad_value
        self.batch_augments: Optional[list] = None
        if batch_augments is not None:
            augments = []
            for aug in batch_augments:
                if isinstance(aug, dict):
                    aug = MODELS.build(aug)
                if not callable(aug):
                    raise TypeError('ImgDataPreprocessor: each of '
                                    '`batch_augments` must be callable or a '
                                    f'config dict, but got {type(aug)}')
                augments.append(aug)
            # nn.Module augments become sub-modules (they follow .to()).
            self.batch_augments = nn.ModuleList(augments) if all(
                isinstance(a, nn.Module) for a in augments) else augments

    def _normalize(self,
                   img: torch.Tensor,
                   batched: bool,
                   owned: bool = False) -> torch.Tensor:
        """Flip channels, cast to float and normalise; ``owned`` says that
        ``img`` is a temporary that may be modified in place."""
        channel_dim = 1 if batched else 0
        src = img
        if self._channel_conversion:
            if img.shape[channel_dim] != 3:
                raise ValueError(
                    'ImgDataPreprocessor: bgr_to_rgb/rgb_to_bgr needs '
                    f'3-channel images, but got shape {tuple(img.shape)}')
            img = img.flip(channel_dim)
        img = img.float()
        if self._enable_normalize:
            if self.mean.shape[0] == 3 and (img.dim() != channel_dim + 3
                                            or img.shape[channel_dim] != 3):
                raise ValueError(
                    'ImgDataPreprocessor: with 3-value mean/std the input '
                    'images must have 3 channels (CHW or NCHW), but got '
                    f'shape {tuple(img.shape)}')
            if (img is not src or owned) and torch.promote_types(
                    img.dtype, self.mean.dtype) == img.dtype:
                # A fresh tensor: normalise in place. Same values, and no
                # batch-sized temporaries, whose allocation (page faults)
                # costs more than the arithmetic on CPU.
                img.sub_(self.mean).div_(self.std)
            else:
                # The caller's tensor (``.float()`` of float32 is a no-op),
                # or a result type other than float32 (float64 mean/std
                # after ``model.double()``).
                img = (img - self.mean) / self.std
        return img

    def forward(self, data: dict, training: bool = False) -> Union[dict,
                                                                    list]:
        """Normalise, pad and stack ``data['inputs']``.

        Args:
            data (dict): ``dict(inputs=..., data_samples=...)``.
            training (bool): Whether to apply ``batch_augments``.

        Returns:
            dict: ``dict(inputs=NCHW float tensor, data_samples=...)``.
        """
        if not isinstance(data, Mapping) or 'inputs' not in data:
            raise TypeError(
                'ImgDataPreprocessor expects a dict with an "inputs" key '
                f'(and optional "data_samples"), but got {type(data)}')
        data = self.cast_data(data)  # type: ignore
        inputs = data['inputs']
        if isinstance(inputs, torch.Tensor):
            if inputs.dim() != 4:
                raise ValueError(
                    'ImgDataPreprocessor: `inputs` should be an NCHW tensor '
                    'or a list of CHW tensors, but got a tensor of shape '
                    f'{tuple(inputs.shape)}')
            batch = self._normalize(inputs, batched=True)
            h, w = batch.shape[2:]
            div = self.pad_size_divisor
            pad_h = math.ceil(h / div) * div - h
            pad_w = math.ceil(w / div) * div - w
            if pad_h or pad_w:
                batch = F.pad(batch, (0, pad_w, 0, pad_h), 'constant',
                              self.pad_value)
        elif isinstance(inputs, (list, tuple)) and inputs and all(
                isinstance(x, torch.Tensor) for x in inputs):
            for i, img in enumerate(inputs):
                if img.dim() != 3:
                    raise ValueError(
                        'ImgDataPreprocessor: each image of `inputs` should '
                        f'be a CHW tensor, but image {i} has shape '
                        f'{tuple(img.shape)}')
            shape = inputs[0].shape
            div = self.pad_size_divisor
            if all(img.shape == shape for img in inputs) and \
                    shape[1] % div == 0 and shape[2] % div == 0:
                # Common case (fixed-size crops): nothing to pad, so stack
                # first and normalise once (a few ops instead of a few per
                # image; the same values).
                batch = self._normalize(
                    torch.stack(inputs), batched=True, owned=True)
            else:
                batch = stack_batch(
                    [self._normalize(x, False) for x in inputs], div,
                    self.pad_value)
        else:
            raise TypeError(
                'ImgDataPreprocessor: `inputs` should be an NCHW tensor or a '
                f'non-empty list of CHW tensors, but got {type(inputs)}')

        data_samples = data.get('data_samples', None)
        if isinstance(data_samples, (list, tuple)):
            batch_input_shape = tuple(batch.shape[-2:])
            for sample in data_samples:
                if isinstance(sample, BaseDataElement):
                    sample.set_metainfo(
                        dict(
                            batch_input_shape=batch_input_shape,
                            pad_shape=batch_input_shape))
        if training and self.batch_augments is not None:
            for aug in self.batch_augments:
                batch, data_samples = aug(batch, data_samples)
        data['inputs'] = batch
        data['data_samples'] = data_samples
        return data
