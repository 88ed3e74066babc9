# Painter's joint training data: 8 tasks, each a PainterPairDataset over the stock dataset,
# drawn with the paper's task weights. Prepare the data as in docs/dataset_prepare.md (Painter).
img_size = (448, 448)  # one image; the canvas is 896 x 448
backend_args = None
# RandomResizedCrop(448, scale 0.3-1, ratio 3/4-4/3) + hflip + ColorJitter (p 0.8) on the image
augment = dict(
    scale=(0.3, 1.0),
    ratio=(3 / 4, 4 / 3),
    flip_prob=0.5,
    color_jitter=dict(brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1, prob=0.8),
    interpolation='bicubic')
# restoration pairs: same geometry for input and target, no colour jitter
restoration_augment = dict(scale=(0.3, 1.0), ratio=(3 / 4, 4 / 3), flip_prob=0.5)

load_img = dict(type='LoadImageFromFile', backend_args=backend_args)
# every task: a PainterPairDataset (task, codec, wrapped dataset) on one image size
pair = dict(type='PainterPairDataset', img_size=img_size, augment=augment)
nyuv2_depth = dict(
    pair,
    task='nyuv2_depth',
    codec=dict(type='DepthCodec', max_depth=10.),
    dataset=dict(
        type='mmseg.NYUDataset',
        data_root='data/nyu',  # tools/dataset_converters/painter_nyuv2.py
        data_prefix=dict(img_path='train/rgb', depth_map_path='train/depth'),
        pipeline=[load_img, dict(type='mmseg.LoadDepthAnnotation', depth_rescale_factor=1e-3)]))
ade20k_semantic = dict(
    pair,
    task='ade20k_semantic',
    codec=dict(type='ADE20KSemanticCodec'),
    dataset=dict(
        type='mmseg.ADE20KDataset',
        data_root='data/ade/ADEChallengeData2016',
        data_prefix=dict(img_path='images/training', seg_map_path='annotations/training'),
        pipeline=[load_img, dict(type='mmseg.LoadAnnotations', reduce_zero_label=True)]))
coco_semantic = dict(
    pair,
    task='coco_semantic',
    codec=dict(type='COCOPanopticSemanticCodec'),
    dataset=dict(
        # panoptic -> contiguous semantic PNGs: tools/dataset_converters/coco_panoptic_to_semseg.py
        type='mmseg.BaseSegDataset',
        data_root='data/coco',
        data_prefix=dict(
            img_path='train2017', seg_map_path='annotations/panoptic_semseg_train2017'),
        img_suffix='.jpg',
        seg_map_suffix='.png',
        reduce_zero_label=False,
        pipeline=[load_img, dict(type='mmseg.LoadAnnotations')]))
coco_instance = dict(
    pair,
    task='coco_instance',
    codec=dict(type='InstanceCodec'),  # no augmentation (codec.augment is False)
    dataset=dict(
        type='mmdet.CocoDataset',
        data_root='data/coco',
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(img='train2017/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=[load_img, dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True)]))
coco_pose = dict(
    pair,
    task='coco_pose',
    codec=dict(type='KeypointCodec', sigma=3.),  # no augmentation (codec.augment is False)
    dataset=dict(
        type='mmpose.CocoDataset',
        data_root='data/coco',
        data_mode='topdown',
        ann_file='annotations/person_keypoints_train2017.json',
        data_prefix=dict(img='train2017/'),
        pipeline=[
            dict(type='mmgen_vision.LoadImage', backend_args=backend_args),
            dict(type='mmpose.GetBBoxCenterScale'),
            dict(type='mmpose.TopdownAffine', input_size=(192, 256)),
        ]))


restoration_pipeline = [load_img, dict(type='LoadPairedImage')]
restoration_pair = dict(pair, codec=dict(type='RestorationCodec'), augment=restoration_augment)
restoration_data = dict(type='PainterRestorationDataset', pipeline=restoration_pipeline)
sidd_denoise = dict(
    restoration_pair,
    task='sidd_denoise',
    dataset=dict(
        restoration_data,
        data_root='data/restoration/sidd',  # tools/dataset_converters/painter_restoration.py
        input_dir='train/input',
        target_dir='train/target'))
derain = dict(
    restoration_pair,
    task='derain',
    dataset=dict(
        restoration_data,
        data_root='data/restoration/rain',
        input_dir='train/input',
        target_dir='train/target'))
lol_enhance = dict(
    restoration_pair,
    task='lol_enhance',
    dataset=dict(
        restoration_data, data_root='data/restoration/lol', input_dir='train/low',
        target_dir='train/high'))

# the paper's task sampling weights
task_weights = dict(
    nyuv2_depth=0.1,
    ade20k_semantic=0.2,
    coco_instance=0.15,
    coco_semantic=0.25,
    coco_pose=0.2,
    sidd_denoise=0.15,
    derain=0.05,
    lol_enhance=0.05)
train_dataloader = dict(
    batch_size=2,  # per GPU
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='MultiTaskWeightedSampler', weights=task_weights),
    dataset=dict(
        type='ConcatDataset',
        ignore_keys=['task'],  # one task per wrapped dataset
        datasets=[
            nyuv2_depth, ade20k_semantic, coco_instance, coco_semantic, coco_pose, sidd_denoise,
            derain, lol_enhance
        ]))
# the queries of the in-context panoptic evaluation (the semantic and instance prompts come
# from the training data above; see *_coco-panoptic.py)
coco_panoptic_val = dict(
    type='mmdet.CocoPanopticDataset',
    data_root='data/coco/',
    ann_file='annotations/panoptic_val2017.json',
    data_prefix=dict(img='val2017/', seg='annotations/panoptic_val2017/'),
    test_mode=True,
    pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='mmdet.LoadPanopticAnnotations'),
        dict(
            type='mmdet.PackDetInputs',
            meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
    ])
