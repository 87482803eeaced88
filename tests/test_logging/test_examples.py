"""The documented example programs of spec 11 §7 (EX-LOG-07 … EX-LOG-10).

Each example is written the way a user would write it, and its printed
output is compared with the documented output. EX-LOG-01…06 and 11 need the
Runner / LogProcessor and are tested with them.
"""
import re
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from mmengine import MessageHub as TopLevelMessageHub
from mmengine.logging import HistoryBuffer, MessageHub

STREAM_TIME = r'\d{2}/\d{2} \d{2}:\d{2}:\d{2}'
FILE_TIME = r'\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}'


@pytest.fixture
def fresh_hubs():
    """Forget the hubs a test creates, so get_current_instance is its own."""
    saved = MessageHub._instance_dict.copy()
    yield
    MessageHub._instance_dict.clear()
    MessageHub._instance_dict.update(saved)


# ----------------------------------------------------------------------
# EX-LOG-07 HistoryBuffer
def test_ex_log_07_history_buffer_outputs(capsys):
    history_buffer = HistoryBuffer([1, 2, 3], [1, 2, 3])
    log_history, count_history = history_buffer.data
    assert str(log_history) == '[1 2 3]' and str(count_history) == '[1 2 3]'

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        history_buffer = HistoryBuffer([1, 2, 3], [1, 1, 1], max_length=2)
    assert [str(w.message) for w in caught] == [
        'The length of history buffer(3) exceeds the max_length(2), the '
        'first few elements will be ignored.'
    ]
    assert caught[0].filename == __file__  # points at the user's line
    assert [a.tolist() for a in history_buffer.data] == [[2, 3], [1, 1]]

    history_buffer = HistoryBuffer([1, 2, 3], [1, 1, 1])
    history_buffer.update(4)
    assert history_buffer.data[1].tolist() == [1, 1, 1, 1]
    history_buffer.update(5, 2)
    assert history_buffer.data[0].tolist() == [1, 2, 3, 4, 5]
    assert history_buffer.data[1].tolist() == [1, 1, 1, 1, 2]

    history_buffer = HistoryBuffer([1, 2, 3], [1, 1, 1])
    assert history_buffer.min(2) == 2 and history_buffer.min() == 1
    assert history_buffer.max(2) == 3 and history_buffer.max() == 3
    assert history_buffer.mean(2) == 2.5 and history_buffer.mean() == 2
    history_buffer.update(4, 1)
    assert history_buffer.current() == 4
    assert HistoryBuffer([1, 2, 3], [2, 2, 2]).mean() == 1

    history_buffer = HistoryBuffer([1, 2, 3], [1, 1, 1])
    assert history_buffer.statistics('mean') == 2
    assert history_buffer.statistics('mean', 2) == 2.5
    with pytest.raises(TypeError):
        history_buffer.statistics('mean', 2, 3)
    with pytest.raises(KeyError, match="'data' is not a registered"):
        history_buffer.statistics('data')


def weighted_mean(self, window_size, weight):
    assert len(weight) == window_size
    return (self._log_history[-window_size:] *
            np.array(weight)).sum() / self._count_history[-window_size:].sum()


def test_ex_log_07_register_statistics():
    HistoryBuffer.register_statistics(weighted_mean)
    try:
        history_buffer = HistoryBuffer([1, 2], [1, 1])
        assert history_buffer.statistics('weighted_mean', 2, [2, 1]) == 2.0
    finally:
        HistoryBuffer._statistics_methods.pop('weighted_mean')


def test_ex_log_07_lr_loss_demo(capsys):
    lr_buffer = HistoryBuffer()
    loss_buffer = HistoryBuffer()
    max_iter = 10
    log_interval = 5
    for iter in range(max_iter):
        lr = (iter + 1) / max_iter * 0.1
        loss = 1 / (iter + 1)
        lr_buffer.update(lr)
        loss_buffer.update(loss)
        if (iter + 1) % log_interval == 0:
            print(f'lr:   {lr_buffer.current()}')
            print(f'loss: {loss_buffer.mean(log_interval)}')
    assert capsys.readouterr().out == ('lr:   0.05\n'
                                       'loss: 0.45666666666666667\n'
                                       'lr:   0.1\n'
                                       'loss: 0.12912698412698415\n')


