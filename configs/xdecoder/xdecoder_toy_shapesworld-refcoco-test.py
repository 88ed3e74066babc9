# Referring segmentation test of the toy X-Decoder (the joint toy's weights as they are):
# one sample per expression of ShapesWorld RefCOCO val, cIoU / mIoU (ReferringSegMetric), i.e.
# the referring split of xdecoder_shapesworld_joint.py, read in the main process.
#   python tools/test.py configs/xdecoder/xdecoder_toy_shapesworld-refcoco-test.py <ckpt>
_base_ = ['./xdecoder_toy_shapesworld-joint.py']
model = dict(task='referring')
test_dataloader = dict(
    _base_.referring_val_dataloader,  # noqa: F821 (mmengine base variable)
    _delete_=True,
    batch_size=4,
    num_workers=0,
    persistent_workers=False)
test_evaluator = dict(_base_.referring_val_evaluator, _delete_=True)  # noqa: F821
