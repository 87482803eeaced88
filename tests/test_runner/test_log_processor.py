import itertools

import numpy as np
import pytest
import torch
import torch.nn as nn

import mmengine.device
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.registry import LOG_PROCESSORS
from mmengine.runner.log_processor import LogProcessor

_ids = itertools.count()


class FakeLoop:

    def __init__(self, length):
        self.dataloader = list(range(length))


class FakeRunner:
    """The runner attributes LogProcessor reads, with a real MessageHub."""

    def __init__(self, epoch=0, iter=0, max_epochs=1, iters_per_epoch=25,
                 val_len=313, test_len=100, train=True):
        self.message_hub = MessageHub.get_instance(f'h8-lp-{next(_ids)}')
        self.epoch = epoch
        self.iter = iter
        self.max_epochs = max_epochs
        self.max_iters = max_epochs * iters_per_epoch
        self._train_loop = FakeLoop(iters_per_epoch) if train else None
        self.train_loop = self._train_loop
        self.val_loop = FakeLoop(val_len)
        self.test_loop = FakeLoop(test_len)
        self.model = nn.Linear(1, 1)


@pytest.fixture(autouse=True)
def no_accelerator(monkeypatch):
    # Lines must not depend on the machine the tests run on.
    monkeypatch.setattr(mmengine.device, 'is_cuda_available', lambda: False)
    monkeypatch.setattr(mmengine.device, 'is_musa_available', lambda: False)


def fill_train(runner, n, loss1=lambda i: 1.0, loss2=lambda i: 2.0,
               time=0.1, data_time=0.01, lr=0.01):
    hub = runner.message_hub
    for i in range(n):
        hub.update_scalar('train/lr', lr)
        hub.update_scalar('train/data_time', data_time)
        hub.update_scalar('train/time', time)
        hub.update_scalar('train/loss1', loss1(i))
        hub.update_scalar('train/loss2', loss2(i))
        hub.update_scalar('train/loss', loss1(i) + loss2(i))


def test_train_line_epoch_mode():
    runner = FakeRunner(iter=9)
    fill_train(runner, 10, loss1=lambda i: float(i))  # mean 4.5
    runner.message_hub.update_info('eta', 1.9)
    tag, line = LogProcessor().get_log_after_iter(runner, 9, 'train')
    assert line == ('Epoch(train) [1][10/25]  lr: 1.0000e-02  eta: 0:00:01  '
                    'time: 0.1000  data_time: 0.0100  loss1: 4.5000  '
                    'loss2: 2.0000  loss: 6.5000')
    assert tag == pytest.approx(dict(lr=0.01, data_time=0.01, time=0.1,
                                     loss1=4.5, loss2=2.0, loss=6.5,
                                     epoch=1, iter=10))
    assert all(type(v) in (int, float) for v in tag.values())


def test_train_line_alignment_and_window():
    runner = FakeRunner(epoch=0, iter=99, max_epochs=200,
                        iters_per_epoch=3125)
    # 20 values; window 10 only sees the last ten (10..19 → 14.5)
    fill_train(runner, 20, loss1=lambda i: float(i))
    runner.message_hub.update_info('eta', 3723)
    _, line = LogProcessor().get_log_after_iter(runner, 99, 'train')
    assert line.startswith('Epoch(train)   [1][ 100/3125]  lr: 1.0000e-02'
                           '  eta: 1:02:03  ')
    assert 'loss1: 14.5000' in line
    _, line = LogProcessor(window_size=20).get_log_after_iter(
        runner, 99, 'train')
    assert 'loss1: 9.5000' in line


def test_train_line_iter_mode_eta_memory_and_digits(monkeypatch):
    runner = FakeRunner(iter=9, max_epochs=4, iters_per_epoch=25)  # 100
    fill_train(runner, 10, time=0.5)
    tag, line = LogProcessor(
        by_epoch=False, num_digits=2).get_log_after_iter(runner, 9, 'train')
    # no eta from IterTimerHook: 90 iterations left at 0.5 s each
    assert line == ('Iter(train) [ 10/100]  lr: 1.00e-02  eta: 0:00:45  '
                    'time: 0.50  data_time: 0.01  loss1: 1.00  '
                    'loss2: 2.00  loss: 3.00')
    assert 'epoch' not in tag and tag['iter'] == 10
    monkeypatch.setattr(mmengine.device, 'is_cuda_available', lambda: True)
    monkeypatch.setattr(mmengine.device, 'get_max_cuda_memory',
                        lambda device=None: 392)
    tag, line = LogProcessor(by_epoch=False).get_log_after_iter(
        runner, 9, 'train')
    assert 'data_time: 0.0100  memory: 392  loss1: 1.0000' in line
    assert tag['memory'] == 392


