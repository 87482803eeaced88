import os.path as osp
from typing import Sequence

import numpy as np
import pytest
import torch

from mmengine.evaluator import BaseMetric, Evaluator
from mmengine.fileio import dump, load
from mmengine.registry import EVALUATOR, METRICS
from mmengine.structures import BaseDataElement


@METRICS.register_module(force=True)
class StructEvalCounter(BaseMetric):
    """Records what ``process`` receives; returns configurable metrics."""
    default_prefix = 'Cnt'

    def __init__(self, names=('n', ), **kwargs):
        super().__init__(**kwargs)
        self.names = names
        self.calls = []

    def process(self, data_batch, data_samples):
        self.calls.append((data_batch, data_samples))
        self.results.extend(data_samples)

    def compute_metrics(self, results):
        return {name: len(results) for name in self.names}


def test_build_from_dict_list_and_instance():
    evaluator = Evaluator(dict(type='StructEvalCounter'))
    assert len(evaluator.metrics) == 1
    assert isinstance(evaluator.metrics[0], StructEvalCounter)

    instance = StructEvalCounter(prefix='x')
    evaluator = Evaluator([dict(type='StructEvalCounter'), instance])
    assert evaluator.metrics[1] is instance

    evaluator = Evaluator(instance)
    assert evaluator.metrics == [instance]

    built = EVALUATOR.build(
        dict(type='Evaluator', metrics=dict(type='StructEvalCounter')))
    assert isinstance(built, Evaluator)


def test_build_errors():
    with pytest.raises(TypeError, match='metrics of Evaluator'):
        Evaluator(3)
    with pytest.raises(TypeError, match=r'metrics\[1\]'):
        Evaluator([dict(type='StructEvalCounter'), 'oops'])
    with pytest.raises(KeyError):
        Evaluator(dict(type='NoSuchMetricAnywhere'))


def test_process_converts_data_elements_and_forwards_positionally():

    class PositionalOnly(StructEvalCounter):

        def process(self, data, preds):  # 003 naming
            super().process(data, preds)

    metric = PositionalOnly()
    evaluator = Evaluator(metric)
    sample = BaseDataElement(metainfo=dict(img_id=1), pred=torch.tensor(3))
    evaluator.process([sample, {'raw': 1}], data_batch={'inputs': [0, 1]})
    data_batch, data_samples = metric.calls[0]
    assert data_batch == {'inputs': [0, 1]}
    assert data_samples[0] == {'img_id': 1, 'pred': torch.tensor(3)}
    assert data_samples[1] == {'raw': 1}
    evaluator.process([1])  # data_batch defaults to None
    assert metric.calls[1] == (None, [1])


# ---------------------------------------------------------------- EX-EVAL-03
@METRICS.register_module(force=True)
class StructEvalMetricA(BaseMetric):
    default_prefix = 'A'

    def process(self, data_batch, data_samples):
        self.results.extend(s['score'] for s in data_samples)

    def compute_metrics(self, results):
        return dict(mean=float(np.mean(results)))


@METRICS.register_module(force=True)
class StructEvalMetricB(BaseMetric):
    default_prefix = 'B'

    def process(self, data_batch, data_samples):
        self.results.extend(s['score'] for s in data_samples)

    def compute_metrics(self, results):
        return dict(max=max(results), mean=min(results))


def test_ex_eval_03_multiple_metrics():
    evaluator = Evaluator(
        [dict(type='StructEvalMetricA'),
         dict(type='StructEvalMetricB')])
    evaluator.process([BaseDataElement(score=s) for s in (1., 2., 6.)])
    assert evaluator.evaluate(3) == {'A/mean': 3.0, 'B/max': 6.0,
                                     'B/mean': 1.0}

    evaluator = Evaluator([
        dict(type='StructEvalMetricA'),
        dict(type='StructEvalMetricB', prefix='A')
    ])
    evaluator.process([BaseDataElement(score=1.)])
    with pytest.raises(ValueError,
                       match="same metric name 'A/mean'.*different prefix"):
        evaluator.evaluate(1)


def test_evaluate_size_none_and_dataset_meta():
    evaluator = Evaluator([
        dict(type='StructEvalCounter'),
        dict(type='StructEvalCounter', prefix='other')
    ])
    evaluator.dataset_meta = dict(classes=('a', 'b'))
    assert all(m.dataset_meta == dict(classes=('a', 'b'))
               for m in evaluator.metrics)
    evaluator.process([1, 2, 3])
    assert evaluator.evaluate() == {'Cnt/n': 3, 'other/n': 3}
    evaluator.process([1, 2, 3])
    assert evaluator.evaluate(2) == {'Cnt/n': 2, 'other/n': 2}
    with pytest.raises(TypeError, match='non-negative int or None'):
        evaluator.evaluate('3')


