"""General utilities with no deep-learning dependency.

Importing this package never imports torch; ``mmengine.utils.dl_utils``
holds the torch-related helpers.
"""
from .manager import ManagerMeta, ManagerMixin
from .misc import (apply_to, check_prerequisites, concat_list,
                   deprecated_api_warning, deprecated_function,
                   get_object_from_string, has_method,
                   import_modules_from_strings, is_list_of,
                   is_method_overridden, is_seq_of, is_str, is_tuple_of,
                   iter_cast, list_cast, requires_executable, requires_package,
                   slice_list, to_1tuple, to_2tuple, to_3tuple, to_4tuple,
                   to_ntuple, tuple_cast)
from .package_utils import (call_command, get_installed_path, install_package,
                            is_installed, package2module, package_exists)
from .path import (check_file_exist, find_vcs_root, fopen, is_abs, is_filepath,
                   mkdir_or_exist, scandir, symlink)
from .progressbar import (ProgressBar, track_iter_progress,
                          track_parallel_progress, track_progress)
from .progressbar_rich import track_progress_rich
from .timer import Timer, TimerError, check_time
from .version_utils import digit_version, get_git_hash

__all__ = [
    'ManagerMeta', 'ManagerMixin', 'apply_to', 'check_prerequisites',
    'concat_list', 'deprecated_api_warning', 'deprecated_function',
    'get_object_from_string', 'has_method', 'import_modules_from_strings',
    'is_list_of', 'is_method_overridden', 'is_seq_of', 'is_str',
    'is_tuple_of', 'iter_cast', 'list_cast', 'requires_executable',
    'requires_package', 'slice_list', 'to_1tuple', 'to_2tuple', 'to_3tuple',
    'to_4tuple', 'to_ntuple', 'tuple_cast', 'call_command',
    'get_installed_path', 'install_package', 'is_installed',
    'package2module', 'package_exists', 'check_file_exist', 'find_vcs_root',
    'fopen', 'is_abs', 'is_filepath', 'mkdir_or_exist', 'scandir', 'symlink',
    'digit_version', 'get_git_hash', 'ProgressBar', 'track_iter_progress',
    'track_parallel_progress', 'track_progress', 'track_progress_rich',
    'Timer', 'TimerError', 'check_time'
]


def __getattr__(name: str):
    # ``mmengine.utils.dl_utils`` imports torch, so it is loaded on first
    # attribute access rather than with this package.
    if name == 'dl_utils':
        import importlib
        return importlib.import_module('mmengine.utils.dl_utils')
    raise AttributeError(
        f"module 'mmengine.utils' has no attribute {name!r}")
