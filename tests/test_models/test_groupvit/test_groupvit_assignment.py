# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The assignment logits of GroupViT's grouping block and their scale (``qk_scale``).

The toy diagnosis (configs/groupvit/README.md, toy section) measures how decisive the
assignment is against the Gumbel noise of training; ``assign_qk_scale`` is the release's
``qk_scale`` of ``AssignAttention`` that sets the logit scale.
"""
import torch

from mmgen_vision.models.groupvit import GroupViTImageEncoder
from mmgen_vision.models.groupvit.image_encoder import AssignAttention


def _soft_by_hand(assign: AssignAttention, query, key, scale):
    logits = assign.q(query) @ assign.k(key).transpose(-2, -1) * scale
    return logits.softmax(dim=-2).unsqueeze(1)


def test_default_scale_is_inverse_sqrt_width():
    torch.manual_seed(0)
    assign = AssignAttention(16).eval()
    query, key = torch.randn(2, 4, 16), torch.randn(2, 10, 16)
    _, attn = assign(query, key)
    torch.testing.assert_close(attn['soft'], _soft_by_hand(assign, query, key, 16**-0.5))


def test_qk_scale_sharpens_the_assignment_logits():
    torch.manual_seed(0)
    plain = AssignAttention(16).eval()
    sharp = AssignAttention(16, qk_scale=1.).eval()
    sharp.load_state_dict(plain.state_dict())  # same weights, only the scale differs
    query, key = torch.randn(2, 4, 16), torch.randn(2, 10, 16)
    _, attn = sharp(query, key)
    torch.testing.assert_close(attn['soft'], _soft_by_hand(sharp, query, key, 1.))
    # 4x the default scale: every token's best group gets more mass, the argmax is unchanged
    _, attn_plain = plain(query, key)
    assert torch.equal(attn['soft'].argmax(-2), attn_plain['soft'].argmax(-2))
    assert (attn['soft'].amax(-2) > attn_plain['soft'].amax(-2)).all()


def test_encoder_passes_the_scale_to_every_grouping_block():
    tiny = dict(img_size=16, patch_size=4, embed_dims=16, depths=(1, 1, 1), num_heads=2,
                num_group_tokens=(4, 2, 0), num_output_groups=(4, 2))
    encoder = GroupViTImageEncoder(assign_qk_scale=0.5, **tiny)
    assert [s.grouping.assign.scale for s in encoder.stages if s.grouping] == [0.5, 0.5]
    default = GroupViTImageEncoder(**tiny)
    assert [s.grouping.assign.scale for s in default.stages if s.grouping] == [0.25, 0.25]
