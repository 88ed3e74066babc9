# X-Decoder pre-training data as in the paper: COCO panoptic + RefCOCOg + image-text pairs in
# the same run (the loader, its referring and image-text sources and what 'joint' means:
# multi_source_joint.py), per GPU (8 GPUs): 4 panoptic and 4 referring images at 1024 px LSJ,
# 128 image-text pairs at 224 px; the paper's 32 and 1024 in total. Validation: COCO panoptic
# (xdecoder_coco_panoptic.py); referring and captioning / retrieval use xdecoder_refcocog.py,
# xdecoder_coco_caption.py and xdecoder_coco_retrieval.py with tools/test.py.
_base_ = ['./xdecoder_coco_panoptic.py', './multi_source_joint.py']

# the panoptic base's training data joins the loader as its panoptic source
train_dataloader = dict(
    _base_.multi_source_loader,  # noqa: F821 (mmengine base variable)
    _delete_=True,
    dataset=dict(
        _base_.multi_source_loader.dataset,  # noqa: F821
        datasets=dict(panoptic={{_base_.train_dataset}},
                      **_base_.multi_source_loader.dataset.datasets)))  # noqa: F821
