"""``BaseMetric``: the interface every evaluation metric implements, and
``DumpResults``, a metric that stores predictions for offline use."""
import logging
from abc import ABCMeta, abstractmethod
from typing import Any, List, Optional, Sequence

from mmengine.dist import (broadcast_object_list, collect_results,
                           is_main_process)
from mmengine.fileio import dump
from mmengine.logging import print_log
from mmengine.registry import METRICS

from .utils import _to_cpu

_COLLECT_DEVICES = ('cpu', 'gpu')


class BaseMetric(metaclass=ABCMeta):
    """Base class of evaluation metrics.

    A metric sees the data in two stages. :meth:`process` is called once
    per batch and appends whatever intermediate results it needs to
    ``self.results``. :meth:`evaluate` then gathers ``self.results`` from
    every rank, calls :meth:`compute_metrics` once on rank 0, prefixes the
    metric names and broadcasts the dict to all ranks.

    Args:
        collect_device (str): How ``results`` travel between ranks in
            distributed evaluation: ``'cpu'`` or ``'gpu'``.
        prefix (str, optional): Prefix added to metric names as
            ``'<prefix>/<name>'``, to tell apart same-named metrics of
            different metric objects. Defaults to :attr:`default_prefix`.
        collect_dir (str, optional): Shared directory used to gather
            results when ``collect_device='cpu'`` (each evaluation uses a
            fresh sub-directory and removes it; ``collect_dir`` itself is
            removed only when left empty); ``./.dist_test`` when it is
            ``None``. Only valid with ``'cpu'``.

    Examples:
        >>> class Accuracy(BaseMetric):
        ...     default_prefix = 'ACC'
        ...     def process(self, data_batch, data_samples):
        ...         score, gt = data_samples
        ...         self.results.append(dict(
        ...             n=len(gt), correct=int((score.argmax(1) == gt).sum())))
        ...     def compute_metrics(self, results):
        ...         n = sum(r['n'] for r in results)
        ...         return dict(accuracy=100 * sum(
        ...             r['correct'] for r in results) / n)
    """

    default_prefix: Optional[str] = None

    def __init__(self,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        if collect_device not in _COLLECT_DEVICES:
            raise ValueError(
                f'collect_device of {type(self).__name__} must be one of '
                f'{_COLLECT_DEVICES}, but got {collect_device!r}')
        if collect_dir is not None and collect_device != 'cpu':
            raise ValueError(
                f'`collect_dir` of {type(self).__name__} can only be set '
                f'when `collect_device="cpu"`, but got '
                f'collect_device={collect_device!r}')
        self._dataset_meta: Optional[dict] = None
        self.collect_device = collect_device
        self.collect_dir = collect_dir
        self.results: List[Any] = []
        self.prefix = prefix or self.default_prefix
        if self.prefix is None:
            print_log(
                f'The prefix is not set in metric class '
                f'{type(self).__name__}; metric names will not be prefixed. '
                f'Set `default_prefix` on the class or pass `prefix=` to '
                f'tell apart metrics with the same name.',
                logger='current',
                level=logging.WARNING)

    @property
    def dataset_meta(self) -> Optional[dict]:
        """dict or None: Meta information of the evaluated dataset (e.g.
        ``classes``); set by the evaluator/runner."""
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: Optional[dict]) -> None:
        self._dataset_meta = dataset_meta

    @abstractmethod
    def process(self, data_batch: Any, data_samples: Sequence) -> None:
        """Consume one batch and append intermediate results to
        ``self.results``.

        Args:
            data_batch (Any): The batch from the dataloader.
            data_samples (Sequence): The model's outputs for this batch.
        """

    @abstractmethod
    def compute_metrics(self, results: list) -> dict:
        """Compute metrics from the results of the whole dataset.

        Args:
            results (list): ``self.results`` gathered from all ranks.

        Returns:
            dict: Metric name (without prefix) to value.
        """

    def evaluate(self, size: Optional[int] = None) -> dict:
        """Gather results from all ranks, compute and return the metrics.

        Every rank must call this (it runs collective operations); all
        ranks get the same dict. ``self.results`` is cleared afterwards.

        Args:
            size (int, optional): Length of the whole dataset. Distributed
                samplers pad the data so each rank gets the same number of
                samples; results beyond ``size`` are those duplicates and
                are dropped. ``None`` keeps all gathered results.

        Returns:
            dict: ``'<prefix>/<name>'`` (or ``'<name>'`` without prefix) to
            value. Empty when no rank produced any result.
        """
        if len(self.results) == 0:
            print_log(
                f'{type(self).__name__} got empty `self.results`. Please '
                f'ensure that the processed results are properly added into '
                f'`self.results` in `process` method.',
                logger='current',
                level=logging.WARNING)

        if size is not None and (not isinstance(size, int)
                                 or isinstance(size, bool) or size < 0):
            raise TypeError(
                f'{type(self).__name__}.evaluate expects `size` (the dataset '
                f'length) to be a non-negative int or None, but got {size!r}')
        # collect_dir is None unless collect_device is 'cpu' (see __init__)
        results = collect_results(
            self.results, size, self.collect_device, tmpdir=self.collect_dir)

        error: Optional[BaseException] = None
        if is_main_process():
            try:
                # Metrics are computed on CPU whatever device the results
                # came from, so that compute_metrics needs no device
                # handling.
                metrics = self._compute_on_main(_to_cpu(results))
                payload: List[Any] = [metrics]
            except Exception as e:
                # Tell the other ranks, which wait in the broadcast below,
                # instead of leaving them to hang until the timeout.
                error = e
                payload = [_MainRankError(f'{type(e).__name__}: {e}')]
        else:
            payload = [None]

        broadcast_object_list(payload)
        self.results.clear()
        if error is not None:
            raise error
        if isinstance(payload[0], _MainRankError):
            raise RuntimeError(
                f'{type(self).__name__}.evaluate failed on rank 0 with '
                f'{payload[0].message}')
        return payload[0]

    def _compute_on_main(self, results: list) -> dict:
        metrics = self.compute_metrics(results) if results else {}
        if not isinstance(metrics, dict):
            raise TypeError(
                f'{type(self).__name__}.compute_metrics must return a '
                f'dict, but got {type(metrics)}')
        if self.prefix:
            metrics = {f'{self.prefix}/{k}': v for k, v in metrics.items()}
        return metrics


