"""Describe the running environment (``collect_env``) for logs and bug
reports."""
import os
import os.path as osp
import shutil
import subprocess
import sys
from collections import OrderedDict, defaultdict
from typing import Optional

import numpy as np
import torch

from .parrots_wrapper import get_build_config

# Distributions that provide the ``cv2`` module, newest naming first.
_OPENCV_DISTS = ('opencv-python', 'opencv-python-headless',
                 'opencv-contrib-python', 'opencv-contrib-python-headless')


def _find_cuda_home() -> Optional[str]:
    """Locate the CUDA toolkit the way PyTorch's extension builder does."""
    cuda_home = os.environ.get('CUDA_HOME') or os.environ.get('CUDA_PATH')
    if cuda_home:
        return cuda_home
    nvcc = shutil.which('nvcc')
    if nvcc is not None:
        return osp.dirname(osp.dirname(osp.realpath(nvcc)))
    if osp.isdir('/usr/local/cuda'):
        return '/usr/local/cuda'
    return None


def _run(cmd: list) -> Optional[str]:
    """A command's stripped output, or None when it cannot run or fails."""
    try:
        out = subprocess.run(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.decode('utf-8', errors='replace').strip()


def _run_first_line(cmd: list) -> Optional[str]:
    """First line of a command's output, or None when it cannot run."""
    lines = (_run(cmd) or '').splitlines()
    return lines[0].strip() if lines else None


def _nvcc_version(cuda_home: str) -> str:
    out = _run([osp.join(cuda_home, 'bin', 'nvcc'), '-V'])
    if out is None:
        return 'Not Available'
    release = out.rfind('Cuda compilation tools')
    build = out.rfind('Build ')
    if release == -1:
        return out.splitlines()[-1] if out else 'Not Available'
    return out[release:build if build > release else None].strip()


def _dist_version(*names: str) -> Optional[str]:
    from importlib import metadata
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def _opencv_version() -> str:
    """OpenCV's version, read from package metadata (cv2 is not imported)."""
    import importlib.util
    version = _dist_version(*_OPENCV_DISTS)
    if version is not None:
        return version
    if importlib.util.find_spec('cv2') is not None:
        return 'installed (version unknown)'
    return 'not installed'


def collect_env() -> 'OrderedDict[str, object]':
    """Collect facts about the environment.

    Returns:
        OrderedDict: with the keys

        - ``sys.platform``: ``sys.platform``.
        - ``Python``: the Python version line.
        - ``CUDA available``: whether torch sees a CUDA device.
        - ``MUSA available``: only when torch_musa is installed.
        - ``numpy_random_seed``: first word of numpy's global RNG state.
        - ``CUDA_HOME`` and ``NVCC``: when CUDA is available.
        - ``GPU i,j``: device name, grouped by identical names.
        - ``GCC``: first line of ``gcc --version`` or ``'n/a'``.
        - ``PyTorch`` and ``PyTorch compiling details``.
        - ``TorchVision``: only when installed.
        - ``OpenCV``: its version or ``'not installed'``.
        - ``MMEngine``: ``mmengine.__version__``.
    """
    from mmengine.version import __version__ as mmengine_version

    env_info: 'OrderedDict[str, object]' = OrderedDict()
    env_info['sys.platform'] = sys.platform
    env_info['Python'] = sys.version.replace('\n', '')

    cuda_available = torch.cuda.is_available()
    env_info['CUDA available'] = cuda_available
    import importlib.util
    if importlib.util.find_spec('torch_musa') is not None:
        try:
            import torch_musa  # noqa: F401
            env_info['MUSA available'] = bool(torch.musa.is_available())
        except Exception:  # a broken vendor plug-in must not break this
            env_info['MUSA available'] = False
    env_info['numpy_random_seed'] = int(np.random.get_state()[1][0])

    if cuda_available:
        cuda_home = _find_cuda_home()
        env_info['CUDA_HOME'] = cuda_home
        if cuda_home is not None and osp.isdir(cuda_home):
            env_info['NVCC'] = _nvcc_version(cuda_home)
        else:
            env_info['NVCC'] = 'Not Available'
        devices = defaultdict(list)
        for k in range(torch.cuda.device_count()):
            devices[torch.cuda.get_device_name(k)].append(str(k))
        for name, device_ids in devices.items():
            env_info['GPU ' + ','.join(device_ids)] = name

    gcc = shutil.which('gcc')
    env_info['GCC'] = (_run_first_line([gcc, '--version'])
                       if gcc is not None else None) or 'n/a'

    env_info['PyTorch'] = torch.__version__
    env_info['PyTorch compiling details'] = get_build_config()

    torchvision = _dist_version('torchvision')
    if torchvision is not None:
        env_info['TorchVision'] = torchvision
    env_info['OpenCV'] = _opencv_version()
    env_info['MMEngine'] = mmengine_version
    return env_info
