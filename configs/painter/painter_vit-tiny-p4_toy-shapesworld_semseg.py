# In-context semantic segmentation with the toy Painter on ShapesWorld val (ADE20K layout):
# prompt = training scene 0 and its label image; stock mmseg IoUMetric.
#   python tools/test.py configs/painter/painter_vit-tiny-p4_toy-shapesworld_semseg.py <ckpt>
_base_ = ['./painter_vit-tiny-p4_toy-shapesworld_in-context.py']
test_dataloader = dict(
    dataset=dict(
        task='semantic',
        codec={{_base_.codecs.semantic}},
        prompt=dict(dataset={{_base_.sw_semseg}}, index=0),
        dataset=dict(
            type='ShapesWorldSegDataset',
            data_root='data/shapesworld64/ade/ADEChallengeData2016',
            data_prefix=dict(img_path='images/validation', seg_map_path='annotations/validation'),
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='mmseg.LoadAnnotations'),
                dict(type='mmseg.PackSegInputs')
            ])))
test_evaluator = dict(type='mmseg.IoUMetric', iou_metrics=['mIoU'])
