"""``python -m mmengine``: see :mod:`mmengine.cli`."""
import sys

from mmengine.cli import main

if __name__ == '__main__':
    sys.exit(main())
