# Benchmark size, not a trained recipe: the paper's 8-task Painter (training loader, optimizer)
# with a ViT-B-width backbone at ViT-L depth (24 blocks x 768, 12 heads, patch 16) on a 448 x 224
# canvas (two 224 x 224 images): the "ViT-B-sized" Painter of issue 18's speed targets. One file
# for both phases of benchmark.py (--methods painter --sizes vitb): the training step on the
# 8-task mixture and the ADE20K in-context inference. No checkpoint of this size exists; the
# benchmark times the architecture with random weights.
#   python tools/analysis_tools/benchmark.py --methods painter --sizes vitb --device cpu
#
# | item        | paper (painter_vit-large-p16_8tasks_896x448.py) | here                        |
# |-------------|--------------------------------------------------|-----------------------------|
# | backbone    | ViT-L/16, 24 blocks x 1024, 16 heads             | /16, 24 x 768, 12 heads     |
# | canvas      | 896 x 448 (56 x 28 patches)                      | 448 x 224 (28 x 14 patches) |
# | mask blocks | 16..392 patches (half of the 784 masked)         | 16..98 (half of the 196)    |
# | optimizer   | AdamW, fp16 AmpOptimWrapper, 16 accumulations    | AdamW, fp32 OptimWrapper,   |
# |             |                                                  | an update every step        |
# (benchmark.py's variants choose the precision: --amp is bfloat16 autocast on CPU)
_base_ = ['./painter_vit-large-p16_8tasks_896x448_ade20k-semseg.py']
img_size = (224, 224)  # one image
canvas_size = (448, 224)
model = dict(
    init_cfg=None,  # no MAE checkpoint of this width / depth
    backbone=dict(img_size=canvas_size, embed_dims=768, num_heads=12),
    head=dict(in_channels=768),
    mask_generator=dict(max_block=98))
train_dataloader = dict(
    dataset=dict(datasets=[
        dict(dataset, img_size=img_size)
        for dataset in _base_.train_dataloader.dataset.datasets  # noqa: F821 (mmengine base)
    ]))
test_dataloader = dict(dataset=dict(img_size=img_size))
# the paper's AdamW, clipping and layer decay in an fp32 wrapper without accumulation
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    **{
        key: value
        for key, value in _base_.optim_wrapper.items()  # noqa: F821 (mmengine base)
        if key not in ('type', 'dtype', 'accumulative_counts')
    })