# ----------------------------------------------------------------------
# EX-LOG-08 MessageHub
def test_ex_log_08_message_hub(fresh_hubs):
    assert TopLevelMessageHub is MessageHub
    message_hub = MessageHub.get_instance('task')
    message_hub.update_scalar('train/loss', 1, 1)
    assert message_hub.get_scalar('train/loss').current() == 1
    message_hub.update_scalar('train/loss', 3, 1)
    assert message_hub.get_scalar('train/loss').mean() == 2
    message_hub.update_scalars({
        'train/time': {
            'value': 0.1,
            'count': 1
        },
        'train/data_time': {
            'value': 0.1,
            'count': 1
        },
        'train/lr': {
            'value': 0.01,
            'count': 1
        },
    })
    assert list(message_hub.log_scalars) == [
        'train/loss', 'train/time', 'train/data_time', 'train/lr'
    ]
    assert all(
        isinstance(v, HistoryBuffer)
        for v in message_hub.log_scalars.values())
    message_hub.update_info('iter', 1)
    message_hub.update_info('iter', 2)
    assert message_hub.get_info('iter') == 2
    assert MessageHub.get_current_instance() is message_hub


# ----------------------------------------------------------------------
# EX-LOG-09 cross-component communication
class Receiver:

    def run(self):
        message_hub = MessageHub.get_current_instance()
        lr = message_hub.get_scalar('train/lr').current()
        print(f'Learning rate is {lr}')
        print(f'loss is {message_hub.get_scalar("train/loss").current()}')
        print(f'meta is {message_hub.get_info("meta")}')


class LrUpdater:

    def run(self):
        message_hub = MessageHub.get_current_instance()
        message_hub.update_scalar('train/lr', 0.001)


class MetaUpdater:

    def run(self):
        message_hub = MessageHub.get_current_instance()
        message_hub.update_info(
            'meta',
            dict(
                experiment='retinanet_r50_caffe_fpn_1x_coco.py',
                repo='mmdetection'))


class LossUpdater:

    def run(self):
        message_hub = MessageHub.get_current_instance()
        message_hub.update_scalar('train/loss', 0.1)


class ToyRunner:

    def __init__(self, name):
        self.message_hub = MessageHub.get_instance(name)
        self.composer = [LrUpdater(), MetaUpdater(), LossUpdater(), Receiver()]

    def run(self):
        for component in self.composer:
            component.run()


def test_ex_log_09_cross_component_toy(capsys, fresh_hubs):
    runner = ToyRunner('name')
    runner.run()
    assert capsys.readouterr().out == (
        'Learning rate is 0.001\n'
        'loss is 0.1\n'
        "meta is {'experiment': 'retinanet_r50_caffe_fpn_1x_coco.py', "
        "'repo': 'mmdetection'}\n")
    assert runner.message_hub is MessageHub.get_current_instance()


# ----------------------------------------------------------------------
# EX-LOG-10 MMLogger (a script, so the error's function is ``<module>``)
_EX_LOG_10 = textwrap.dedent('''\
    from mmengine.logging import MMLogger

    logger = MMLogger.get_instance('mmengine', log_level='INFO')
    logger.info('this is a test')
    logger.error('division by zero')
    file_logger = MMLogger.get_instance('file', log_file='tmp.log')
    file_logger.info('this is a test')
''')


def test_ex_log_10_mmlogger(tmp_path):
    script = tmp_path / 'demo.py'
    script.write_text(_EX_LOG_10)
    result = subprocess.run([sys.executable, str(script)],
                            cwd=tmp_path,
                            capture_output=True,
                            text=True,
                            check=True)
    lines = result.stdout.splitlines()
    assert len(lines) == 3, result.stdout
    assert re.fullmatch(STREAM_TIME + ' - mmengine - INFO - this is a test',
                        lines[0])
    assert re.fullmatch(
        STREAM_TIME + ' - mmengine - ERROR - ' + re.escape(str(script)) +
        ' - <module> - 5 - division by zero', lines[1]), lines[1]
    assert re.fullmatch(STREAM_TIME + ' - mmengine - INFO - this is a test',
                        lines[2])
    # Decision: the file is written at the given path, not tmp/tmp.log.
    assert not (tmp_path / 'tmp').exists()
    text = (tmp_path / 'tmp.log').read_text()
    assert re.fullmatch(FILE_TIME + ' - mmengine - INFO - this is a test\n',
                        text), text
