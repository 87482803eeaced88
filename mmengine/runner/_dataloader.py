"""Building a DataLoader from a config dict (``Runner.build_dataloader``)."""
import copy
from functools import partial
from typing import Any, Dict, Optional, Union

from torch.utils.data import DataLoader, Dataset

from mmengine.dist import get_rank, get_world_size
from mmengine.registry import DATA_SAMPLERS, DATASETS, FUNCTIONS
from .utils import _get_batch_size

__all__ = ['build_dataloader']


class _SlicedDataset(Dataset):
    """The first ``length`` samples of a dataset (``num_batch_per_epoch``).

    Attributes other than the length and items (e.g. ``metainfo``) are read
    from the wrapped dataset.
    """

    def __init__(self, dataset: Any, length: int) -> None:
        self._dataset = dataset
        self._length = min(length, len(dataset))

    def __getattr__(self, name: str) -> Any:
        if name == '_dataset':  # not set yet (e.g. while unpickling)
            raise AttributeError(name)
        return getattr(self._dataset, name)

    def __getitem__(self, idx: int) -> Any:
        return self._dataset[idx]

    def __len__(self) -> int:
        return self._length


def _resolve_function(cfg: Any, key: str) -> Any:
    """Turn ``dict(type=name_or_callable, **kwargs)`` into a partial."""
    cfg = dict(cfg)
    if 'type' not in cfg:
        raise KeyError(f'dataloader.{key} must contain the key "type", but '
                       f'got {cfg!r}')
    fn_type = cfg.pop('type')
    if isinstance(fn_type, str):
        fn = FUNCTIONS.get(fn_type)
        if fn is None:
            raise KeyError(f'dataloader.{key}: {fn_type!r} is not registered '
                           'in the FUNCTIONS registry')
    elif callable(fn_type):
        fn = fn_type
    else:
        raise TypeError(f'dataloader.{key}.type must be a registered name or '
                        f'a callable, but got {fn_type!r}')
    return partial(fn, **cfg)


def build_dataloader(dataloader: Union[DataLoader, Dict],
                     seed: Optional[int] = None,
                     diff_rank_seed: bool = False) -> DataLoader:
    """Build a DataLoader; see :meth:`Runner.build_dataloader`."""
    if isinstance(dataloader, DataLoader):
        return dataloader
    if not isinstance(dataloader, dict):
        raise TypeError('dataloader should be a DataLoader object or a config '
                        f'dict, but got {type(dataloader).__name__}')
    cfg = copy.deepcopy(dataloader)
    for key in ('dataset', 'sampler'):
        if key not in cfg:
            raise KeyError(
                f'The dataloader config must contain the key "{key}" (e.g. '
                "sampler=dict(type='DefaultSampler', shuffle=True)), but got "
                f'keys {sorted(cfg)}')
    if 'shuffle' in cfg:
        raise ValueError(
            'dataloader config: `shuffle` must not be set at the DataLoader '
            'level; set it in the sampler, e.g. '
            "sampler=dict(type='DefaultSampler', shuffle=True)")

    dataset_cfg = cfg.pop('dataset')
    dataset = DATASETS.build(dataset_cfg) if isinstance(
        dataset_cfg, dict) else dataset_cfg
    # Lazily initialised datasets must be complete before sampling.
    if hasattr(dataset, 'full_init'):
        dataset.full_init()

    num_batch_per_epoch = cfg.pop('num_batch_per_epoch', None)
    if num_batch_per_epoch is not None:
        num_samples = (
            num_batch_per_epoch * _get_batch_size(cfg) * get_world_size())
        dataset = _SlicedDataset(dataset, num_samples)

    sampler_cfg = cfg.pop('sampler')
    if isinstance(sampler_cfg, dict):
        # With diff_rank_seed every rank must still shard the same order, so
        # the sampler draws a seed shared by all ranks.
        sampler_seed = None if diff_rank_seed else seed
        sampler = DATA_SAMPLERS.build(
            sampler_cfg, default_args=dict(dataset=dataset, seed=sampler_seed))
    else:
        sampler = sampler_cfg

    batch_sampler_cfg = cfg.pop('batch_sampler', None)
    if isinstance(batch_sampler_cfg, dict):
        batch_sampler = DATA_SAMPLERS.build(
            batch_sampler_cfg,
            default_args=dict(
                sampler=sampler, batch_size=cfg.pop('batch_size', 1)))
    else:
        batch_sampler = batch_sampler_cfg

    disable_subprocess_warning = cfg.pop('disable_subprocess_warning', False)
    if 'worker_init_fn' in cfg:
        init_fn = _resolve_function(cfg.pop('worker_init_fn'),
                                    'worker_init_fn')
    elif seed is not None:
        from mmengine.dataset import worker_init_fn
        init_fn = partial(
            worker_init_fn,
            num_workers=cfg.get('num_workers', 0),
            rank=get_rank(),
            seed=seed,
            disable_subprocess_warning=disable_subprocess_warning)
    else:
        init_fn = None

    # mmengine's default is pseudo_collate (a list-preserving collate), not
    # torch's default_collate.
    collate_cfg = cfg.pop('collate_fn', dict(type='pseudo_collate'))
    if isinstance(collate_cfg, dict):
        collate_fn = _resolve_function(collate_cfg, 'collate_fn')
    elif callable(collate_cfg):
        collate_fn = collate_cfg
    else:
        raise TypeError('collate_fn should be a dict or callable object, but '
                        f'got {collate_cfg!r}')
    if cfg.get('num_workers', 0) == 0:
        # torch rejects these without workers; they are harmless to drop.
        cfg.pop('persistent_workers', None)
        cfg.pop('prefetch_factor', None)
    return DataLoader(
        dataset=dataset,
        sampler=sampler if batch_sampler is None else None,
        batch_sampler=batch_sampler,
        collate_fn=collate_fn,
        worker_init_fn=init_fn,
        **cfg)