def test_several_lrs_and_custom_scalar_current():
    runner = FakeRunner(iter=0)
    hub = runner.message_hub
    hub.update_scalar('train/generator.lr', 0.1)
    hub.update_scalar('train/discriminator.lr', 0.2)
    hub.update_scalar('train/acc', 1)
    hub.update_scalar('train/acc', 3)  # not a loss: latest value shown
    hub.update_scalar('val/loss', 5.0)  # another mode: ignored
    _, line = LogProcessor().get_log_after_iter(runner, 0, 'train')
    assert line == ('Epoch(train) [1][ 1/25]  generator.lr: 1.0000e-01  '
                    'discriminator.lr: 2.0000e-01  acc: 3.0000')


def test_custom_cfg_global_override():  # EX-LOG-02 / EX-LOG-11
    runner = FakeRunner(iter=19)
    fill_train(runner, 20, loss1=lambda i: float(i))
    lp = LogProcessor(custom_cfg=[
        dict(data_src='loss1', method_name='mean', window_size='global')])
    tag, line = lp.get_log_after_iter(runner, 19, 'train')
    assert tag['loss1'] == 9.5 and 'loss1: 9.5000' in line
    assert 'loss1_' not in line


def test_custom_cfg_added_entries():  # EX-LOG-03 / EX-LOG-04 / EX-LOG-11
    runner = FakeRunner(iter=9)
    fill_train(runner, 10, loss1=lambda i: float(i))
    lp = LogProcessor(custom_cfg=[
        dict(data_src='loss1', log_name='loss1_global', method_name='mean',
             window_size='global'),
        dict(data_src='loss1', log_name='loss1_local_max',
             method_name='max', window_size=10),
        dict(data_src='loss1', log_name='loss1_global_max',
             method_name='max', window_size='global'),
        dict(data_src='loss', log_name='loss_min', method_name='min'),
        dict(data_src='not_logged', log_name='x', method_name='mean'),
    ])
    tag, line = lp.get_log_after_iter(runner, 9, 'train')
    # first log line: global and window statistics agree
    assert tag['loss1_global'] == tag['loss1'] == 4.5
    assert tag['loss1_local_max'] == tag['loss1_global_max'] == 9.0
    assert tag['loss_min'] == 2.0
    assert line.endswith('loss: 6.5000  loss1_global: 4.5000  '
                         'loss1_local_max: 9.0000  loss1_global_max: 9.0000'
                         '  loss_min: 2.0000')
    assert 'x' not in tag
    fill_train(runner, 10, loss1=lambda i: 100.0)
    runner.iter = 19
    tag, _ = lp.get_log_after_iter(runner, 19, 'train')
    assert tag['loss1'] == 100.0 and tag['loss1_global'] == 52.25


def test_custom_cfg_epoch_window_and_registered_statistic():
    runner = FakeRunner(epoch=1, iter=29)
    fill_train(runner, 30, loss1=lambda i: float(i))

    @HistoryBuffer.register_statistics
    def h8_sum(self, window_size=None):
        logs = self._log_history
        return logs[-window_size:].sum() if window_size else logs.sum()

    lp = LogProcessor(custom_cfg=[
        dict(data_src='loss1', method_name='mean', window_size='epoch'),
        dict(data_src='loss2', log_name='loss2_sum', method_name='h8_sum',
             window_size='epoch')])
    # 5th iteration of the 2nd epoch: the epoch window holds 5 values
    tag, line = lp.get_log_after_iter(runner, 4, 'train')
    assert line.startswith('Epoch(train) [2][ 5/25]')
    assert tag['loss1'] == np.mean([25, 26, 27, 28, 29])
    assert tag['loss2_sum'] == 10.0
    assert lp.custom_cfg[0]['window_size'] == 'epoch'  # config untouched


