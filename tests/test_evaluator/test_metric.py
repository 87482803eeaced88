import os
import socket
import unittest
from typing import Any, List, Sequence

import numpy as np
import pytest
import torch

from mmengine.evaluator import BaseMetric, DumpResults, Evaluator
from mmengine.fileio import load
from mmengine.logging import MMLogger
from mmengine.registry import METRICS
from mmengine.structures import BaseDataElement
from mmengine.testing._internal import MultiProcessTestCase


def assert_warns_logged(pattern: str):
    """Context manager: a WARNING matching ``pattern`` is logged on the
    current MMLogger."""
    return _LogCheck(pattern)


class _LogCheck:

    def __init__(self, pattern):
        self.pattern = pattern
        self.case = unittest.TestCase()

    def __enter__(self):
        self.cm = self.case.assertLogs(MMLogger.get_current_instance(),
                                       'WARNING')
        self.watcher = self.cm.__enter__()
        return self.watcher

    def __exit__(self, *exc):
        result = self.cm.__exit__(*exc)
        if exc[0] is None:
            assert any(self.pattern in line for line in self.watcher.output), \
                self.watcher.output
        return result


# ---------------------------------------------------------------- EX-EVAL-01
class Accuracy(BaseMetric):
    """The 15-minute tutorial metric: data_samples is ``(score, gt)``."""

    def process(self, data_batch, data_samples):
        score, gt = data_samples
        self.results.append({
            'batch_size': len(gt),
            'correct': (score.argmax(dim=1) == gt).sum().cpu(),
        })

    def compute_metrics(self, results):
        total_correct = sum(item['correct'] for item in results)
        total_size = sum(item['batch_size'] for item in results)
        return dict(accuracy=100 * total_correct / total_size)


def test_ex_eval_01_fifteen_minute_accuracy():
    metric = Accuracy()
    assert metric.prefix is None and metric.results == []
    # batch 1: 3 of 4 correct, batch 2: 1 of 2 correct -> 4 / 6
    score1 = torch.eye(4)[[0, 1, 2, 0]]
    gt1 = torch.tensor([0, 1, 2, 3])
    score2 = torch.eye(4)[[1, 1]]
    gt2 = torch.tensor([1, 0])
    metric.process(None, (score1, gt1))
    metric.process(None, (score2, gt2))
    metrics = metric.evaluate(6)
    assert list(metrics) == ['accuracy']
    assert isinstance(metrics['accuracy'], torch.Tensor)
    assert metrics['accuracy'].item() == pytest.approx(100 * 4 / 6)
    assert metric.results == []  # cleared after evaluate

    # the same through an Evaluator: a tuple output stays unpackable
    evaluator = Evaluator(Accuracy())
    evaluator.process(data_samples=(score1, gt1), data_batch=None)
    assert evaluator.evaluate(4)['accuracy'].item() == pytest.approx(75.)


# ---------------------------------------------------------------- EX-EVAL-02
@METRICS.register_module(force=True)
class StructEvalSimpleAccuracy(BaseMetric):
    default_prefix = 'ACC'

    def process(self, data_batch, data_samples: Sequence[dict]):
        for sample in data_samples:
            self.results.append({
                'pred': sample['pred_label'],
                'gt': sample['gt_label'],
            })

    def compute_metrics(self, results: List):
        pred = np.array([r['pred'] for r in results])
        gt = np.array([r['gt'] for r in results])
        return {'accuracy': float((pred == gt).mean())}


def test_ex_eval_02_default_prefix_and_config_prefix():
    samples = [
        BaseDataElement(pred_label=p, gt_label=g)
        for p, g in [(1, 1), (0, 1), (2, 2), (3, 3)]
    ]
    evaluator = Evaluator(dict(type='StructEvalSimpleAccuracy'))
    evaluator.process(samples)
    assert evaluator.evaluate(4) == {'ACC/accuracy': 0.75}

    evaluator = Evaluator(dict(type='StructEvalSimpleAccuracy', prefix='my'))
    evaluator.process(samples)
    assert evaluator.evaluate(4) == {'my/accuracy': 0.75}


