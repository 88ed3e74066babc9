# Referring segmentation test of the toy X-Decoder (the joint toy's weights as they are):
# one sample per expression of ShapesWorld RefCOCO val, cIoU / mIoU (ReferringSegMetric).
#   python tools/test.py configs/xdecoder/xdecoder_toy_shapesworld-refcoco-test.py <ckpt>
_base_ = ['./xdecoder_toy_shapesworld-joint.py']
model = dict(task='referring')
test_dataloader = dict(
    _delete_=True,
    batch_size=4,
    num_workers=0,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='RefCocoSegDataset',
        data_root='data/shapesworld/refcoco/',
        ann_file='refcoco/instances.json',
        split_file='refcoco/refs(unc).p',
        data_prefix=dict(img_path='train2014/'),
        split='val',
        test_mode=True,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='mmseg.Resize', scale=(96, 96), keep_ratio=True),
            dict(type='LoadReferringAnnotations'),
            dict(type='mmseg.PackSegInputs',
                 meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                            'text', 'sent_id')),
        ]))
test_evaluator = dict(_delete_=True, type='ReferringSegMetric')
