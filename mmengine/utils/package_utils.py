"""Installed-package queries through importlib.metadata and importlib.util.

The setuptools runtime API is deliberately not used.
"""
import importlib.util
import os.path as osp
import sys
from typing import Optional


def _distribution(package: str):
    from importlib import metadata
    try:
        return metadata.distribution(package)
    except metadata.PackageNotFoundError:
        return None


def package_exists(package: str) -> bool:
    """Whether a module/package called ``package`` can be imported."""
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


def is_installed(package: str) -> bool:
    """Whether ``package`` is installed, as a distribution or a module.

    Args:
        package (str): distribution or import name, e.g. ``'mmengine'``.
    """
    if _distribution(package) is not None:
        return True
    return package_exists(package)


def _module_dir(name: str) -> Optional[str]:
    """Directory the module ``name`` is imported from; None if not found."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.origin is not None:
        return osp.dirname(spec.origin)
    if spec.submodule_search_locations:  # a namespace package
        return list(spec.submodule_search_locations)[0]
    return None


def get_installed_path(package: str) -> str:
    """Return the directory an installed package is imported from.

    Works for a distribution whose import name differs from its
    distribution name (e.g. ``mmcv-full`` → ``mmcv``).

    Raises:
        importlib.metadata.PackageNotFoundError: (a subclass of
            ``ImportError``) if the package is not installed.
    """
    path = _module_dir(package)
    if path is not None:
        return path
    dist = _distribution(package)
    if dist is None:
        from importlib.metadata import PackageNotFoundError

        # Its message reads "No package metadata was found for <package>".
        raise PackageNotFoundError(package)
    modules = _top_level_modules(dist)
    for name in modules:
        path = _module_dir(name)
        if path is not None:
            return path
    raise ImportError(
        f'{package} is installed but none of its modules {modules} can be '
        'located')


def _top_level_modules(dist) -> list:
    """Import names a distribution provides, the most likely one first.

    Public names come before private ones (PyYAML lists ``_yaml`` before
    ``yaml``), and a name matching the distribution name comes first.
    """
    top_level = dist.read_text('top_level.txt')
    names = [n.strip() for n in top_level.split()] if top_level else []
    if not names and dist.files:
        names = sorted({
            str(f).split('/')[0]
            for f in dist.files if str(f).endswith('__init__.py')
        })
    dist_name = (dist.metadata['Name'] or '').lower().replace('-', '_')
    return sorted(
        dict.fromkeys(n for n in names if n),
        key=lambda n: (n.startswith('_'), n.lower() != dist_name))


def package2module(package: str) -> str:
    """Import name of an installed distribution (``mmcv-full`` → ``mmcv``)."""
    dist = _distribution(package)
    if dist is None:
        raise ValueError(f'{package} is not installed')
    names = _top_level_modules(dist)
    if names:
        return names[0]
    raise ValueError(f'can not infer the module name of {package}')


def call_command(cmd: list) -> None:
    """Run a command, raising ``CalledProcessError`` on failure."""
    import subprocess  # lazily: only needed here
    subprocess.check_call(cmd)


def install_package(package: str):
    """Install ``package`` with pip unless it is already installed."""
    if not is_installed(package):
        call_command([sys.executable, '-m', 'pip', 'install', package])
