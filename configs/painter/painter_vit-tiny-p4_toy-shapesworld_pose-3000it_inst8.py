# The 3000-iteration pose-emphasised toy (painter_vit-tiny-p4_toy-shapesworld_pose-3000it.py)
# with an instance codec sized to the toy canvas: 8 x 8 position cells (2 x 2 global cells of
# 4 x 4 local ones, colour steps of 60) instead of the release's 80 x 80 (steps 13-15). The
# release's grid puts a cell every 5.6 px of its 448 px canvas half; on the toy's 48 px half the
# same grid is 0.6 px per cell, so neighbouring position colours are 13 levels apart and a
# painted instance must be exact to a few levels not to split into several decoded masks. 8 x 8
# cells keep the release's ~6 px per cell. Evaluate panoptic with the matching test config
# painter_vit-tiny-p4_toy-shapesworld_panoptic_inst8.py.
#   python tools/train.py configs/painter/painter_vit-tiny-p4_toy-shapesworld_pose-3000it_inst8.py
#   python tools/test.py configs/painter/painter_vit-tiny-p4_toy-shapesworld_panoptic_inst8.py <ckpt>
#   python tools/test.py configs/painter/painter_vit-tiny-p4_toy-shapesworld_pose-3000it_inst8.py <ckpt>
_base_ = ['./painter_vit-tiny-p4_toy-shapesworld_pose-3000it.py']
toy_instance_codec = dict(
    type='InstanceCodec', cells=2, local=4, steps=(60, 60, 60), dist_thr=30., min_area=4)
model = dict(codecs=dict(instance=toy_instance_codec))
train_dataloader = dict(
    dataset=dict(datasets=[
        dict(dataset, codec=toy_instance_codec) if dataset['task'] == 'instance' else dataset
        for dataset in _base_.train_dataloader['dataset']['datasets']  # noqa: F821
    ]))
