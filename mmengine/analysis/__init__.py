# Copyright (c) OpenMMLab. All rights reserved.
"""Model complexity analysis: flops, activations and parameters.

Models are traced with ``torch.jit``; each traced operator is counted by a
handle (:mod:`mmengine.analysis.jit_handles`). Start with
:func:`get_model_complexity_info`.
"""
from .complexity_analysis import (ActivationAnalyzer, FlopAnalyzer,
                                  activation_count, flop_count,
                                  parameter_count, parameter_count_table)
from .jit_analysis import JitModelAnalysis
from .print_helper import (complexity_stats_str, complexity_stats_table,
                           get_model_complexity_info)

__all__ = [
    'FlopAnalyzer', 'ActivationAnalyzer', 'flop_count', 'activation_count',
    'parameter_count', 'parameter_count_table', 'JitModelAnalysis',
    'complexity_stats_str', 'complexity_stats_table',
    'get_model_complexity_info'
]
