"""``python -m mmengine test CONFIG CHECKPOINT``: evaluate a checkpoint."""
import argparse

from .common import add_config_arguments, add_run_arguments, build_runner
from .common import load_config

HELP = 'test (evaluate) a checkpoint with the test loop of a config'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser)
    parser.add_argument('checkpoint', help='checkpoint file to evaluate')
    add_run_arguments(parser)
    parser.add_argument(
        '--out',
        metavar='FILE.pkl',
        help='also dump the predictions to FILE.pkl (for offline '
        'evaluation)')


def run(args: argparse.Namespace) -> None:
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if args.out:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError(
                f'--out must name a .pkl or .pickle file, got {args.out!r}')
        dump = dict(type='DumpResults', out_file_path=args.out)
        evaluator = cfg.get('test_evaluator')
        if evaluator is None:
            raise ValueError(
                f'the config {args.config} has no `test_evaluator`')
        if isinstance(evaluator, (list, tuple)):
            cfg.test_evaluator = [*evaluator, dump]
        elif 'metrics' in evaluator:
            metrics = evaluator.metrics
            if not isinstance(metrics, (list, tuple)):
                metrics = [metrics]
            evaluator.metrics = [*metrics, dump]
        else:
            cfg.test_evaluator = [evaluator, dump]
    runner = build_runner(cfg)
    runner.test()
