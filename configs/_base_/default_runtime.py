# Runtime shared by every mmgen_vision config.
default_scope = 'mmgen_vision'
# CheckedRunner refuses checkpoints whose weights belong to another model (see its docstring).
runner_type = 'CheckedRunner'

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/{train,test}.py switch to gloo by themselves on machines without CUDA.
    dist_cfg=dict(backend='nccl'),
)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False, window_size=50)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)
