# The schedules of the toy GLID configs, one per length (iterations, of which warm-up): 150
# (15) for semantic segmentation and depth, 200 (20) for panoptic / multi-task segmentation and
# detection, 400 (20) for pose. Each: a linear warm-up from 1 % of the learning rate, then poly
# decay to 0; no validation during training (tools/test.py scores the checkpoint); only the
# last checkpoint, written at the end; a log line every 25 iterations. Not run on its own: the
# toy configs list it beside their paper config, which already sets these keys (a key may come
# from one base only), and take the schedule of their length, e.g.
#   param_scheduler = _base_.toy_schedules.iters150.param_scheduler
# (`tools/train.py --max-iters N` rescales every length-dependent setting together.)
toy_schedules = {
    f'iters{max_iters}': dict(
        param_scheduler=[
            dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0, end=warmup_iters),
            dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False, begin=warmup_iters,
                 end=max_iters),
        ],
        # iterations even where the paper counts epochs
        train_cfg=dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
                       val_interval=max_iters + 1),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=25),
            checkpoint=dict(_delete_=True, type='CheckpointHook', by_epoch=False,
                            interval=max_iters, max_keep_ckpts=1)),
        log_processor=dict(by_epoch=False, window_size=25))
    for max_iters, warmup_iters in ((150, 15), (200, 20), (400, 20))
}
