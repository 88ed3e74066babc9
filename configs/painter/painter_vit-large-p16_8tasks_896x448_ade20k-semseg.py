# In-context evaluation of Painter ViT-L on ADE20K val (150 classes): prompt = a training pair,
# stock mmseg IoUMetric. Paper: mIoU 49.9.
#   python tools/test.py configs/painter/painter_vit-large-p16_8tasks_896x448_ade20k-semseg.py \
#       <ckpt>
_base_ = ['./painter_vit-large-p16_8tasks_896x448_in-context.py']
test_dataloader = dict(
    dataset=dict(
        task='ade20k_semantic',
        codec=dict(type='ADE20KSemanticCodec'),
        prompt=dict(dataset={{_base_.ade20k_semantic.dataset}}, index=0),
        dataset=dict(
            type='mmseg.ADE20KDataset',
            data_root='data/ade/ADEChallengeData2016',
            data_prefix=dict(img_path='images/validation', seg_map_path='annotations/validation'),
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='mmseg.LoadAnnotations', reduce_zero_label=True),
                dict(type='mmseg.PackSegInputs')
            ])))
test_evaluator = dict(type='mmseg.IoUMetric', iou_metrics=['mIoU'])
