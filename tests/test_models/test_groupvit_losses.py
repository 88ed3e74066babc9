# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GroupViT's multi-label contrastive loss against hand-computed values, in the release's form
and with ``multi_label_same_text_positive`` (identical prompts are positives)."""
import math

import pytest
import torch

from mmgen_vision.models.groupvit import GroupViT
from mmgen_vision.models.groupvit.groupvit import same_text_targets

TINY = dict(
    image_encoder=dict(img_size=32, patch_size=4, embed_dim=32, depths=(1, 1), num_heads=2,
                       num_group_tokens=(4, 0), num_output_groups=(4, ), drop_path_rate=0.),
    text_encoder=dict(context_length=8, vocab_size=49408, width=32, layers=1),
    output_dim=2, proj_hidden_channels=8, multi_label=1)


def _model(same_text: bool) -> GroupViT:
    model = GroupViT(multi_label_same_text_positive=same_text, **TINY)
    with torch.no_grad():
        model.multi_label_logit_scale.zero_()  # exp(0) = 1: logits are the cosines
    return model


# Two images with orthogonal embeddings; image i's single prompt embeds like image i.
IMAGE_X = torch.tensor([[1., 0.], [0., 1.]])
TEXT_X = torch.tensor([[[1., 0.]], [[0., 1.]]])  # [B=2, K=1, D=2]
SAME_IDS = torch.tensor([[[5, 6, 7]], [[5, 6, 7]]])  # both prompts are "a photo of a circle."
DIFFERENT_IDS = torch.tensor([[[5, 6, 7]], [[5, 6, 8]]])


def test_release_form_ignores_identical_prompts():
    # logits are the identity matrix both ways; targets are the identity:
    # every row: -log(e / (e + 1)) = log(1 + e) - 1
    expected = math.log(1 + math.e) - 1
    loss = _model(False).multi_label_contrastive_loss(IMAGE_X, TEXT_X, text_ids=SAME_IDS)
    assert loss.item() == pytest.approx(expected, abs=1e-6)


def test_identical_prompts_are_positives():
    # targets are 1/2 everywhere: every row -(log(e/(e+1)) + log(1/(e+1))) / 2
    expected = math.log(1 + math.e) - 0.5
    loss = _model(True).multi_label_contrastive_loss(IMAGE_X, TEXT_X, text_ids=SAME_IDS)
    assert loss.item() == pytest.approx(expected, abs=1e-6)


def test_distinct_prompts_reduce_to_release_form():
    ours = _model(True).multi_label_contrastive_loss(IMAGE_X, TEXT_X, text_ids=DIFFERENT_IDS)
    release = _model(False).multi_label_contrastive_loss(IMAGE_X, TEXT_X)
    assert ours.item() == pytest.approx(release.item(), abs=1e-7)
    assert ours.item() == pytest.approx(math.log(1 + math.e) - 1, abs=1e-6)


def test_same_text_targets_multi_hot():
    own = torch.tensor([[[1, 2], [3, 4]], [[3, 4], [9, 9]]])  # [B=2, K=2, L=2]
    targets = same_text_targets(own, own.flatten(0, 1))
    assert targets.tolist() == [[1, 1, 1, 0], [0, 1, 1, 1]]


def test_same_text_positive_needs_ids():
    with pytest.raises(ValueError, match='token ids'):
        _model(True).multi_label_contrastive_loss(IMAGE_X, TEXT_X)
