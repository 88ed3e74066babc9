# Toy GLID multi-task segmentation on ShapesWorld: panoptic + instance + semantic heads on one
# shared encoder-decoder and query set (evaluated on the panoptic head).
_base_ = ['./glid_toy_shapesworld-coco-panoptic.py']
model = dict(tasks=('panoptic', 'instance', 'semantic'), test_task='panoptic')
