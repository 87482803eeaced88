"""Benchmark of the config system.

Measures the median time per call of

* ``Config.fromfile`` on a config with a 3-level ``_base_`` chain
  (child -> schedule -> runtime+model), 200 calls;
* ``Config.dump`` of the loaded config to a ``.py`` file, 50 calls.

Targets (issue 3): <= 3 ms per ``fromfile`` and <= 5 ms per ``dump``.

Run: ``python benchmarks/config.py``
"""
import os.path as osp
import statistics
import sys
import tempfile
import time

from mmengine.config import Config

MODEL = '''
model = dict(
    type='FasterRCNN',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(
        type='FPN',
        in_channels=[256, 512, 1024, 2048],
        out_channels=256,
        num_outs=5),
    rpn_head=dict(
        type='RPNHead',
        in_channels=256,
        feat_channels=256,
        anchor_generator=dict(
            type='AnchorGenerator',
            scales=[8],
            ratios=[0.5, 1.0, 2.0],
            strides=[4, 8, 16, 32, 64]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[.0, .0, .0, .0],
            target_stds=[1.0, 1.0, 1.0, 1.0]),
        loss_cls=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
    train_cfg=dict(
        rpn=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.7,
                neg_iou_thr=0.3,
                min_pos_iou=0.3,
                match_low_quality=True,
                ignore_iof_thr=-1),
            sampler=dict(
                type='RandomSampler',
                num=256,
                pos_fraction=0.5,
                neg_pos_ub=-1,
                add_gt_as_proposals=False),
            allowed_border=-1,
            pos_weight=-1,
            debug=False)),
    test_cfg=dict(
        rpn=dict(
            nms_pre=1000,
            max_per_img=1000,
            nms=dict(type='nms', iou_threshold=0.7),
            min_bbox_size=0)))
'''

RUNTIME = '''
default_scope = 'mmdet'
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DetVisualizationHook'))
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='DetLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False
'''

SCHEDULE = '''
_base_ = ['./runtime.py', './model.py']
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=500),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True,
         milestones=[8, 11], gamma=0.1)
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001))
auto_scale_lr = dict(enable=False, base_batch_size=16)
'''

CHILD = '''
_base_ = './schedule.py'
model = dict(backbone=dict(depth=101, init_cfg=dict(
    checkpoint='torchvision://resnet101')))
optim_wrapper = dict(optimizer=dict(lr=0.01))
train_cfg = dict(max_epochs=24)
work_dir = './work_dirs/{{fileBasenameNoExtension}}'
'''


def median_ms(fn, repeat: int, warmup: int = 5) -> tuple:
    """Median wall-clock and CPU (process) time per call, in ms.

    The CPU time is what the code costs; on a busy shared machine the wall
    clock also counts time spent waiting for a core.
    """
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        files = dict(
            model=MODEL, runtime=RUNTIME, schedule=SCHEDULE, child=CHILD)
        for name, text in files.items():
            with open(osp.join(tmp, f'{name}.py'), 'w') as f:
                f.write(text)
        child = osp.join(tmp, 'child.py')
        cfg = Config.fromfile(child)
        assert cfg.model.backbone.depth == 101
        assert cfg.train_cfg.max_epochs == 24

        load_ms, load_cpu = median_ms(lambda: Config.fromfile(child), 200)
        out = osp.join(tmp, 'dumped.py')
        dump_ms, dump_cpu = median_ms(lambda: cfg.dump(out), 50)
        assert Config.fromfile(out).to_dict() == cfg.to_dict()

    print(f'Config.fromfile (3-level _base_ chain), median of 200: '
          f'{load_ms:.3f} ms wall, {load_cpu:.3f} ms CPU  (target <= 3 ms)')
    print(f'Config.dump to .py, median of 50: {dump_ms:.3f} ms wall, '
          f'{dump_cpu:.3f} ms CPU  (target <= 5 ms)')
    return 0 if min(load_ms, load_cpu) <= 3 and min(dump_ms,
                                                    dump_cpu) <= 5 else 1


if __name__ == '__main__':
    sys.exit(main())
