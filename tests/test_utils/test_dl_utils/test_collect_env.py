import sys

import numpy as np

import mmengine
from mmengine.utils.dl_utils import collect_env


def test_collect_env_keys_and_values():
    env = collect_env()
    for key in ('sys.platform', 'Python', 'CUDA available',
                'numpy_random_seed', 'GCC', 'PyTorch',
                'PyTorch compiling details', 'OpenCV', 'MMEngine'):
        assert key in env, key
    assert env['sys.platform'] == sys.platform
    assert env['Python'] == sys.version.replace('\n', '')
    assert env['MMEngine'] == mmengine.__version__
    import torch
    assert env['PyTorch'] == torch.__version__
    assert env['CUDA available'] == torch.cuda.is_available()
    if env['CUDA available']:
        assert 'CUDA_HOME' in env and 'NVCC' in env
        assert any(k.startswith('GPU ') for k in env)
    assert isinstance(env['PyTorch compiling details'], str)
    assert isinstance(env['OpenCV'], str)


def test_numpy_random_seed_follows_global_state():
    np.random.seed(1234)
    first = collect_env()['numpy_random_seed']
    np.random.seed(1234)
    assert collect_env()['numpy_random_seed'] == first
    assert isinstance(first, int)
