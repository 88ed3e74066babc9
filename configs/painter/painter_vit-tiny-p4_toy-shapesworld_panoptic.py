# In-context panoptic segmentation with the toy Painter on ShapesWorld val (COCO panoptic
# layout): per query, the semantic prompt (training scene 0 and its label image) AND the
# class-agnostic instance prompt (training scene 0 and its instance colours) are painted in one
# batch, decoded by their codecs (instances take the majority semantic class) and merged by
# `PanopticMerger` (the release's rule); stock mmdet CocoPanopticMetric (PQ / SQ / RQ).
#   python tools/test.py configs/painter/painter_vit-tiny-p4_toy-shapesworld_panoptic.py <ckpt>
_base_ = ['./painter_vit-tiny-p4_toy-shapesworld_in-context.py']
thing_classes = ('circle', 'square', 'triangle', 'star', 'person')
stuff_classes = ('sky', 'ground')
panoptic_metainfo = dict(
    classes=thing_classes + stuff_classes,
    thing_classes=thing_classes,
    stuff_classes=stuff_classes)
coco_root = _base_.data_root + '/coco'  # noqa: F821 (mmengine base variable)
model = dict(
    mergers=dict(
        panoptic=dict(
            type='PanopticMerger',
            thing_labels=(0, 1, 2, 3, 4),
            num_classes=7,
            score_thr=0.55,
            overlap_thr=0.5,
            # the release's 8192 px is ~2.7% of a 640 x 480 COCO image; the same share of a
            # 64 x 64 scene is ~110 px
            stuff_area=110)),
    test_cfg=dict(use_cache=False))
test_dataloader = dict(
    dataset=dict(
        task='panoptic',
        # one canvas per prompt, in this order; the keys are the model's codec names
        prompts=dict(
            semantic=dict(
                codec={{_base_.codecs.semantic}},
                prompt=dict(dataset={{_base_.sw_semseg}}, index=0)),
            instance=dict(
                codec={{_base_.codecs.instance}},
                prompt=dict(dataset={{_base_.sw_instance}}, index=0))),
        # the paper config's COCO val2017 panoptic queries, on ShapesWorld's COCO layout
        dataset=dict(
            _base_.coco_panoptic_val,  # noqa: F821 (mmengine base variable)
            data_root=coco_root,
            metainfo=panoptic_metainfo)))
test_evaluator = dict(
    type='mmdet.CocoPanopticMetric',
    ann_file=coco_root + '/annotations/panoptic_val2017.json',
    seg_prefix=coco_root + '/annotations/panoptic_val2017/')
