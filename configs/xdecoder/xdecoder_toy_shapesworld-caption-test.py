# Captioning (BLEU-4 / CIDEr-D) and image-text retrieval (Recall@K both ways) test of the toy
# X-Decoder on ShapesWorld COCO-captions val, from the same predictions.
#   python tools/test.py configs/xdecoder/xdecoder_toy_shapesworld-caption-test.py <ckpt>
_base_ = ['./xdecoder_toy_shapesworld-joint.py']
model = dict(task='caption')
caption_root = 'data/shapesworld/coco/'
test_dataloader = dict(
    _delete_=True,
    batch_size=8,
    num_workers=0,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CocoCaptionDataset',
        data_root=caption_root,
        ann_file='annotations/captions_val2017.json',
        data_prefix=dict(img_path='val2017/'),
        sample_per='image',
        test_mode=True,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='mmdet.Resize', scale=(64, 64), keep_ratio=False),
            dict(type='PackXDecoderInputs', task='caption',
                 meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                            'captions')),
        ]))
test_evaluator = [
    dict(type='CaptionMetric', ann_file=caption_root + 'annotations/captions_val2017.json'),
    dict(type='RetrievalMetric', topk=(1, 5, 10)),
]