def test_size_truncates_padding_and_none_keeps_all():
    metric = StructEvalSimpleAccuracy()
    metric.process(None, [dict(pred_label=1, gt_label=1)] * 3 +
                   [dict(pred_label=0, gt_label=1)])
    assert metric.evaluate(3) == {'ACC/accuracy': 1.0}
    metric.process(None, [dict(pred_label=1, gt_label=1)] * 3 +
                   [dict(pred_label=0, gt_label=1)])
    assert metric.evaluate() == {'ACC/accuracy': 0.75}


class NoPrefix(BaseMetric):

    def process(self, data_batch, data_samples):
        self.results.extend(data_samples)

    def compute_metrics(self, results):
        return dict(n=len(results))


def test_prefix_warning_and_no_prefix_keys():
    with assert_warns_logged('prefix is not set'):
        metric = NoPrefix()
    metric.process(None, [1, 2])
    assert metric.evaluate(2) == {'n': 2}


def test_empty_results_warn_and_return_empty_dict():
    metric = NoPrefix(prefix='p')
    with assert_warns_logged('got empty `self.results`'):
        assert metric.evaluate(0) == {}


def test_invalid_arguments():
    with pytest.raises(ValueError, match="collect_device.*'tpu'"):
        NoPrefix(collect_device='tpu')
    with pytest.raises(ValueError, match='collect_dir'):
        NoPrefix(collect_device='gpu', collect_dir='/tmp/x')
    with pytest.raises(TypeError):
        BaseMetric()  # abstract

    class BadReturn(NoPrefix):

        def compute_metrics(self, results):
            return [1]

    metric = BadReturn(prefix='x')
    metric.process(None, [1])
    with pytest.raises(TypeError, match='BadReturn.compute_metrics must'):
        metric.evaluate(1)


def test_dataset_meta_property():
    metric = NoPrefix(prefix='p')
    assert metric.dataset_meta is None
    metric.dataset_meta = dict(classes=('cat', 'dog'))
    assert metric.dataset_meta == dict(classes=('cat', 'dog'))


def test_results_moved_to_cpu_before_compute():
    seen = []

    class Recorder(NoPrefix):

        def compute_metrics(self, results):
            seen.extend(results)
            return {}

    metric = Recorder(prefix='r')
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    metric.process(None, [{
        'x': torch.ones(1, device=device),
        'el': BaseDataElement(y=torch.zeros(1, device=device)),
        't': (torch.ones(1, device=device), 'keep'),
    }])
    metric.evaluate(1)
    assert seen[0]['x'].device.type == 'cpu'
    assert seen[0]['el'].y.device.type == 'cpu'
    assert seen[0]['t'][0].device.type == 'cpu' and seen[0]['t'][1] == 'keep'


# ------------------------------------------------------------ DumpResults
def test_dump_results_round_trip(tmp_path):
    out = str(tmp_path / 'results.pkl')
    metric = METRICS.build(dict(type='DumpResults', out_file_path=out))
    assert isinstance(metric, DumpResults)
    preds = [
        BaseDataElement(pred=torch.tensor([i]), metainfo=dict(img_id=i))
        for i in range(3)
    ]
    evaluator = Evaluator(metric)
    evaluator.process(preds[:2])
    evaluator.process(preds[2:])
    assert evaluator.evaluate(3) == {}
    loaded = load(out)
    assert [d['img_id'] for d in loaded] == [0, 1, 2]
    assert [int(d['pred']) for d in loaded] == [0, 1, 2]

    out2 = str(tmp_path / 'results.pickle')
    metric = DumpResults(out_file_path=out2)
    metric.process(None, [{'a': 1}])
    metric.evaluate(1)
    assert load(out2) == [{'a': 1}]


def test_dump_results_rejects_non_pickle_path():
    with pytest.raises(ValueError, match=r'"\.pkl" or "\.pickle".*out\.json'):
        DumpResults(out_file_path='out.json')


