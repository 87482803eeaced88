"""``python -m mmengine train CONFIG``: train the model a config describes."""
import argparse
import logging

from mmengine.logging import print_log

from .common import add_config_arguments, add_run_arguments, build_runner
from .common import load_config

HELP = 'train a model from a config file'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser)
    add_run_arguments(parser)
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        metavar='CKPT',
        help='resume from CKPT, or from the latest checkpoint of the work '
        'dir when no path is given')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision training (AmpOptimWrapper, dynamic loss '
        'scale)')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the actual batch size '
        '(`auto_scale_lr.base_batch_size` in the config)')


def apply_train_options(cfg, args: argparse.Namespace) -> None:
    """Fold ``--amp``, ``--auto-scale-lr`` and ``--resume`` into ``cfg``."""
    if args.amp:
        optim_wrapper = cfg.get('optim_wrapper')
        if optim_wrapper is None:
            raise ValueError(
                f'--amp needs an `optim_wrapper` in the config {args.config}')
        if optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
            print_log(
                'AMP is already enabled in the config (AmpOptimWrapper); '
                '--amp changes nothing.',
                logger='current',
                level=logging.WARNING)
        else:
            if optim_wrapper.get('type', 'OptimWrapper') != 'OptimWrapper':
                raise ValueError(
                    '--amp replaces the optimizer wrapper with '
                    "AmpOptimWrapper, but the config uses type="
                    f"{optim_wrapper.get('type')!r}")
            optim_wrapper.type = 'AmpOptimWrapper'
            optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        scale = cfg.get('auto_scale_lr')
        if not scale or 'base_batch_size' not in scale:
            raise ValueError(
                '--auto-scale-lr needs `auto_scale_lr = dict('
                f'base_batch_size=...)` in the config {args.config}')
        scale.enable = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume


def run(args: argparse.Namespace) -> None:
    cfg = load_config(args)
    apply_train_options(cfg, args)
    runner = build_runner(cfg)
    runner.train()
