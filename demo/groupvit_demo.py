# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Zero-shot segmentation of images with a trained GroupViT: writes the final group map and the
labelled segmentation as PNGs.

    python demo/groupvit_demo.py IMAGE [IMAGE ...] CONFIG CHECKPOINT
        [--classes ball box ...] [--background none|NAME] [--out-dir outputs]
        [--bg-thresh 0.95] [--device cpu]

CONFIG is a zero-shot config (e.g. configs/groupvit/groupvit_gcc-yfcc_zeroshot_voc.py); its
class names are used unless ``--classes`` is given. Background is explicit: ``--background
NAME`` makes the class NAME (one of the classes) background (never prompted, predicted where
every class scores below ``--bg-thresh``), ``--background none`` prompts every class. Without
``--background``, a class named ``background`` is the background if ``--classes`` lists one,
else there is none, so ``--classes ball box`` never turns ``ball`` into background; without
``--classes`` the config's rule applies. The demo prints the rule it uses. Outputs:
``<stem>_groups.png`` (one colour per group token), ``<stem>_seg.png`` (palette PNG, pixel
value = class index) and ``<stem>_seg_color.png`` (the segmentation blended over the image). IMAGE may be several files and / or folders (their
image files, sorted). An image that cannot be read (missing, empty, not an image, truncated) does
not stop the others: every readable image is segmented, then the demo lists the failures (path
and reason) and exits with status 1.
"""
import argparse
import os
import os.path as osp
import sys

import numpy as np
import torch
import torch.nn.functional as F

REPO_ROOT = osp.dirname(osp.dirname(osp.realpath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='GroupViT zero-shot segmentation demo')
    parser.add_argument('image', nargs='+', help='image files and / or folders of images')
    parser.add_argument('config', help='zero-shot GroupViTSegmentor config')
    parser.add_argument('checkpoint', help='GroupViT checkpoint (training or converted)')
    parser.add_argument('--classes', nargs='+', help='class names (default: the config\'s)')
    parser.add_argument(
        '--background',
        help="the background class: a name among the classes (not prompted, predicted below "
        "--bg-thresh), or 'none' (every class is prompted). Default: the class named "
        "'background' if there is one, else none (with --classes); the config's rule otherwise")
    parser.add_argument('--out-dir', default='outputs', help='where the PNGs go')
    parser.add_argument('--bg-thresh', type=float,
                        help='override the background threshold (with a background class)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    return parser.parse_args(argv)


def palette(num: int, seed: int = 3) -> np.ndarray:
    """``[num, 3]`` uint8 colours; entry 0 is black (background)."""
    colours = np.random.default_rng(seed).integers(40, 256, size=(max(num, 1), 3))
    colours[0] = 0
    return colours.astype(np.uint8)


def build_model(config: str, checkpoint: str, classes=None, bg_thresh=None, device='cpu',
                background=None):
    """Build the segmentor of ``config`` with ``checkpoint``.

    ``background``: None keeps the config's rule, unless ``classes`` are given (then the class
    named 'background', if any); ``'none'`` no background class; a name: that class.
    """
    from mmengine.config import Config
    from mmengine.runner import load_checkpoint

    from mmgen_vision.registry import MODELS
    from mmgen_vision.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(config)
    if cfg.get('custom_imports'):
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**cfg.custom_imports)
    if classes:
        cfg.model.class_names = list(classes)
    if classes or background is not None:
        cfg.model.with_bg = None  # the config's legacy "first class is background" switch
        cfg.model.background = 'background' if background is None else (
            None if background.lower() == 'none' else background)
    if bg_thresh is not None:
        cfg.model.bg_thresh = bg_thresh
    model = MODELS.build(cfg.model)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    return model.to(device).eval()


@torch.no_grad()
def run(model, image):
    """Segment an image file or a BGR array.

    Returns:
        tuple: ``(image_bgr [H, W, 3], group_map [H, W], seg [H, W])``.

    Raises:
        ImageReadError: The image cannot be read (the message names it and why).
    """
    from mmgen_vision.utils.image_io import read_image
    img = read_image(image, channel_order='bgr')
    data = dict(inputs=[torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))])
    inputs = model.data_preprocessor(data, False)['inputs']
    result = model.predict(inputs)[0]
    seg = result.pred_sem_seg.data[0].cpu().numpy().astype(np.uint8)
    x = model._resize_short_side(inputs)
    groups = model.group_map(x)[:, None].float()
    groups = F.interpolate(groups, size=img.shape[:2], mode='nearest')[0, 0]
    return img, groups.long().cpu().numpy(), seg


def save_outputs(img, groups, seg, num_classes: int, out_dir: str, stem: str) -> dict:
    from PIL import Image
    os.makedirs(out_dir, exist_ok=True)
    paths = {}
    group_colours = palette(int(groups.max()) + 2, seed=11)[1:]
    paths['groups'] = osp.join(out_dir, f'{stem}_groups.png')
    Image.fromarray(group_colours[groups]).save(paths['groups'])
    colours = palette(num_classes)
    seg_png = Image.fromarray(seg, mode='P')
    flat = np.zeros((256, 3), dtype=np.uint8)
    flat[:len(colours)] = colours
    seg_png.putpalette(flat.reshape(-1).tolist())
    paths['seg'] = osp.join(out_dir, f'{stem}_seg.png')
    seg_png.save(paths['seg'])
    rgb = img[..., ::-1].astype(np.float32)
    blend = (0.5 * rgb + 0.5 * colours[seg].astype(np.float32)).astype(np.uint8)
    paths['seg_color'] = osp.join(out_dir, f'{stem}_seg_color.png')
    Image.fromarray(blend).save(paths['seg_color'])
    return paths


def main(argv=None) -> None:
    """Segment every readable image; exit with status 1, listing the unreadable ones, if any."""
    from mmgen_vision.utils.image_io import ImageReadError, expand_image_inputs, failure_report
    args = parse_args(argv)
    model = build_model(args.config, args.checkpoint, args.classes, args.bg_thresh, args.device,
                        args.background)
    names = list(model.all_class_names)
    print(f'classes: {", ".join(names)}; {model.background_rule}')
    images = expand_image_inputs(args.image)
    failures = []
    for image in images:
        try:
            img, groups, seg = run(model, image)
        except ImageReadError as err:
            failures.append(err)
            continue
        stem = osp.splitext(osp.basename(image))[0]
        paths = save_outputs(img, groups, seg, len(names), args.out_dir, stem)
        found = [names[i] for i in np.unique(seg) if i < len(names)]
        if len(images) > 1:
            print(f'== {image}')
        print(f'{len(np.unique(groups))} groups; classes found: {", ".join(found)}')
        for kind, path in paths.items():
            print(f'{kind}: {path}')
    if failures:
        raise SystemExit(failure_report(failures, len(images)))


if __name__ == '__main__':
    main()
