"""``python -m mmengine collect-env``: facts for a bug report."""
import argparse

HELP = 'print the environment (Python, PyTorch, CUDA, compilers, ...)'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> None:
    from mmengine.utils.dl_utils import collect_env
    for name, value in collect_env().items():
        print(f'{name}: {value}')
