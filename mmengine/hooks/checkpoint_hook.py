"""``CheckpointHook``: periodic, last, best and published checkpoints."""
import hashlib
import io
import logging
import os.path as osp
import re
import string
import warnings
from collections import deque
from math import inf
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from mmengine.dist import is_main_process
from mmengine.fileio import get_file_backend, put_text
from mmengine.logging import print_log
from mmengine.registry import HOOKS
from .hook import DATA_BATCH, Hook
from .metric_rule import GREATER_KEYS, LESS_KEYS, RULE_MAP, infer_rule

# Characters that are not allowed, or awkward, in file names.
_ILLEGAL_FILENAME_CHARS = re.compile(r'[\\/:*?"<>|\s]')


def _check_type(name: str, value: Any, types: tuple, expected: str) -> None:
    if not isinstance(value, types) or (isinstance(value, bool)
                                        and bool not in types):
        raise TypeError(f'CheckpointHook: {name} must be {expected}, but got '
                        f'{type(value).__name__}: {value!r}')


def _as_str_list(name: str, value: Union[str, Sequence[str]]) -> List[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(
            isinstance(v, str) for v in value):
        return list(value)
    raise TypeError(f'CheckpointHook: {name} must be a str or a list of str, '
                    f'but got {value!r}')


def _check_filename_tmpl(tmpl: Any) -> None:
    """``tmpl`` must format one number into a distinct plain file name."""
    expected = ("a str with one replacement field for the epoch/iteration "
                "number, such as 'epoch_{}.pth' or 'ckpt_{:04d}.pth'")
    if not isinstance(tmpl, str):
        raise TypeError(f'CheckpointHook: filename_tmpl must be {expected}, '
                        f'but got {type(tmpl).__name__}: {tmpl!r}')
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(tmpl)
                  if f is not None]
        names = {tmpl.format(1), tmpl.format(2)}
    except (ValueError, IndexError, KeyError) as e:
        raise ValueError(f'CheckpointHook: filename_tmpl must be {expected}, '
                         f'but got {tmpl!r} ({e})') from None
    if len(fields) != 1 or len(names) != 2:
        raise ValueError(f'CheckpointHook: filename_tmpl must be {expected}, '
                         f'but got {tmpl!r}')


