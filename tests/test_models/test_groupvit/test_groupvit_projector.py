# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GroupViT's projection head and its depth (the release's ``proj_num_layers``)."""
import pytest
import torch

from mmgen_vision.models.groupvit import GroupViT
from mmgen_vision.models.groupvit.projector import ProjectionMLP


def test_two_layers_by_hand():
    torch.manual_seed(0)
    proj = ProjectionMLP(8, 4, hidden_channels=16).eval()
    x = torch.randn(3, 5, 8)
    h = torch.einsum('blc,hc->blh', x, proj.fc1.weight[..., 0]) + proj.fc1.bias
    h = (h - proj.bn.running_mean) / (proj.bn.running_var + proj.bn.eps).sqrt()
    h = (h * proj.bn.weight + proj.bn.bias).relu()
    y = torch.einsum('blh,dh->bld', h, proj.fc2.weight[..., 0]) + proj.fc2.bias
    torch.testing.assert_close(proj(x), y)
    torch.testing.assert_close(proj(x[:, 0]), y[:, 0])  # (B, C) form


def test_one_layer_is_linear_so_the_mean_commutes():
    torch.manual_seed(0)
    proj = ProjectionMLP(8, 4, hidden_channels=16, num_layers=1).train()
    assert sorted(proj.state_dict()) == ['fc2.bias', 'fc2.weight']  # the release's linear_out
    x = torch.randn(3, 5, 8)
    torch.testing.assert_close(proj(x.mean(1)), proj(x).mean(1))
    two = ProjectionMLP(8, 4, hidden_channels=16).train()
    assert not torch.allclose(two(x.mean(1)), two(x).mean(1))


def test_zero_layers_is_the_identity_and_checks_widths():
    x = torch.randn(2, 8)
    assert torch.equal(ProjectionMLP(8, 8, num_layers=0)(x), x)
    with pytest.raises(ValueError, match='in_channels == out_channels'):
        ProjectionMLP(8, 4, num_layers=0)
    with pytest.raises(ValueError, match='num_layers must be 0, 1 or 2'):
        ProjectionMLP(8, 4, num_layers=3)


def test_groupvit_builds_both_projectors_with_the_depth():
    model = GroupViT(
        image_encoder=dict(img_size=16, patch_size=4, embed_dims=16, depths=(1, 1),
                           num_heads=2, num_group_tokens=(4, 0), num_output_groups=(2, )),
        text_encoder=dict(context_length=8, vocab_size=64, width=16, layers=1, heads=2),
        output_dim=8, proj_hidden_channels=32, proj_num_layers=1)
    assert model.image_projector.num_layers == model.text_projector.num_layers == 1
    assert not any(k.startswith(('image_projector.fc1', 'text_projector.bn'))
                   for k in model.state_dict())
