# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GroupViT's multi-label contrastive loss against hand-computed values, in the release's form
with ``multi_label_same_text_positive`` (identical prompts are positives) and with
``multi_label_same_noun_positive`` (a noun prompt is a positive of every image whose caption
names the noun)."""
import math

import pytest
import torch

from mmgen_vision.models.groupvit import GroupViT
from mmgen_vision.models.groupvit.losses import same_noun_targets, same_text_targets

TINY = dict(
    image_encoder=dict(img_size=32, patch_size=4, embed_dims=32, depths=(1, 1), num_heads=2,
                       num_group_tokens=(4, 0), num_output_groups=(4, ), drop_path_rate=0.),
    text_encoder=dict(context_length=8, vocab_size=49408, width=32, layers=1),
    output_dim=2, proj_hidden_channels=8, multi_label=1)


def _model(same_text: bool, same_noun: bool = False) -> GroupViT:
    model = GroupViT(multi_label_same_text_positive=same_text,
                     multi_label_same_noun_positive=same_noun, **TINY)
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


# noun identities: both images' prompts name "circle" (id 7) with DIFFERENT templates
NOUN_IDS = torch.tensor([[7], [7]])  # [B, K]
BOTH_CIRCLE = torch.tensor([[7, 3, -1], [7, -1, -1]])  # caption nouns [B, M]


def test_same_noun_ignores_templates():
    """Different templates of the same noun: same-text calls them negatives (the release's
    loss), same-noun calls them positives, exactly like identical prompts under same-text."""
    same_text = _model(True).multi_label_contrastive_loss(IMAGE_X, TEXT_X,
                                                           text_ids=DIFFERENT_IDS)
    assert same_text.item() == pytest.approx(math.log(1 + math.e) - 1, abs=1e-6)
    same_noun = _model(False, same_noun=True).multi_label_contrastive_loss(
        IMAGE_X, TEXT_X, noun_ids=NOUN_IDS, caption_noun_ids=BOTH_CIRCLE)
    assert same_noun.item() == pytest.approx(math.log(1 + math.e) - 0.5, abs=1e-6)


def test_same_noun_follows_the_caption_nouns():
    # image 0 prompts "circle" (7), image 1 prompts "box" (4); only image 0's caption names
    # both. Rows: image 0 has positives {p0, p1}, image 1 {p1}; prompt p0 has {image 0},
    # p1 {image 0, image 1}. Each side: mean of (log(1+e) - 1/2) and (log(1+e) - 1).
    loss = _model(False, same_noun=True).multi_label_contrastive_loss(
        IMAGE_X, TEXT_X, noun_ids=torch.tensor([[7], [4]]),
        caption_noun_ids=torch.tensor([[7, 4, -1], [4, -1, -1]]))
    assert loss.item() == pytest.approx(math.log(1 + math.e) - 0.75, abs=1e-6)
    # distinct nouns that no other caption names: the release form
    loss = _model(False, same_noun=True).multi_label_contrastive_loss(
        IMAGE_X, TEXT_X, noun_ids=torch.tensor([[7], [4]]),
        caption_noun_ids=torch.tensor([[7, 3, -1], [4, -1, -1]]))
    assert loss.item() == pytest.approx(math.log(1 + math.e) - 1, abs=1e-6)


def test_same_noun_targets_multi_hot():
    prompt_nouns = torch.tensor([7, -1, 4, 9])  # -1: a caption filler, no noun
    captions = torch.tensor([[7, 4, -1], [9, -1, -1]])
    own = torch.tensor([[1, 1, 0, 0], [0, 0, 1, 1]], dtype=torch.bool)
    targets = same_noun_targets(prompt_nouns, captions, own)
    assert targets.tolist() == [[1, 1, 1, 0], [0, 0, 1, 1]]
    # -1 padding of a caption never matches a filler prompt
    assert same_noun_targets(torch.tensor([-1]), torch.tensor([[-1]]),
                             torch.tensor([[False]])).item() == 0


def test_same_noun_needs_ids_and_excludes_same_text():
    with pytest.raises(ValueError, match='noun_ids'):
        _model(False, same_noun=True).multi_label_contrastive_loss(IMAGE_X, TEXT_X)
    with pytest.raises(ValueError, match='choose one'):
        _model(True, same_noun=True)


def test_extract_nouns_records_noun_identities():
    from mmgen_vision.datasets.transforms.image_text import ExtractNouns, noun_id
    out = ExtractNouns(num_nouns=5, max_caption_nouns=6)(
        dict(text='A red circle and a blue square under a sky.'))
    nouns = set(out['nouns'])
    assert {'circle', 'square', 'sky'} <= nouns
    ids = out['multi_label_noun_ids']
    assert len(ids) == 5 and ids[len(out['nouns']):] == [-1] * (5 - len(out['nouns']))
    assert sorted(ids[:len(out['nouns'])]) == sorted(noun_id(n) for n in out['nouns'])
    assert len(out['caption_noun_ids']) == 6
    assert set(out['caption_noun_ids']) - {-1} == {noun_id(n) for n in nouns}
    assert noun_id('Circle ') == noun_id('circle') != noun_id('square')


# Segment-noun loss (not in the paper): image 0 has a segment along each prompt, image 1 has
# both segments along prompt 1.
SEGMENTS = torch.tensor([[[1., 0.], [0., 1.]], [[0., 1.], [0., 1.]]])  # [B=2, S=2, D=2]


def _segment_model(weight: float = 1., **kwargs) -> GroupViT:
    model = GroupViT(segment_noun_loss_weight=weight, **TINY, **kwargs)
    with torch.no_grad():
        model.multi_label_logit_scale.zero_()
    return model


def test_segment_noun_loss_takes_the_best_segment():
    # best-segment cosines, image side [[1, 1], [0, 1]], text side [[1, 0], [1, 1]]; release
    # targets (own prompt / own image): rows log 2 and log(1 + e) - 1 on each side
    loss = _segment_model(0.5).segment_noun_loss(SEGMENTS, TEXT_X)
    expected = 0.5 * (math.log(2) + math.log(1 + math.e) - 1)
    assert loss.item() == pytest.approx(0.5 * expected, abs=1e-6)
    # same-noun targets as in the pooled loss: both prompts name "circle" -> all positives
    loss = _segment_model(multi_label_same_noun_positive=True).segment_noun_loss(
        SEGMENTS, TEXT_X, noun_ids=NOUN_IDS, caption_noun_ids=BOTH_CIRCLE)
    # image rows: -(1/2)(log(e/2e) + log(e/2e)) = log 2 and -(1/2)(log(1/(1+e)) +
    # log(e/(1+e))) = log(1 + e) - 1/2; text rows: log(1 + e) - 1/2 and log 2
    assert loss.item() == pytest.approx(0.5 * (math.log(2) + math.log(1 + math.e)) - 0.25,
                                        abs=1e-6)


def test_segment_noun_loss_trains_only_the_matching_segment():
    # two images, one prompt each ([1, 0] and [0, 1]); image 0's segment 0 is its best match
    # for both prompts, its segment 1 (along [-1, 0]) is the best match of none: no gradient
    segments = torch.tensor([[[0.8, 0.6], [-1., 0.]], [[0.6, 0.8], [0.8, 0.6]]])
    segments.requires_grad_()
    _segment_model().segment_noun_loss(segments, TEXT_X).backward()
    assert segments.grad[0, 0].abs().sum() > 0
    assert segments.grad[0, 1].abs().sum() == 0


def test_segment_noun_loss_in_the_training_losses():
    model = _segment_model(multi_label_same_noun_positive=False)
    image = torch.randn(2, 3, 32, 32)
    text = torch.randint(1, 400, (2, 2, 8))
    assert set(model.loss(image, text)) == {'loss', 'multi_label_loss', 'segment_noun_loss'}
    assert set(_segment_model(0.).loss(image, text)) == {'loss', 'multi_label_loss'}
    with pytest.raises(ValueError, match='multi_label > 0'):
        GroupViT(segment_noun_loss_weight=1., **dict(TINY, multi_label=0))
