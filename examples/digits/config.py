# Train a small MLP on scikit-learn's digits. From the repository root:
#   python -m mmengine train examples/digits/config.py
custom_imports = dict(imports=['examples.digits.digits'])

model = dict(type='DigitsMLP', hidden=128)

train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='DigitsDataset', split='train'),
    collate_fn=dict(type='default_collate'))
val_dataloader = dict(
    batch_size=64,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='DigitsDataset', split='val'),
    collate_fn=dict(type='default_collate'))
test_dataloader = val_dataloader

val_evaluator = dict(type='DigitsAccuracy')
test_evaluator = val_evaluator

train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=1)
val_cfg = dict()
test_cfg = dict()

optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=45),
    dict(type='MultiStepLR', by_epoch=True, milestones=[7], gamma=0.1),
]

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(
        type='CheckpointHook', interval=5, save_best='accuracy',
        rule='greater', max_keep_ckpts=2))

randomness = dict(seed=0)
work_dir = './work_dirs/digits'
