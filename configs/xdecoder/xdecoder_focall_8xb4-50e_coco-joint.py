# X-Decoder Focal-L (200 + 1 queries) pre-training; data and recipe as Focal-T.
_base_ = ['./xdecoder_focalt_8xb4-50e_coco-joint.py']
model = dict(
    backbone=dict(embed_dims=192, depths=(2, 2, 18, 2), focal_levels=4, focal_windows=3),
    pixel_decoder=dict(in_channels=(192, 384, 768, 1536)),
    decoder=dict(num_queries=201))
