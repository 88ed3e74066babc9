# GLID multi-task segmentation fine-tuning on ADE20K: panoptic, instance and semantic trained
# jointly, sharing the encoder, the decoder and the queries; only the three linear layers are
# task-specific. Evaluated here on the panoptic head (set model.test_task=instance with the
# instance config's evaluator, or semantic with mmseg's IoUMetric, for the others).
_base_ = ['./glid_swin-b_8xb2-160k_ade20k-640x640-panoptic.py']
model = dict(tasks=('panoptic', 'instance', 'semantic'), test_task='panoptic')