class _MainRankError:
    """Sent from rank 0 to the other ranks when computing metrics failed
    (a plain class: it must pickle by reference)."""

    def __init__(self, message: str) -> None:
        self.message = message


@METRICS.register_module()
class DumpResults(BaseMetric):
    """Dump the model's predictions to a pickle file for offline evaluation.

    The gathered predictions (moved to CPU) are written with
    :func:`mmengine.fileio.dump`; read them back with
    :func:`mmengine.fileio.load`. No metric value is returned.

    Args:
        out_file_path (str): Output file; must end with ``.pkl`` or
            ``.pickle``.
        collect_device (str): ``'cpu'`` or ``'gpu'``.
        collect_dir (str, optional): See :class:`BaseMetric`.
    """

    default_prefix = 'dump'

    def __init__(self,
                 out_file_path: str,
                 collect_device: str = 'cpu',
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(
            collect_device=collect_device, collect_dir=collect_dir)
        if not isinstance(out_file_path, str) or not out_file_path.endswith(
            ('.pkl', '.pickle')):
            raise ValueError(
                f'The output file of DumpResults must be a pickle file '
                f'ending with ".pkl" or ".pickle", but got {out_file_path!r}')
        self.out_file_path = out_file_path

    def process(self, data_batch: Any, predictions: Sequence) -> None:
        """Store the predictions of one batch (moved to CPU)."""
        self.results.extend(_to_cpu(list(predictions)))

    def compute_metrics(self, results: list) -> dict:
        """Write ``results`` to :attr:`out_file_path`; returns ``{}``."""
        dump(results, self.out_file_path)
        print_log(
            f'Results have been saved to {self.out_file_path}.',
            logger='current')
        return {}


__all__ = ['BaseMetric', 'DumpResults']
