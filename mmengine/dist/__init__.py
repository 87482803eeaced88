"""Distributed helpers on top of ``torch.distributed``.

Rank/world queries and collectives that also work, as the single-process
answer, without a process group; ``init_dist`` for torchrun, Slurm and MPI.
"""
from .dist import (all_gather, all_gather_object, all_reduce,
                   all_reduce_dict, all_reduce_params, broadcast,
                   broadcast_object_list, collect_results,
                   collect_results_cpu, collect_results_gpu, gather,
                   gather_object, sync_random_seed)
from .utils import (barrier, cast_data_device, get_backend, get_comm_device,
                    get_data_device, get_default_group, get_dist_info,
                    get_local_group, get_local_rank, get_local_size, get_rank,
                    get_world_size, infer_launcher, init_dist,
                    init_local_group, is_distributed, is_main_process,
                    master_only)

__all__ = [
    'all_gather_object', 'all_reduce', 'all_gather', 'all_reduce_dict',
    'collect_results', 'gather', 'broadcast', 'gather_object',
    'sync_random_seed', 'broadcast_object_list', 'collect_results_cpu',
    'collect_results_gpu', 'all_reduce_params', 'get_dist_info', 'init_dist',
    'init_local_group', 'get_backend', 'get_world_size', 'get_rank',
    'get_local_size', 'get_local_rank', 'is_main_process', 'master_only',
    'barrier', 'get_local_group', 'is_distributed', 'get_default_group',
    'get_data_device', 'get_comm_device', 'cast_data_device',
    'infer_launcher'
]