def test_offline_evaluate_chunks():
    evaluator = Evaluator(dict(type='StructEvalCounter'))
    metric = evaluator.metrics[0]
    samples = [BaseDataElement(i=i) for i in range(5)]
    data = [dict(x=i) for i in range(5)]
    assert evaluator.offline_evaluate(samples, data, chunk_size=2) == {
        'Cnt/n': 5
    }
    assert [len(s) for _, s in metric.calls] == [2, 2, 1]
    assert metric.calls[2][0] == [dict(x=4)]
    assert metric.calls[0][1][1] == {'i': 1}

    metric.calls.clear()
    assert evaluator.offline_evaluate(samples) == {'Cnt/n': 5}
    assert all(batch is None for batch, _ in metric.calls)
    assert len(metric.calls) == 5  # chunk_size defaults to 1

    with pytest.raises(AssertionError,
                       match='data_samples and data should have the same '
                       'length'):
        evaluator.offline_evaluate(samples, data[:4])
    with pytest.raises(ValueError, match='length: 5 data length: 6'):
        evaluator.offline_evaluate(samples, data + [dict(x=5)])
    with pytest.raises(ValueError, match='chunk_size'):
        evaluator.offline_evaluate(samples, chunk_size=0)


# ---------------------------------------------------------------- EX-EVAL-04
@METRICS.register_module(force=True)
class StructEvalTopKAccuracy(BaseMetric):
    """Local stand-in for mmpretrain's ``Accuracy(top_k=...)``."""
    default_prefix = 'accuracy'

    def __init__(self, top_k=(1, ), **kwargs):
        super().__init__(**kwargs)
        self.top_k = top_k

    def process(self, data_batch, data_samples: Sequence[dict]):
        for sample in data_samples:
            self.results.append((sample['pred_score'], sample['gt_label']))

    def compute_metrics(self, results):
        scores = torch.stack([r[0] for r in results])
        labels = torch.stack([r[1] for r in results])
        out = {}
        for k in self.top_k:
            topk = scores.topk(k, dim=1).indices
            hit = (topk == labels.view(-1, 1)).any(dim=1)
            out[f'top{k}'] = 100. * hit.float().mean().item()
        return out


def test_ex_eval_04_offline_evaluation(tmp_path):
    g = torch.Generator().manual_seed(0)
    n, num_classes = 300, 10
    labels = torch.randint(0, num_classes, (n, ), generator=g)
    scores = torch.rand((n, num_classes), generator=g)
    scores[torch.arange(n)[:150], labels[:150]] = 2.  # first half top-1
    data = [dict(inputs=torch.zeros(3, 2, 2)) for _ in range(n)]
    predictions = [
        BaseDataElement(pred_score=scores[i], gt_label=labels[i])
        for i in range(n)
    ]
    dump(data, osp.join(tmp_path, 'test_data.pkl'))
    dump(predictions, osp.join(tmp_path, 'prediction.pkl'))

    data = load(osp.join(tmp_path, 'test_data.pkl'))
    data_samples = load(osp.join(tmp_path, 'prediction.pkl'))
    evaluator = Evaluator(
        metrics=dict(type='StructEvalTopKAccuracy', top_k=(1, 5)))
    metrics = evaluator.offline_evaluate(data_samples, data, chunk_size=128)

    top1 = (scores.argmax(1) == labels).float().mean().item() * 100
    top5 = (scores.topk(5, 1).indices == labels.view(-1, 1)).any(
        1).float().mean().item() * 100
    assert metrics == {
        'accuracy/top1': pytest.approx(top1),
        'accuracy/top5': pytest.approx(top5)
    }
    assert metrics['accuracy/top1'] >= 50.


# ---------------------------------------------------------------- EX-EVAL-05
class FashionMnistMetric(BaseMetric):
    """The 003 metric: ``process(self, data, preds)``, ``len(results)``,
    no prefix."""

    def process(self, data, preds) -> None:
        self.results.append(((data[1] == preds[0].cpu()).sum(), preds[1],
                             len(preds[0])))

    def compute_metrics(self, results):
        correct, loss, batch_size = zip(*results)
        acc = sum(correct) / sum(batch_size)
        return dict(Accuracy=acc, Avg_loss=sum(loss) / len(self.results))


def test_ex_eval_05_fashion_mnist_metric():
    # the val loop: process(data_samples=outputs, data_batch=data_batch)
    evaluator = Evaluator(FashionMnistMetric())
    batches = [
        ((None, torch.tensor([1, 2, 3, 4])), (torch.tensor([1, 2, 0, 4]),
                                             0.5)),
        ((None, torch.tensor([5, 6])), (torch.tensor([5, 6]), 0.25)),
    ]
    for data_batch, outputs in batches:
        evaluator.process(data_samples=outputs, data_batch=data_batch)
    metrics = evaluator.evaluate(2)
    assert sorted(metrics) == ['Accuracy', 'Avg_loss']
    assert metrics['Accuracy'].item() == pytest.approx(5 / 6)
    assert metrics['Avg_loss'] == pytest.approx(0.375)
