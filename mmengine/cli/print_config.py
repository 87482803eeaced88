"""``python -m mmengine print-config CONFIG``: show the merged config."""
import argparse

from .common import add_config_arguments, load_config

HELP = 'print a config after inheritance and --cfg-options'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser)


def run(args: argparse.Namespace) -> None:
    cfg = load_config(args)
    print(f'Config (path: {args.config}):')
    print(cfg.pretty_text)
