"""``Evaluator``: runs one or several metrics over a model's predictions."""
from typing import Any, Iterator, List, Optional, Sequence, Union

from mmengine.registry import EVALUATOR, METRICS
from mmengine.structures import BaseDataElement

from .metric import BaseMetric


@EVALUATOR.register_module()
class Evaluator:
    """Wrapper of one or more metrics.

    Args:
        metrics (dict | BaseMetric | Sequence): A metric config (built with
            the ``METRICS`` registry), a metric instance, or a list of
            either.

    Example::

        evaluator = Evaluator([dict(type='Accuracy'), MyMetric()])
        for data_batch in dataloader:
            outputs = model.val_step(data_batch)
            evaluator.process(data_samples=outputs, data_batch=data_batch)
        metrics = evaluator.evaluate(len(dataloader.dataset))
    """

    def __init__(self, metrics: Union[dict, BaseMetric, Sequence]) -> None:
        self._dataset_meta: Optional[dict] = None
        if isinstance(metrics, (dict, BaseMetric)):
            metrics = [metrics]
        elif not isinstance(metrics, Sequence) or isinstance(metrics, str):
            raise TypeError(
                f'metrics of Evaluator should be a dict, a BaseMetric or a '
                f'list of them, but got {type(metrics)}')
        self.metrics: List[BaseMetric] = []
        for i, metric in enumerate(metrics):
            if isinstance(metric, dict):
                metric = METRICS.build(metric)
            if not isinstance(metric, BaseMetric):
                raise TypeError(
                    f'metrics[{i}] of Evaluator should be a dict config or a '
                    f'BaseMetric instance, but got {type(metric)}')
            self.metrics.append(metric)

    @property
    def dataset_meta(self) -> Optional[dict]:
        """dict or None: Meta information of the dataset; setting it
        forwards the value to every metric."""
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: Optional[dict]) -> None:
        self._dataset_meta = dataset_meta
        for metric in self.metrics:
            metric.dataset_meta = dataset_meta

    def process(self,
                data_samples: Sequence,
                data_batch: Optional[Any] = None) -> None:
        """Pass one batch of predictions to every metric.

        ``BaseDataElement`` predictions are converted to dicts with
        ``to_dict()``; other items are passed through as a list (so a
        ``(score, gt)`` tuple output stays unpackable).

        Args:
            data_samples (Sequence): The model's outputs for the batch.
            data_batch (Any, optional): The batch from the dataloader.
        """
        converted = [
            s.to_dict() if isinstance(s, BaseDataElement) else s
            for s in data_samples
        ]
        for metric in self.metrics:
            # Positional on purpose: user metrics name these parameters
            # freely (e.g. ``process(self, data, preds)``).
            metric.process(data_batch, converted)

    def evaluate(self, size: Optional[int] = None) -> dict:
        """Evaluate every metric and merge their results.

        Args:
            size (int, optional): Length of the whole dataset, used to drop
                the padding added by distributed samplers. ``None`` keeps
                all results.

        Returns:
            dict: All metrics, keyed ``'<prefix>/<name>'``.

        Raises:
            ValueError: If two metrics return the same name.
        """
        metrics: dict = {}
        for metric in self.metrics:
            results = metric.evaluate(size)
            for name in results:
                if name in metrics:
                    raise ValueError(
                        f'There are multiple evaluation results with the '
                        f'same metric name {name!r} (from '
                        f'{type(metric).__name__}). Please make sure all '
                        f'metrics have different prefixes.')
            metrics.update(results)
        return metrics

    def offline_evaluate(self,
                         data_samples: Sequence,
                         data: Optional[Sequence] = None,
                         chunk_size: int = 1) -> dict:
        """Evaluate stored predictions without running a model.

        The inputs are split into chunks of ``chunk_size`` and passed to
        :meth:`process`, then :meth:`evaluate` is called with
        ``len(data_samples)``.

        Args:
            data_samples (Sequence): All predictions (e.g. loaded from a
                file written by :class:`DumpResults`).
            data (Sequence, optional): The matching raw data, same length.
            chunk_size (int): Samples per :meth:`process` call.

        Returns:
            dict: The merged metrics.
        """
        if not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError(
                f'chunk_size must be a positive int, but got {chunk_size!r}')
        data_samples = list(data_samples)
        if data is not None:
            data = list(data)
            if len(data_samples) != len(data):
                # explicit (not `assert`, which `python -O` strips)
                raise _LengthMismatch(
                    f'data_samples and data should have the same length, but'
                    f' got data_samples length: {len(data_samples)} data '
                    f'length: {len(data)}')
        size = len(data_samples)
        for start, samples in _chunks(data_samples, chunk_size):
            batch = None if data is None else data[start:start + chunk_size]
            self.process(samples, batch)
        return self.evaluate(size)


class _LengthMismatch(ValueError, AssertionError):
    """Inputs of different lengths. Also an AssertionError, which the
    original raised and callers may catch."""


def _chunks(seq: list, chunk_size: int) -> Iterator:
    for start in range(0, len(seq), chunk_size):
        yield start, seq[start:start + chunk_size]
