"""Models: ``BaseModel``/``BaseModule``, data preprocessors, weight init,
model wrappers, averaged models, test-time augmentation and utilities."""
from . import averaged_model as _averaged_model
from . import test_time_aug as _test_time_aug
from . import wrappers as _wrappers
from .averaged_model import *  # noqa: F401,F403
from .base_model import BaseDataPreprocessor, BaseModel, ImgDataPreprocessor
from .base_module import BaseModule, ModuleDict, ModuleList, Sequential
from .test_time_aug import *  # noqa: F401,F403
from .utils import (convert_sync_batchnorm, detect_anomalous_params,
                    merge_dict, revert_sync_batchnorm, stack_batch)
from .weight_init import (BaseInit, Caffe2XavierInit, ConstantInit,
                          KaimingInit, NormalInit, PretrainedInit,
                          TruncNormalInit, UniformInit, XavierInit,
                          bias_init_with_prob, caffe2_xavier_init,
                          constant_init, initialize, kaiming_init,
                          normal_init, trunc_normal_, trunc_normal_init,
                          uniform_init, update_init_info, xavier_init)
from .wrappers import *  # noqa: F401,F403

__all__ = [
    'BaseModel', 'BaseModule', 'ModuleList', 'ModuleDict', 'Sequential',
    'BaseDataPreprocessor', 'ImgDataPreprocessor', 'stack_batch',
    'merge_dict', 'detect_anomalous_params', 'convert_sync_batchnorm',
    'revert_sync_batchnorm', 'BaseInit', 'ConstantInit', 'XavierInit',
    'NormalInit', 'TruncNormalInit', 'UniformInit', 'KaimingInit',
    'Caffe2XavierInit', 'PretrainedInit', 'initialize', 'update_init_info',
    'constant_init', 'xavier_init', 'normal_init', 'trunc_normal_init',
    'uniform_init', 'kaiming_init', 'caffe2_xavier_init',
    'bias_init_with_prob', 'trunc_normal_'
] + list(_wrappers.__all__) + list(_averaged_model.__all__) + list(
    _test_time_aug.__all__)