@pytest.mark.parametrize('custom_cfg, error, match', [
    ([dict(method_name='mean')], ValueError, 'has no "data_src"'),
    ([dict(data_src='loss'), dict(data_src='loss', method_name='max')],
     ValueError, "duplicate log name 'loss'"),
    ([dict(data_src='a', log_name='b'), dict(data_src='c', log_name='b')],
     ValueError, "duplicate log name 'b'"),
    ([dict(data_src='loss', window_size='month')], ValueError,
     "window_size must be a positive int, 'epoch' or 'global'"),
    ([dict(data_src='loss', window_size=0)], ValueError, 'positive int'),
    (['loss'], TypeError, r'custom_cfg\[0\] must be a dict'),
    (dict(data_src='loss'), TypeError, 'must be a list of dicts'),
    ([dict(data_src='loss', method_name=3)], TypeError, 'method_name'),
])
def test_custom_cfg_errors(custom_cfg, error, match):
    with pytest.raises(error, match=match):
        LogProcessor(custom_cfg=custom_cfg)


@pytest.mark.parametrize('cfg, error, match', [
    (dict(data_src='loss1', method_name='median'), ValueError,
     r"entry \{'data_src': 'loss1', 'method_name': 'median'\} failed for "
     r"train/loss1: .*'median' is not a registered statistics method"),
    (dict(data_src='loss1', log_name='l', method_name='max', window=5),
     TypeError, r"entry .*'window': 5\} failed for train/loss1: .*window"),
])
def test_custom_cfg_errors_at_log_time_name_the_entry(cfg, error, match):
    runner = FakeRunner(iter=0)
    fill_train(runner, 1)
    with pytest.raises(error, match=match):
        LogProcessor(custom_cfg=[cfg]).get_log_after_iter(runner, 0, 'train')


def test_other_argument_errors():
    with pytest.raises(ValueError, match="cannot be 'epoch' when by_epoch"):
        LogProcessor(by_epoch=False, custom_cfg=[
            dict(data_src='loss', window_size='epoch')])
    with pytest.raises(ValueError, match='window_size must be a positive'):
        LogProcessor(window_size=0)
    with pytest.raises(ValueError, match='num_digits'):
        LogProcessor(num_digits=-1)
    with pytest.raises(ValueError, match='mean_pattern'):
        LogProcessor(mean_pattern='(')
    runner = FakeRunner()
    with pytest.raises(ValueError, match="mode must be one of.*'eval'"):
        LogProcessor().get_log_after_iter(runner, 0, 'eval')
    with pytest.raises(ValueError, match="mode must be one of.*'train'"):
        LogProcessor().get_log_after_epoch(runner, 0, 'train')


def fill_eval(runner, mode, n, time=0.0122, data_time=0.0047):
    for _ in range(n):
        runner.message_hub.update_scalar(f'{mode}/data_time', data_time)
        runner.message_hub.update_scalar(f'{mode}/time', time)


def test_val_iteration_line():
    runner = FakeRunner(epoch=1, iter=25)
    fill_train(runner, 25)
    fill_eval(runner, 'val', 10)
    runner.message_hub.update_info('eta', 3.6)
    tag, line = LogProcessor().get_log_after_iter(runner, 9, 'val')
    assert line == ('Epoch(val) [1][ 10/313]    eta: 0:00:03  '
                    'time: 0.0122  data_time: 0.0047')
    assert tag['epoch'] == 1 and tag['iter'] == 26
    # iteration mode
    _, line = LogProcessor(by_epoch=False).get_log_after_iter(
        runner, 9, 'val')
    assert line.startswith('Iter(val) [ 10/313]    eta: 0:00:03')
    # standalone validation: no train loop
    runner = FakeRunner(train=False)
    fill_eval(runner, 'val', 1)
    tag, line = LogProcessor().get_log_after_iter(runner, 0, 'val')
    assert line.startswith('Epoch(val) [0][  1/313]    eta: ')
    assert tag['iter'] == 0


def test_val_summary_line_and_hierarchy():
    runner = FakeRunner(epoch=1, iter=25)
    fill_eval(runner, 'val', 2, time=5.0)  # an older validation
    fill_eval(runner, 'val', 313)
    runner.message_hub.update_scalar('val/accuracy', 35.7)
    runner.message_hub.update_info('val/confusion', [[1, 0], [0, 1]])
    tag, line = LogProcessor().get_log_after_epoch(runner, 313, 'val')
    assert line == ('Epoch(val) [1][313/313]  accuracy: 35.7000  '
                    'confusion: [[1, 0], [0, 1]]  data_time: 0.0047  '
                    'time: 0.0122')
    assert tag == pytest.approx(
        dict(accuracy=35.7, data_time=0.0047, time=0.0122))
    tag, _ = LogProcessor(log_with_hierarchy=True).get_log_after_epoch(
        runner, 313, 'val', with_non_scalar=True)
    assert list(tag) == ['val/accuracy', 'val/confusion', 'val/data_time',
                         'val/time']
    _, line = LogProcessor(by_epoch=False).get_log_after_epoch(
        runner, 313, 'val')
    assert line.startswith('Iter(val) [313/313]  accuracy: 35.7000')


