"""``EarlyStoppingHook``: stop training when a metric stops improving."""
import math
import warnings
from typing import Dict, Optional, Tuple

from mmengine.registry import HOOKS
from .hook import Hook
from .metric_rule import GREATER_KEYS, LESS_KEYS, RULE_MAP, infer_rule


@HOOKS.register_module()
class EarlyStoppingHook(Hook):
    """Stops training when the monitored validation metric stops improving.

    After each validation, the metric ``monitor`` is compared with the best
    value so far; after ``patience`` validations without an improvement of
    at least ``min_delta`` it sets ``runner.train_loop.stop_training = True``
    and the loop ends after the current epoch/iteration. The wait count and
    best score are kept in the message hub (info ``early_stopping``), so a
    resumed run continues counting.

    Args:
        monitor (str): Name of the metric, as returned by the evaluator.
        rule (str, optional): ``'greater'`` or ``'less'``; inferred from the
            metric name when omitted (``acc``, ``top``, ``mAP``… → greater,
            ``loss`` → less).
        min_delta (float): Smallest change that counts as improvement.
            Defaults to 0.1.
        strict (bool): Raise when ``monitor`` is missing from the metrics
            (otherwise warn). Defaults to False.
        check_finite (bool): Stop when the metric is NaN or infinite.
            Defaults to True.
        patience (int): Validations without improvement before stopping.
            Defaults to 5.
        stopping_threshold (float, optional): Stop as soon as the metric is
            better than this value.
    """

    priority = 'LOWEST'

    rule_map = RULE_MAP
    _default_greater_keys = GREATER_KEYS
    _default_less_keys = LESS_KEYS

    def __init__(self,
                 monitor: str,
                 rule: Optional[str] = None,
                 min_delta: float = 0.1,
                 strict: bool = False,
                 check_finite: bool = True,
                 patience: int = 5,
                 stopping_threshold: Optional[float] = None) -> None:
        if not isinstance(monitor, str):
            raise TypeError('EarlyStoppingHook: monitor must be a metric '
                            f'name (str), but got {monitor!r}')
        if rule is None:
            rule = self._init_rule(monitor)
        elif rule not in self.rule_map:
            raise ValueError('EarlyStoppingHook: rule should be either '
                             f'"greater" or "less", but got {rule!r}')
        if not isinstance(patience, int) or patience < 1:
            raise ValueError('EarlyStoppingHook: patience must be a positive '
                             f'int, but got {patience!r}')
        self.monitor = monitor
        self.rule = rule
        self.min_delta = min_delta if rule == 'greater' else -1 * min_delta
        self.strict = strict
        self.check_finite = check_finite
        self.patience = patience
        self.stopping_threshold = stopping_threshold
        self.wait_count = 0
        self.best_score = -math.inf if rule == 'greater' else math.inf

    def _init_rule(self, monitor: str) -> str:
        rule = infer_rule(monitor)
        if rule is not None:
            return rule
        raise ValueError(f'EarlyStoppingHook: cannot infer the rule for '
                         f'{monitor!r}; set rule="greater" or rule="less"')

    def _check_stop_condition(self, current_score: float) -> Tuple[bool, str]:
        compare = self.rule_map[self.rule]
        if self.check_finite and not math.isfinite(current_score):
            return True, (f'Monitored metric {self.monitor} = '
                          f'{current_score} is infinite. Previous best value '
                          f'was {self.best_score:.3f}.')
        if self.stopping_threshold is not None and compare(
                current_score, self.stopping_threshold):
            self.best_score = current_score
            return True, (f'Stopping threshold reached: `{self.monitor}` = '
                          f'{current_score} is {self.rule} than '
                          f'{self.stopping_threshold}.')
        if compare(self.best_score + self.min_delta, current_score):
            self.wait_count += 1
            if self.wait_count >= self.patience:
                return True, (
                    'the monitored metric did not improve in the last '
                    f'{self.wait_count} records. best score: '
                    f'{self.best_score:.3f}. ')
            return False, ''
        self.best_score = current_score
        self.wait_count = 0
        return False, ''

    def before_train(self, runner) -> None:
        """Check the loop can be stopped; restore the state of a resume."""
        if not hasattr(runner.train_loop, 'stop_training'):
            raise AttributeError(
                'EarlyStoppingHook needs a train loop with a `stop_training` '
                f'attribute, but {type(runner.train_loop).__name__} has none')
        state = runner.message_hub.get_info('early_stopping')
        if isinstance(state, dict) and state.get('monitor') == self.monitor:
            self.wait_count = int(state['wait_count'])
            self.best_score = float(state['best_score'])

    def after_val_epoch(self,
                        runner,
                        metrics: Optional[Dict[str, float]] = None) -> None:
        """Decide whether to stop after this validation."""
        metrics = metrics or {}
        if self.monitor not in metrics:
            message = (f'Early stopping conditioned on metric '
                       f'{self.monitor!r}, which is not in the validation '
                       f'metrics {list(metrics)}')
            if self.strict:
                raise RuntimeError(message)
            warnings.warn(message + '; early stopping is skipped.')
            return
        current_score = float(metrics[self.monitor])
        stop_training, message = self._check_stop_condition(current_score)
        runner.message_hub.update_info(
            'early_stopping',
            dict(
                monitor=self.monitor,
                wait_count=self.wait_count,
                best_score=self.best_score))
        if stop_training:
            runner.train_loop.stop_training = True
            runner.logger.info(message)
