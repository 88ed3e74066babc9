# In-context evaluation of Painter ViT-L on COCO val2017 panoptic segmentation (133 classes).
# Every query is painted under TWO prompts in one batch: the COCO-panoptic semantic prompt
# (a training image and its 133-class label colours) and the class-agnostic instance prompt (a
# training image and its mass-centre colours). The semantic painting is decoded by the
# COCOPanopticSemanticCodec, the instance painting by the InstanceCodec (distance threshold 19,
# Matrix-NMS gaussian sigma 2, top 100; class = majority vote of the semantic output inside the
# mask), and PanopticMerger combines them with the release's rule (instance score >= 0.55,
# overlap <= 0.5, stuff area >= 8192 px). Stock mmdet CocoPanopticMetric. Paper: PQ 43.4.
#   python tools/test.py configs/painter/painter_vit-large-p16_8tasks_896x448_coco-panoptic.py \
#       <ckpt>
# Data: data/coco/{train2017,val2017}, annotations/panoptic_{train,val}2017.json + PNG folders,
# annotations/instances_train2017.json and the semantic PNGs of the training split
# (tools/dataset_converters/coco_panoptic_to_semseg.py), as for training.
# The prompt cache works here (it keeps both prompts' features): set
# model.backbone.prompt_isolation=True and model.test_cfg.use_cache=True (not the release's
# attention, see configs/painter/README.md).
_base_ = ['./painter_vit-large-p16_8tasks_896x448_in-context.py']
model = dict(
    mergers=dict(
        coco_panoptic=dict(
            type='PanopticMerger',
            thing_labels=tuple(range(80)),  # COCO panoptic: 80 things, then 53 stuff
            num_classes=133,
            score_thr=0.55,
            overlap_thr=0.5,
            stuff_area=8192)))
test_dataloader = dict(
    dataset=dict(
        task='coco_panoptic',
        # keys = the model's codec names; one canvas per prompt, in this order
        prompts=dict(
            coco_semantic=dict(
                codec=dict(type='COCOPanopticSemanticCodec'),
                prompt=dict(dataset={{_base_.coco_semantic.dataset}}, index=0)),
            coco_instance=dict(
                codec=dict(type='InstanceCodec'),
                prompt=dict(dataset={{_base_.coco_instance.dataset}}, index=0))),
        dataset={{_base_.coco_panoptic_val}}))
test_evaluator = dict(
    type='mmdet.CocoPanopticMetric',
    ann_file='data/coco/annotations/panoptic_val2017.json',
    seg_prefix='data/coco/annotations/panoptic_val2017/')
