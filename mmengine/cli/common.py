"""Arguments and config handling shared by the ``train`` and ``test``
commands."""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """``CONFIG`` and ``--cfg-options``."""
    parser.add_argument('config', help='config file (.py, .json or .yaml)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        metavar='KEY=VALUE',
        help='override config entries, e.g. optim_wrapper.optimizer.lr=0.1 '
        'or train_cfg.max_epochs=3; lists as a=[1,2], tuples as b=(1,2); '
        'quote values with spaces')


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """``--work-dir``, ``--launcher`` and the ``--local-rank`` that
    ``torch.distributed.launch`` passes."""
    parser.add_argument(
        '--work-dir',
        help='directory for logs and checkpoints (default: the config\'s '
        '`work_dir`, else ./work_dirs/<config name>)')
    parser.add_argument(
        '--launcher',
        choices=LAUNCHERS,
        default='none',
        help='job launcher for distributed runs')
    # torch.distributed.launch passes --local-rank (newer) or --local_rank
    parser.add_argument(
        '--local-rank', '--local_rank', type=int, default=0,
        help=argparse.SUPPRESS)


def load_config(args: argparse.Namespace) -> Config:
    """Read ``args.config``, apply ``--cfg-options``, ``--launcher`` and
    ``--work-dir``.

    The current directory is put on ``sys.path`` first (as ``python -m``
    does), so ``custom_imports`` of a project's own modules work the same
    from the ``mmengine`` script.
    """
    if os.getcwd() not in sys.path and '' not in sys.path:
        sys.path.insert(0, os.getcwd())
    cfg = Config.fromfile(args.config)
    if getattr(args, 'cfg_options', None):
        cfg.merge_from_dict(args.cfg_options)
    if hasattr(args, 'launcher'):
        cfg.launcher = args.launcher
        if 'LOCAL_RANK' not in os.environ:
            os.environ['LOCAL_RANK'] = str(args.local_rank)
    if getattr(args, 'work_dir', None):
        cfg.work_dir = args.work_dir
    elif hasattr(args, 'work_dir') and cfg.get('work_dir') is None:
        stem = osp.splitext(osp.basename(args.config))[0]
        cfg.work_dir = osp.join('./work_dirs', stem)
    return cfg


def build_runner(cfg: Config):
    """A ``Runner`` (or the ``runner_type`` of the config) from ``cfg``."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)
