# X-Decoder, Focal-L release: FocalNet-L (embed 192, depths 2/2/18/2, focal levels 4) and
# 200 + 1 queries; everything else as Focal-T.
_base_ = ['./xdecoder_focalt.py']
model = dict(
    backbone=dict(embed_dims=192, depths=(2, 2, 18, 2), focal_levels=4, focal_windows=3),
    pixel_decoder=dict(in_channels=(192, 384, 768, 1536)),
    decoder=dict(num_queries=201))