def test_test_lines_and_array_metrics():
    runner = FakeRunner(train=False)
    fill_eval(runner, 'test', 10)
    runner.message_hub.update_info('eta', 0)
    _, line = LogProcessor().get_log_after_iter(runner, 9, 'test')
    assert line == ('Epoch(test) [ 10/100]    eta: 0:00:00  time: 0.0122  '
                    'data_time: 0.0047')
    runner.message_hub.update_scalar('test/mAP', 0.5)
    runner.message_hub.update_info('test/per_class', np.array([1, 2]))
    tag, line = LogProcessor().get_log_after_epoch(runner, 100, 'test')
    assert line.startswith('Epoch(test) [100/100]  mAP: 0.5000  '
                           'per_class: \n[1 2]\n  data_time: 0.0047')
    assert 'per_class' not in tag


def test_train_values_from_device_tensors_and_ints():
    runner = FakeRunner(iter=0)
    runner.message_hub.update_scalar('train/loss', torch.tensor(0.25))
    runner.message_hub.update_scalar('train/num', 7)
    tag, line = LogProcessor().get_log_after_iter(runner, 0, 'train')
    # no lr logged: its (empty) slot keeps its separator
    assert line == 'Epoch(train) [1][ 1/25]    loss: 0.2500  num: 7.0000'
    assert type(tag['num']) is float


def test_registry_and_subclass_without_init():
    assert isinstance(LOG_PROCESSORS.build(dict(type='LogProcessor')),
                      LogProcessor)
    lp = LOG_PROCESSORS.build(dict(type='LogProcessor', window_size=5,
                                   by_epoch=False))
    assert (lp.window_size, lp.by_epoch) == (5, False)

    class Minimal(LogProcessor):

        def __init__(self, window_size=10, by_epoch=True, custom_cfg=None):
            self.window_size = window_size
            self.by_epoch = by_epoch
            self.custom_cfg = custom_cfg if custom_cfg else []
            self._check_custom_cfg()

    runner = FakeRunner(iter=0)
    fill_train(runner, 1)
    _, line = Minimal().get_log_after_iter(runner, 0, 'train')
    assert line.startswith('Epoch(train) [1][ 1/25]  lr: 1.0000e-02')
    assert 'LogProcessor' in repr(LogProcessor()) or 'window_size' in repr(
        LogProcessor())


def test_empty_buffers_are_skipped():
    runner = FakeRunner(iter=0)
    fill_train(runner, 1)
    runner.message_hub.log_scalars['train/empty_loss'] = HistoryBuffer()
    tag, line = LogProcessor().get_log_after_iter(runner, 0, 'train')
    assert 'empty_loss' not in tag and 'empty_loss' not in line


