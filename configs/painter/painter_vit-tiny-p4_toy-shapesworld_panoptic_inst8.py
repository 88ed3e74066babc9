# In-context panoptic segmentation (painter_vit-tiny-p4_toy-shapesworld_panoptic.py) for a
# checkpoint trained with the toy-sized instance codec of
# painter_vit-tiny-p4_toy-shapesworld_pose-3000it_inst8.py (8 x 8 position cells).
#   python tools/test.py configs/painter/painter_vit-tiny-p4_toy-shapesworld_panoptic_inst8.py <ckpt>
_base_ = ['./painter_vit-tiny-p4_toy-shapesworld_panoptic.py']
toy_instance_codec = dict(
    type='InstanceCodec', cells=2, local=4, steps=(60, 60, 60), dist_thr=30., min_area=4)
model = dict(codecs=dict(instance=toy_instance_codec))
test_dataloader = dict(
    dataset=dict(prompts=dict(instance=dict(codec=toy_instance_codec))))