# ---------------------------------------------------------------- EX-EVAL-06
class PaddedAccuracy(BaseMetric):
    """Records (index, correct) so the test can check which samples were
    counted after gathering."""
    default_prefix = 'dist'

    def process(self, data_batch, data_samples):
        for index, sample in zip(data_batch['index'], data_samples):
            self.results.append((index, sample['pred'] == sample['gt']))

    def compute_metrics(self, results):
        return dict(
            accuracy=sum(c for _, c in results) / len(results),
            size=len(results),
            indices=[i for i, _ in results])  # dataset order expected


def _padded_shard(size: int, rank: int, world_size: int) -> list:
    """Indices a DefaultSampler(shuffle=False, round_up=True) gives a rank:
    pad by repeating from the start, then take every world_size-th."""
    total = -(-size // world_size) * world_size
    indices = (list(range(size)) * 2)[:total]
    return indices[rank:total:world_size]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


WRONG = {3, 5}  # samples predicted wrongly -> accuracy 5/7 (not 6/8)


class TestDistributedEvaluate(MultiProcessTestCase):
    """EX-EVAL-06: two gloo processes, 7 samples padded to 8."""

    def setUp(self):
        super().setUp()
        self._old_env = {
            k: os.environ.get(k)
            for k in ('MASTER_ADDR', 'MASTER_PORT')
        }
        # Children are spawned with the parent's environment.
        os.environ['MASTER_ADDR'] = '127.0.0.1'
        os.environ['MASTER_PORT'] = str(_free_port())
        self._spawn_processes()

    def tearDown(self):
        super().tearDown()
        for k, v in self._old_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def test_evaluate_uneven_split(self):
        import torch.distributed as torch_dist
        torch_dist.init_process_group(
            'gloo', rank=self.rank, world_size=self.world_size)
        try:
            # 'cpu' gathers through a shared directory; 'gpu' sends pickled
            # results as tensors through the backend (gloo works on CPU).
            for collect_device, collect_dir in (
                ('cpu', self.file_name + '_collect'), ('gpu', None)):
                self._check_metric(collect_device, collect_dir)
            self._check_failure_reaches_all_ranks()
        finally:
            torch_dist.destroy_process_group()

    def _check_metric(self, collect_device, collect_dir):
        import torch.distributed as torch_dist
        size = 7
        metric = PaddedAccuracy(
            collect_device=collect_device, collect_dir=collect_dir)
        shard = _padded_shard(size, self.rank, self.world_size)
        for start in range(0, len(shard), 2):
            batch = shard[start:start + 2]
            samples = [dict(pred=int(i in WRONG), gt=0) for i in batch]
            metric.process({'index': batch}, samples)
        metrics = metric.evaluate(size)
        expected = {
            'dist/accuracy': 5 / 7,
            'dist/size': 7,
            'dist/indices': list(range(7)),
        }
        assert metrics == expected, (collect_device, self.rank, metrics)
        assert metric.results == []
        gathered: List[Any] = [None] * self.world_size
        torch_dist.all_gather_object(gathered, metrics)
        assert gathered[0] == gathered[1]

    def _check_failure_reaches_all_ranks(self):
        # compute_metrics fails on rank 0: rank 0 re-raises it, the other
        # rank gets an error naming it instead of waiting forever
        class Broken(PaddedAccuracy):

            def compute_metrics(self, results):
                raise ZeroDivisionError('no samples of class 3')

        metric = Broken()
        metric.results.append((self.rank, True))
        if self.rank == 0:
            with pytest.raises(ZeroDivisionError, match='class 3'):
                metric.evaluate(2)
        else:
            with pytest.raises(RuntimeError,
                               match='Broken.evaluate failed on rank 0 '
                               'with ZeroDivisionError: no samples'):
                metric.evaluate(2)
        assert metric.results == []


def test_padded_shard_helper():
    assert _padded_shard(7, 0, 2) == [0, 2, 4, 6]
    assert _padded_shard(7, 1, 2) == [1, 3, 5, 0]

