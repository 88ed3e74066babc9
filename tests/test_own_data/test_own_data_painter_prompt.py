# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Painter prompts from a label mask (issue 15): a prompt target given as an index mask is
encoded by the task's codec (and the Inferencer / demo say which codec), an already-encoded
painting is detected and used as is."""
import numpy as np
import pytest
import torch
from PIL import Image

from conftest import run_tool
from mmgen_vision.apis import PainterInferencer
from mmgen_vision.datasets.painter_prompt import encode_prompt_target, load_prompt_pair
from mmgen_vision.models.codecs import SemanticCodec
from mmgen_vision.registry import MODELS
from mmgen_vision.utils import register_all_modules

CODEC = SemanticCodec(num_classes=5)


def _mask(seed=0, size=(16, 16)):
    mask = np.random.default_rng(seed).integers(0, 5, size).astype(np.uint8)
    mask[:2] = 255  # unlabelled rows
    return mask


def _save_palette_png(mask, path):
    png = Image.fromarray(mask, mode='P')
    png.putpalette([v for i in range(256) for v in ((i * 50) % 256, (i * 80) % 256, 30)])
    png.save(path)


@pytest.mark.parametrize('kind', ['grey', 'palette', 'rgb'])
def test_label_mask_files_are_encoded_by_the_codec(tmp_path, kind):
    mask = _mask()
    img_path, target_path = str(tmp_path / 'img.png'), str(tmp_path / f'mask_{kind}.png')
    Image.fromarray(np.full((16, 16, 3), 90, np.uint8)).save(img_path)
    if kind == 'grey':
        Image.fromarray(mask).save(target_path)
    elif kind == 'palette':  # VOC-style: indices with a colour table
        _save_palette_png(mask, target_path)
    else:  # a mask saved as three equal channels
        Image.fromarray(np.dstack([mask] * 3)).save(target_path)
    _, target, _ = load_prompt_pair(CODEC, (16, 16), img_path=img_path, target_path=target_path)
    expected, _ = CODEC.encode(dict(gt_seg_map=mask.astype(np.int64)))
    np.testing.assert_array_equal(target, expected)
    # the painting decodes back to the mask where labelled
    labels = CODEC.decode(torch.from_numpy(target.transpose(2, 0, 1).copy())).numpy()
    np.testing.assert_array_equal(labels[2:], mask[2:])


def test_encoded_painting_is_detected_and_kept(tmp_path):
    painting, _ = CODEC.encode(dict(gt_seg_map=_mask(1).astype(np.int64)))
    # from a file: colours as stored (RGB), not as a label mask
    img_path, target_path = str(tmp_path / 'img.png'), str(tmp_path / 'painting.png')
    Image.fromarray(np.full((16, 16, 3), 90, np.uint8)).save(img_path)
    Image.fromarray(painting).save(target_path)
    _, target, _ = load_prompt_pair(CODEC, (16, 16), img_path=img_path, target_path=target_path)
    np.testing.assert_array_equal(target, painting)
    other = np.random.default_rng(3).integers(0, 255, (16, 16, 3), np.uint8)  # any picture
    Image.fromarray(other).save(target_path)
    _, target, _ = load_prompt_pair(CODEC, (16, 16), img_path=img_path, target_path=target_path)
    np.testing.assert_array_equal(target, other)
    target, how = encode_prompt_target(painting, CODEC)
    np.testing.assert_array_equal(target, painting)
    assert how == 'an encoded painting of SemanticCodec(num_classes=5), used as is'
    _, how = encode_prompt_target(_mask(1), CODEC)
    assert how == 'encoded from a label mask by SemanticCodec(num_classes=5)'
    with pytest.raises(ValueError, match=r'values \[7\] that are no class'):
        encode_prompt_target(np.full((4, 4), 7, np.uint8), CODEC, 'm.png')


def test_inferencer_and_demo_encode_a_mask_prompt_and_say_so(tmp_path):
    register_all_modules()
    cfg = dict(
        type='Painter',
        backbone=dict(type='PainterViT', img_size=(32, 16), patch_size=4, embed_dims=32,
                      num_layers=5, num_heads=2, drop_path_rate=0., pretrain_img_size=16,
                      merge_index=1, out_indices=(1, 2, 3, 4)),
        head=dict(type='PainterHead', in_channels=32, num_taps=4, patch_size=4, embed_dims=8),
        codecs=dict(semantic=dict(type='SemanticCodec', num_classes=5)))
    config = tmp_path / 'painter_tiny.py'
    config.write_text(f"default_scope = 'mmgen_vision'\nmodel = {cfg!r}\n")
    torch.manual_seed(0)
    checkpoint = str(tmp_path / 'tiny.pth')
    torch.save({'state_dict': MODELS.build(cfg).state_dict(), 'meta': {}}, checkpoint)
    img, mask = str(tmp_path / 'img.png'), str(tmp_path / 'mask.png')
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (16, 16, 3), np.uint8)).save(img)
    Image.fromarray(_mask()).save(mask)
    inferencer = PainterInferencer(str(config), checkpoint)
    from_mask = inferencer(img, mask, img, task='semantic')
    assert from_mask['prompt_target_encoding'] == (
        'encoded from a label mask by SemanticCodec(num_classes=5)')
    painting, _ = CODEC.encode(dict(gt_seg_map=_mask().astype(np.int64)))
    from_painting = inferencer(img, painting, img, task='semantic')
    assert 'used as is' in from_painting['prompt_target_encoding']
    # the mask prompt and its painting prompt the model identically
    np.testing.assert_array_equal(from_mask['predictions'][0], from_painting['predictions'][0])
    proc = run_tool(['demo/painter_demo.py', str(config), checkpoint, '--prompt-img', img,
                     '--prompt-target', mask, '--queries', img, '--task', 'semantic',
                     '--out-dir', str(tmp_path / 'demo')])
    assert 'prompt target: encoded from a label mask by SemanticCodec(num_classes=5)' in \
        proc.stdout