@HOOKS.register_module()
class CheckpointHook(Hook):
    """Saves checkpoints periodically, at the end, and for the best metric.

    Checkpoints are written by ``runner.save_checkpoint`` (atomically, as
    tensors and plain Python types). After each one the main process
    atomically rewrites ``<work_dir>/last_checkpoint`` with its path, which
    ``Runner(resume=True)`` reads to find where to continue.

    The bookkeeping needed after a resume is kept in the runtime info of
    ``runner.message_hub`` (saved in every checkpoint): ``last_ckpt``,
    ``keep_ckpt_ids`` (for ``max_keep_ckpts``), and ``best_score`` /
    ``best_ckpt`` (``best_score_<key>`` / ``best_ckpt_<key>`` when several
    metrics are tracked). When the validation right after a periodic save
    finds a new best, the best-score entries are patched into that
    checkpoint file, so resuming from it keeps tracking the right best.

    Args:
        interval (int): Save every ``interval`` epochs (``by_epoch=True``) or
            iterations. ``-1`` (default) saves only the last checkpoint (with
            ``save_last=True``).
        by_epoch (bool): Count ``interval`` in epochs or iterations. Defaults
            to True.
        save_optimizer (bool): Store the optimizer state. Defaults to True.
        save_param_scheduler (bool): Store the parameter scheduler states.
            Defaults to True.
        out_dir (str or Path, optional): Root for the checkpoints; files go to
            ``<out_dir>/<basename of work_dir>``. Defaults to ``work_dir``.
        max_keep_ckpts (int): Keep only the newest ``max_keep_ckpts``
            periodic checkpoints, deleting older ones (best checkpoints are
            not counted). ``-1`` (default) keeps all.
        save_last (bool): Always save at the last epoch/iteration. Defaults
            to True.
        save_best (str or list[str], optional): Metric(s) deciding the best
            checkpoint after each validation; ``'auto'`` uses the first
            metric returned by the evaluator. The best one is saved as
            ``best_<metric>_epoch_<n>.pth`` (or ``_iter_<n>``) and the
            previous best file is removed. Defaults to None (no tracking).
        rule (str or list[str], optional): ``'greater'`` or ``'less'`` (one
            per metric, or one for all). Inferred from the metric name when
            omitted (see ``greater_keys`` / ``less_keys``).
        greater_keys (str or list[str], optional): Metric-name fragments
            meaning "greater is better". Defaults to ``['acc', 'top', 'AR@',
            'auc', 'precision', 'mAP', 'mDice', 'mIoU', 'mAcc', 'aAcc']``.
        less_keys (str or list[str], optional): Fragments meaning "less is
            better". Defaults to ``['loss']``.
        file_client_args (dict, optional): Deprecated, use ``backend_args``.
        filename_tmpl (str, optional): Checkpoint name template with one
            ``{}`` for the epoch/iteration number. Defaults to
            ``'epoch_{}.pth'`` or ``'iter_{}.pth'``.
        backend_args (dict, optional): Arguments of the storage backend of
            ``out_dir``.
        published_keys (str or list[str], optional): After training, write a
            release copy of the last and/or best checkpoint containing only
            these keys (e.g. ``['meta', 'state_dict']``), named
            ``<stem>-<first 8 hex digits of its sha256>.pth``. Needs
            ``save_last`` or ``save_best``.
        save_begin (int): First epoch/iteration at which periodic saving
            starts (saves at ``save_begin + k * interval``). Defaults to 0.
    """

    priority = 'VERY_LOW'

    rule_map: Dict[str, Callable[[float, float], bool]] = RULE_MAP
    init_value_map = {'greater': -inf, 'less': inf}
    _default_greater_keys = GREATER_KEYS
    _default_less_keys = LESS_KEYS

    def __init__(self,
                 interval: int = -1,
                 by_epoch: bool = True,
                 save_optimizer: bool = True,
                 save_param_scheduler: bool = True,
                 out_dir: Optional[Union[str, Path]] = None,
                 max_keep_ckpts: int = -1,
                 save_last: bool = True,
                 save_best: Optional[Union[str, List[str]]] = None,
                 rule: Optional[Union[str, List[str]]] = None,
                 greater_keys: Optional[Sequence[str]] = None,
                 less_keys: Optional[Sequence[str]] = None,
                 file_client_args: Optional[dict] = None,
                 filename_tmpl: Optional[str] = None,
                 backend_args: Optional[dict] = None,
                 published_keys: Optional[Union[str, List[str]]] = None,
                 save_begin: int = 0) -> None:
        _check_type('interval', interval, (int, ), 'an int')
        for name, value in (('by_epoch', by_epoch),
                            ('save_optimizer', save_optimizer),
                            ('save_param_scheduler', save_param_scheduler),
                            ('save_last', save_last)):
            _check_type(name, value, (bool, ), 'a bool')
        _check_type('max_keep_ckpts', max_keep_ckpts, (int, ), 'an int')
        _check_type('save_begin', save_begin, (int, ), 'an int')
        if save_begin < 0:
            raise ValueError('CheckpointHook: save_begin should not be less '
                             f'than 0, but got {save_begin}')
        if out_dir is not None and not isinstance(out_dir, (str, Path)):
            raise TypeError('CheckpointHook: out_dir must be a str or Path, '
                            f'but got {type(out_dir).__name__}')
        if file_client_args is not None:
            warnings.warn(
                'CheckpointHook(file_client_args=...) is deprecated, use '
                'backend_args instead.', DeprecationWarning)
            if backend_args is not None:
                raise ValueError('CheckpointHook: "file_client_args" and '
                                 '"backend_args" cannot be set at the same '
                                 'time.')
            backend_args = file_client_args
        if filename_tmpl is None:
            filename_tmpl = 'epoch_{}.pth' if by_epoch else 'iter_{}.pth'
        else:
            _check_filename_tmpl(filename_tmpl)

        self.interval = interval
        self.by_epoch = by_epoch
        self.save_optimizer = save_optimizer
        self.save_param_scheduler = save_param_scheduler
        self._out_dir_arg = None if out_dir is None else str(out_dir)
        self.out_dir: Optional[str] = self._out_dir_arg
        self.max_keep_ckpts = max_keep_ckpts
        self.save_last = save_last
        self.file_client_args = file_client_args
        self.backend_args = backend_args
        self.filename_tmpl = filename_tmpl
        self.save_begin = save_begin
        self.file_backend = None

        # --- best checkpoint tracking ---
        if save_best is None:
            self.key_indicators: List[str] = []
        else:
            self.key_indicators = _as_str_list('save_best', save_best)
            if not self.key_indicators:
                raise ValueError('CheckpointHook: save_best is an empty list')
            if len(set(self.key_indicators)) != len(self.key_indicators):
                raise ValueError('CheckpointHook: save_best has duplicate '
                                 f'metrics: {self.key_indicators}')
            if 'auto' in self.key_indicators and len(
                    self.key_indicators) > 1:
                raise ValueError(
                    "CheckpointHook: 'auto' in save_best cannot be combined "
                    f'with other metrics, got {self.key_indicators}')
        self.save_best = save_best
        if rule is None:
            rules: List[Optional[str]] = [None] * len(self.key_indicators)
        else:
            rule_list = _as_str_list('rule', rule)
            if not self.key_indicators:
                raise ValueError('CheckpointHook: rule is given but '
                                 'save_best is None; set save_best to the '
                                 'metric(s) the rule applies to')
            if len(rule_list) == 1:
                rule_list = rule_list * len(self.key_indicators)
            if len(rule_list) != len(self.key_indicators):
                raise ValueError(
                    'CheckpointHook: rule must have one entry or one per '
                    f'save_best metric ({len(self.key_indicators)}), got '
                    f'{rule_list}')
            for r in rule_list:
                if r not in self.rule_map:
                    raise ValueError('CheckpointHook: rule must be "greater" '
                                     f'or "less", but got {r!r}')
            rules = list(rule_list)
        self.greater_keys = self._default_greater_keys \
            if greater_keys is None \
            else _as_str_list('greater_keys', greater_keys)
        self.less_keys = self._default_less_keys if less_keys is None \
            else _as_str_list('less_keys', less_keys)
        self._given_rules = rules
        self.rules: List[str] = []
        self.is_better_than: Dict[str, Callable[[float, float], bool]] = {}
        if self.key_indicators and self.key_indicators != ['auto']:
            self._init_rule(rules, self.key_indicators)
        self.best_ckpt_path: Optional[str] = None
        self.best_ckpt_path_dict: Dict[str, Optional[str]] = {
            key: None
            for key in self.key_indicators
        }

        # --- published checkpoints ---
        if published_keys is not None:
            published_keys = _as_str_list('published_keys', published_keys)
            if len(set(published_keys)) != len(published_keys):
                raise ValueError('CheckpointHook: published_keys has '
                                 f'duplicate elements: {published_keys}')
            if not (save_last or self.key_indicators):
                raise ValueError('CheckpointHook: published_keys needs '
                                 'save_last=True or save_best to choose the '
                                 'checkpoint(s) to publish')
        self.published_keys = published_keys

        self.last_ckpt: Optional[str] = None
        self.keep_ckpt_ids: deque = deque()
        self._last_saved_step: Optional[int] = None

    # ------------------------------------------------------------------
    # rules
    def _infer_rule(self, key: str) -> Optional[str]:
        return infer_rule(key, self.greater_keys, self.less_keys)

    def _init_rule(self, rules: List[Optional[str]],
                   key_indicators: List[str]) -> None:
        """Resolve one comparison rule per tracked metric."""
        resolved = []
        for key, rule in zip(key_indicators, rules):
            if rule is None:
                rule = self._infer_rule(key)
                if rule is None:
                    raise ValueError(
                        f'CheckpointHook: cannot infer the rule for metric '
                        f'{key!r} from greater_keys {self.greater_keys} or '
                        f'less_keys {self.less_keys}; set rule="greater" or '
                        'rule="less"')
            resolved.append(rule)
        self.key_indicators = list(key_indicators)
        self.rules = resolved
        self.is_better_than = {
            key: self.rule_map[rule]
            for key, rule in zip(key_indicators, resolved)
        }

    # ------------------------------------------------------------------
    # setup
    def _setup(self, runner) -> None:
        """Resolve the output folder and its storage backend."""
        if self._out_dir_arg is None:
            self.out_dir = str(runner.work_dir)
        else:
            backend = get_file_backend(
                self._out_dir_arg, backend_args=self.backend_args)
            basename = osp.basename(str(runner.work_dir).rstrip(osp.sep))
            self.out_dir = backend.join_path(self._out_dir_arg, basename)
        self.file_backend = get_file_backend(
            self.out_dir, backend_args=self.backend_args)

    def before_train(self, runner) -> None:
        """Resolve ``out_dir`` and restore the bookkeeping of a resumed run."""
        self._setup(runner)
        runner.logger.info(f'Checkpoints will be saved to {self.out_dir}.')
        hub = runner.message_hub
        if len(self.key_indicators) == 1:
            self.best_ckpt_path = hub.get_info('best_ckpt', None)
        else:
            for key in self.key_indicators:
                self.best_ckpt_path_dict[key] = hub.get_info(
                    f'best_ckpt_{key}', None)
        if self.max_keep_ckpts > 0:
            self.keep_ckpt_ids = deque(hub.get_info('keep_ckpt_ids', []))
        self.last_ckpt = hub.get_info('last_ckpt', None)

    # ------------------------------------------------------------------
    # periodic checkpoints
    def after_train_epoch(self, runner) -> None:
        """Save every ``interval`` epochs and at the last epoch."""
        if not self.by_epoch:
            return
        if self.every_n_epochs(runner, self.interval, self.save_begin) or (
                self.save_last and self.is_last_train_epoch(runner)):
            runner.logger.info(
                f'Saving checkpoint at {runner.epoch + 1} epochs')
            self._save_checkpoint(runner, runner.epoch + 1)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        """Save every ``interval`` iterations and at the last iteration."""
        if self.by_epoch:
            return
        if self.every_n_train_iters(runner, self.interval,
                                    self.save_begin) or (
                                        self.save_last
                                        and self.is_last_train_iter(runner)):
            runner.logger.info(
                f'Saving checkpoint at {runner.iter + 1} iterations')
            self._save_checkpoint(runner, runner.iter + 1)

    def _save_checkpoint(self, runner, step: int) -> None:
        """Save the periodic checkpoint of ``step`` and prune old ones."""
        if self.file_backend is None:
            self._setup(runner)
        hub = runner.message_hub
        to_remove: List[int] = []
        if self.max_keep_ckpts > 0:
            keep = [s for s in self.keep_ckpt_ids if s != step] + [step]
            while len(keep) > self.max_keep_ckpts:
                to_remove.append(keep.pop(0))
            self.keep_ckpt_ids = deque(keep)
            # Updated before saving so that the checkpoint records it.
            hub.update_info('keep_ckpt_ids', list(keep))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        hub.update_info('last_ckpt', self.last_ckpt)
        self._write(runner, filename)
        self._last_saved_step = step
        if not is_main_process():
            return
        # Old files go only after the new one is safely written.
        for old in to_remove:
            self._remove(
                self.file_backend.join_path(self.out_dir,
                                            self.filename_tmpl.format(old)))

    def _write(self, runner, filename: str) -> None:
        runner.save_checkpoint(
            self.out_dir,
            filename,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args)
        if is_main_process():
            # put_text on a local path is atomic (temp file + rename).
            put_text(self.last_ckpt,
                     osp.join(str(runner.work_dir), 'last_checkpoint'))

    def _remove(self, path: str) -> bool:
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
            return True
        if self.file_backend.isdir(path):  # sharded checkpoints
            self.file_backend.rmtree(path)
            return True
        return False

    # ------------------------------------------------------------------
    # best checkpoints
    def after_val_epoch(self,
                        runner,
                        metrics: Optional[Dict[str, float]] = None) -> None:
        """Save the best checkpoint if the tracked metric(s) improved."""
        if not self.key_indicators:
            return
        if not metrics:
            runner.logger.warning(
                'Since `metrics` is an empty dict, the behavior to save the '
                'best checkpoint will be skipped in this evaluation.')
            return
        train_loop = getattr(runner, '_train_loop', None)
        if train_loop is None or isinstance(train_loop, dict):
            return  # validation outside training: nothing new to save
        self._save_best_checkpoint(runner, metrics)

    def _save_best_checkpoint(self, runner, metrics: Dict[str, Any]) -> None:
        if self.file_backend is None:
            self._setup(runner)
        if self.key_indicators == ['auto']:
            first = next(iter(metrics))
            rule = self._given_rules[0] or self._infer_rule(first)
            if rule is None:
                runner.logger.warning(
                    f'CheckpointHook: save_best="auto" picked the metric '
                    f'{first!r}, whose rule cannot be inferred; using '
                    '"greater" (set rule= to choose)')
                rule = 'greater'
            self._init_rule([rule], [first])
            self.best_ckpt_path_dict = {first: self.best_ckpt_path}
        if self.by_epoch:
            step, unit = runner.epoch, 'epoch'
        else:
            step, unit = runner.iter, 'iter'
        ckpt_filename = self.filename_tmpl.format(step)
        hub = runner.message_hub
        single = len(self.key_indicators) == 1
        updated: Dict[str, Any] = {}  # runtime info changed by this call
        for key in self.key_indicators:
            if key not in metrics:
                raise KeyError(
                    f'CheckpointHook: save_best metric {key!r} is not in the '
                    f'evaluation results; available metrics: '
                    f'{list(metrics)}')
            score = metrics[key]
            if score is None:
                continue
            try:
                score = float(score)
            except (TypeError, ValueError):
                raise TypeError(
                    f'CheckpointHook: save_best metric {key!r} must be a '
                    f'single number, but got {type(score).__name__}: '
                    f'{score!r}'[:300]) from None
            score_key = 'best_score' if single else f'best_score_{key}'
            ckpt_key = 'best_ckpt' if single else f'best_ckpt_{key}'
            best = hub.get_info(score_key, self.init_value_map[self.rules[
                self.key_indicators.index(key)]])
            if not self.is_better_than[key](score, best):
                continue
            hub.update_info(score_key, score)
            old_path = self.best_ckpt_path if single \
                else self.best_ckpt_path_dict.get(key)
            name = _ILLEGAL_FILENAME_CHARS.sub('_',
                                               f'best_{key}_{ckpt_filename}')
            new_path = self.file_backend.join_path(self.out_dir, name)
            if single:
                self.best_ckpt_path = new_path
            self.best_ckpt_path_dict[key] = new_path
            hub.update_info(ckpt_key, new_path)
            updated.update({score_key: score, ckpt_key: new_path})
            runner.save_checkpoint(
                self.out_dir,
                filename=name,
                save_optimizer=False,
                save_param_scheduler=False,
                meta=dict(epoch=runner.epoch, iter=runner.iter),
                by_epoch=False,
                backend_args=self.backend_args)
            runner.logger.info(
                f'The best checkpoint with {score:0.4f} {key} at {step} '
                f'{unit} is saved to {name}.')
            if old_path and old_path != new_path and is_main_process() \
                    and self._remove(old_path):
                runner.logger.info(
                    f'The previous best checkpoint {old_path} is removed')
        if updated and self._last_saved_step == step:
            self._patch_runtime_info(
                self.file_backend.join_path(self.out_dir, ckpt_filename),
                updated)

    def _patch_runtime_info(self, path: str, info: Dict[str, Any]) -> None:
        """Write ``info`` into the message hub state of checkpoint ``path``.

        The periodic checkpoint of a step is written before the validation
        of that step, so it does not know the best score found by that
        validation; a run resumed from it would compare later scores with an
        older best and leave the new best file behind. Only the runtime info
        is patched (the file is read back and rewritten atomically), so the
        rest of the checkpoint, including the training position used for an
        exact resume, stays as it was saved.
        """
        if not is_main_process():
            return
        import torch
        from mmengine.runner.checkpoint import save_checkpoint
        checkpoint = torch.load(
            io.BytesIO(self.file_backend.get(path)),
            map_location='cpu',
            weights_only=True)
        hub_state = checkpoint.get('message_hub')
        if not isinstance(hub_state, dict) or not isinstance(
                hub_state.get('runtime_info'), dict):
            print_log(
                f'CheckpointHook: {path} has no message hub state, so it '
                'does not record the new best score; a run resumed from it '
                'restarts best-checkpoint tracking.',
                logger='current',
                level=logging.WARNING)
            return
        hub_state['runtime_info'].update(info)
        resumed_keys = hub_state.get('resumed_keys')
        if isinstance(resumed_keys, dict):
            resumed_keys.update({key: True for key in info})
        save_checkpoint(checkpoint, path, backend_args=self.backend_args)

    # ------------------------------------------------------------------
    # published checkpoints
    def after_train(self, runner) -> None:
        """Publish the last and/or best checkpoints (``published_keys``)."""
        if self.published_keys is None or not is_main_process():
            return
        if self.save_last and self.last_ckpt is not None:
            self._publish_model(runner, self.last_ckpt)
        if len(self.key_indicators) == 1:
            paths = [self.best_ckpt_path]
        else:
            paths = list(self.best_ckpt_path_dict.values())
        for path in paths:
            if path is not None:
                self._publish_model(runner, path)

    def _publish_model(self, runner, ckpt_path: str) -> str:
        """Write ``<stem>-<sha256[:8]>.pth`` holding ``published_keys``."""
        import torch
        backend = get_file_backend(ckpt_path, backend_args=self.backend_args)
        checkpoint = torch.load(
            io.BytesIO(backend.get(ckpt_path)),
            map_location='cpu',
            weights_only=True)
        missing = [k for k in self.published_keys if k not in checkpoint]
        if missing:
            raise KeyError(
                f'CheckpointHook: published_keys {missing} are not in the '
                f'checkpoint {ckpt_path}, which has keys {list(checkpoint)}')
        removed = [k for k in checkpoint if k not in self.published_keys]
        published = {k: checkpoint[k] for k in self.published_keys}
        if removed:
            print_log(
                f'Key {removed} will be removed because they are not in '
                'published_keys.',
                logger='current',
                level=logging.INFO)
        buffer = io.BytesIO()
        torch.save(published, buffer)
        data = buffer.getvalue()
        sha = hashlib.sha256(data).hexdigest()
        stem = ckpt_path[:-4] if ckpt_path.endswith('.pth') else ckpt_path
        final_path = f'{stem}-{sha[:8]}.pth'
        backend.put(data, final_path)
        print_log(
            f'The checkpoint ({ckpt_path}) is published to {final_path}.',
            logger='current',
            level=logging.INFO)
        return final_path
