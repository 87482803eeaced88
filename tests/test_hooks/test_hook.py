from unittest.mock import Mock

from mmengine.hooks import DATA_BATCH, Hook  # noqa: F401


class Recorder(Hook):

    def __init__(self):
        self.calls = []

    def _before_epoch(self, runner, mode='train'):
        self.calls.append(('before_epoch', mode))

    def _after_epoch(self, runner, mode='train'):
        self.calls.append(('after_epoch', mode))

    def _before_iter(self, runner, batch_idx, data_batch=None, mode='train'):
        self.calls.append(('before_iter', mode, batch_idx, data_batch))

    def _after_iter(self,
                    runner,
                    batch_idx,
                    data_batch=None,
                    outputs=None,
                    mode='train'):
        self.calls.append(('after_iter', mode, batch_idx, outputs))


def test_points_forward_to_generic_methods():
    hook, runner = Recorder(), Mock()
    for mode in ('train', 'val', 'test'):
        getattr(hook, f'before_{mode}_epoch')(runner)
        getattr(hook, f'before_{mode}_iter')(runner, 3, data_batch={'a': 1})
        getattr(hook, f'after_{mode}_iter')(runner, 3, outputs=[1])
    hook.after_train_epoch(runner)
    hook.after_val_epoch(runner, metrics={'acc': 1})
    hook.after_test_epoch(runner)
    assert hook.calls[:3] == [('before_epoch', 'train'),
                              ('before_iter', 'train', 3, {'a': 1}),
                              ('after_iter', 'train', 3, [1])]
    assert ('before_iter', 'test', 3, {'a': 1}) in hook.calls
    assert hook.calls[-3:] == [('after_epoch', 'train'),
                               ('after_epoch', 'val'),
                               ('after_epoch', 'test')]


def test_every_n_helpers():
    hook, runner = Hook(), Mock()
    runner.epoch = 4
    assert hook.every_n_epochs(runner, 5)
    assert not hook.every_n_epochs(runner, 0)
    assert not hook.every_n_epochs(runner, -1)
    # with a start: multiples of n counted from `start`
    assert hook.every_n_epochs(runner, 2, start=1)
    assert not hook.every_n_epochs(runner, 2, start=6)
    runner.iter = 9
    assert hook.every_n_train_iters(runner, 10)
    assert hook.every_n_train_iters(runner, 3, start=4)
    assert not hook.every_n_train_iters(runner, 3, start=11)
    assert not hook.every_n_inner_iters(4, 0)
    assert hook.every_n_inner_iters(4, 5)
    runner.max_iters = 10
    assert hook.is_last_train_iter(runner)
    runner.max_epochs = 6
    assert not hook.is_last_train_epoch(runner)
    assert hook.end_of_epoch([1, 2, 3], 2)


def test_triggered_stages_and_priority():
    assert Hook.priority == 'NORMAL'
    assert len(Hook.stages) == 22
    assert Hook().get_triggered_stages() == []

    class Both(Hook):
        priority = 'ABOVE_NORMAL'

        def _after_epoch(self, runner, mode='train'):
            pass

        def after_load_checkpoint(self, runner, checkpoint):
            pass

    # Ordered as in Hook.stages.
    assert Both().get_triggered_stages() == [
        'after_load_checkpoint', 'after_train_epoch', 'after_val_epoch',
        'after_test_epoch'
    ]