# ---------------------------------------------------------------------------
# EX-LOG-01..05 and spec 03 §11 through the real Runner
def _run_toy(tmp_path, log_processor, train_cfg=None, val=False,
             log_scalar=False):
    """Train the EX-LOG toy model; return the runner's log lines."""
    import re
    from mmengine.evaluator import BaseMetric
    from mmengine.logging import MessageHub
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class ToyModel(BaseModel):

        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(1, 1)

        def forward(self, img, label, mode='tensor'):
            feat = self.linear(img)
            if mode == 'loss':
                loss2 = (feat - label).abs()
                if log_scalar:  # EX-LOG-05: a custom scalar from the model
                    MessageHub.get_current_instance().update_scalar(
                        'train/loss_tmp', loss2.sum())
                return dict(loss1=(feat - label).pow(2), loss2=loss2)
            return [float((feat - label).abs().sum())]

    class Err(BaseMetric):

        def process(self, data_batch, outputs):
            self.results.extend(outputs)

        def compute_metrics(self, results):
            return dict(error=sum(results) / len(results))

    loader = dict(
        dataset=[(torch.ones(1, 1), torch.ones(1, 1))] * 50,
        sampler=dict(type='DefaultSampler', shuffle=False),
        batch_size=2, collate_fn=dict(type='default_collate'))
    extra = dict(val_dataloader=loader, val_evaluator=dict(type=Err),
                 val_cfg=dict()) if val else {}
    runner = Runner(
        model=ToyModel(), work_dir=str(tmp_path),
        train_dataloader=loader,
        train_cfg=train_cfg or dict(by_epoch=True, max_epochs=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        log_processor=log_processor,
        default_hooks=dict(checkpoint=None),
        experiment_name=f'h8-lp-run-{next(_ids)}', **extra)
    runner.train()
    with open(runner.logger.log_file) as f:
        lines = [re.sub(r'^.* - mmengine - \w+ - ', '', line.rstrip('\n'))
                 for line in f]
    import logging
    logging.shutdown()
    return lines


_F = r'\d+\.\d{4}'


def test_ex_log_01_to_05_lines_from_the_runner(tmp_path):
    import re
    lines = _run_toy(tmp_path / 'a', dict(window_size=10))
    train = [ln for ln in lines if ln.startswith('Epoch(train)')]
    # 25 iterations, interval 10: the trailing partial window is skipped
    assert [ln[:25] for ln in train] == ['Epoch(train) [1][10/25]  ',
                                         'Epoch(train) [1][20/25]  ']
    for ln in train:
        match = re.fullmatch(
            rf'Epoch\(train\) \[1\]\[[12]0/25\]  lr: 1\.0000e-02  '
            rf'eta: 0:00:00  time: {_F}  data_time: {_F}  loss1: ({_F})  '
            rf'loss2: ({_F})  loss: ({_F})', ln)
        assert match, ln  # no 'memory' on CPU
        loss1, loss2, loss = map(float, match.groups())
        assert loss == pytest.approx(loss1 + loss2, abs=2e-4)

    cfg = [dict(data_src='loss1', log_name='loss1_global',
                method_name='mean', window_size='global'),
           dict(data_src='loss1', log_name='loss1_local_max',
                method_name='max', window_size=10),
           dict(data_src='loss1', log_name='loss1_global_max',
                method_name='max', window_size='global'),
           dict(data_src='loss_tmp', method_name='mean', window_size=10)]
    lines = _run_toy(tmp_path / 'b', dict(custom_cfg=cfg), log_scalar=True)
    first, second = [ln for ln in lines if ln.startswith('Epoch(train)')]
    values = [dict(re.findall(rf'(\w+): ({_F})', ln)) for ln in (first,
                                                                second)]
    # EX-LOG-03/04: at the first line the global and window statistics agree
    assert values[0]['loss1_global'] == values[0]['loss1']
    assert values[0]['loss1_local_max'] == values[0]['loss1_global_max']
    assert float(values[1]['loss1_global_max']) >= float(
        values[1]['loss1_local_max'])
    # EX-LOG-05: loss_tmp (mean of loss2 summed over the batch of 2) comes
    # before loss, the added entries at the end
    assert first.index('loss_tmp:') < first.index('  loss:')
    assert float(values[0]['loss_tmp']) == pytest.approx(
        2 * float(values[0]['loss2']), abs=2e-4)
    assert first.endswith(f"loss1_global_max: {values[0]['loss1_global_max']}")


def test_val_lines_and_by_epoch_mismatch_from_the_runner(tmp_path):
    lines = _run_toy(tmp_path / 'a', dict(),
                     train_cfg=dict(by_epoch=True, max_epochs=12,
                                    val_interval=12), val=True)
    val = [ln for ln in lines if ln.startswith('Epoch(val)')]
    # iteration lines pad the epoch to the width of max_epochs (12)
    assert val[0].startswith('Epoch(val) [12][10/25]    eta: ')
    assert val[-1].startswith('Epoch(val) [12][25/25]  error: ')
    assert val[-1].endswith(tuple('0123456789'))
    assert not any('does not match' in ln for ln in lines)
    lines = _run_toy(tmp_path / 'b', dict(by_epoch=True),
                     train_cfg=dict(by_epoch=False, max_iters=20))
    warnings = [ln for ln in lines if 'does not match' in ln]
    assert len(warnings) == 1
    assert 'IterBasedTrainLoop' in warnings[0]
    assert 'log_processor=dict(by_epoch=False)' in warnings[0]
