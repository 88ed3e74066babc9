# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Build "a dataset of your own" from ShapesWorld for the tests of issue 15.

The classes are renamed to names that appear nowhere in ShapesWorld, their list does not
start with background, and star / person are dropped (their pixels become 255, ignore):

    ShapesWorld  circle  square  triangle  sky      ground
    own data     ball    crate   pyramid   heavens  floor

GroupViT's zero-shot run uses a 4-class variant that merges sky and ground into one class
named ``backdrop`` (listed last, picked by ``background='backdrop'``): a model trained on
captions can prompt the shapes, while sky and ground are the background of its threshold rule.
Its captions are renamed the same way (``make_caption_csv``).

``make_coco_own`` rewrites ShapesWorld's COCO instances as a user's own COCO files: the five
thing classes renamed (ball, crate, pyramid, spike, walker) at category ids 10 / 20 / 30 / 45 / 7.
"""
import csv
import glob
import json
import os
import os.path as osp
import shutil

import numpy as np
from PIL import Image

#: The renamed 5-class list (what a user writes into metainfo / classes.txt).
OWN_CLASSES = ('ball', 'crate', 'pyramid', 'heavens', 'floor')
#: ShapesWorld ADE label (1..7, 0 unlabelled) -> own class index (255 = ignore).
ADE_TO_OWN = {1: 0, 2: 1, 3: 2, 6: 3, 7: 4}
#: GroupViT's variant: the shapes, then sky and ground merged into ``backdrop``.
BACKDROP_CLASSES = ('ball', 'crate', 'pyramid', 'backdrop')
ADE_TO_BACKDROP = {1: 0, 2: 1, 3: 2, 6: 3, 7: 3}
#: Caption words renamed like the classes (plurals follow: circles -> balls).
CAPTION_RENAME = (('circle', 'ball'), ('square', 'crate'), ('triangle', 'pyramid'))


def remap_ade_mask(ade_mask: np.ndarray, zero_is_background: bool,
                   label_map: dict = ADE_TO_OWN) -> np.ndarray:
    """A ShapesWorld ADE annotation as an own-data index mask (``label_map``: ADE label ->
    own index; any other label becomes 255, or 0 with ``zero_is_background``)."""
    out = np.full(ade_mask.shape, 255, dtype=np.uint8)
    for ade, own in label_map.items():
        out[ade_mask == ade] = own + 1 if zero_is_background else own
    if zero_is_background:
        # unlabelled / dropped classes are the background 0 that the dataset ignores
        out[out == 255] = 0
    return out


def make_seg_folder(shapesworld_root: str, out: str, zero_is_background: bool = False,
                    write_classes_txt: bool = True, classes: tuple = OWN_CLASSES,
                    label_map: dict = ADE_TO_OWN, splits: tuple = ('train', 'val')) -> str:
    """Write ``out/{images,masks}/{train,val}/`` (+ ``classes.txt``) from ShapesWorld's ADE data.

    ``classes`` / ``label_map``: the class list and the ADE label -> index map (defaults: the
    5 renamed classes; ``BACKDROP_CLASSES`` / ``ADE_TO_BACKDROP`` for GroupViT's variant);
    ``splits``: the splits written (a zero-shot test needs only ``('val', )``).

    Returns:
        str: ``out``.
    """
    ade = osp.join(shapesworld_root, 'ade', 'ADEChallengeData2016')
    for split, ade_split in (('train', 'training'), ('val', 'validation')):
        if split not in splits:
            continue
        os.makedirs(osp.join(out, 'images', split), exist_ok=True)
        os.makedirs(osp.join(out, 'masks', split), exist_ok=True)
        for img_path in sorted(glob.glob(osp.join(ade, 'images', ade_split, '*.jpg'))):
            stem = osp.splitext(osp.basename(img_path))[0]
            Image.open(img_path).save(osp.join(out, 'images', split, f'own_{stem}.png'))
            mask = np.asarray(Image.open(osp.join(ade, 'annotations', ade_split, f'{stem}.png')))
            Image.fromarray(remap_ade_mask(mask, zero_is_background, label_map)).save(
                osp.join(out, 'masks', split, f'own_{stem}.png'))
    if write_classes_txt:
        with open(osp.join(out, 'classes.txt'), 'w') as f:
            f.write('\n'.join(classes) + '\n')
    return out


def make_caption_csv(coco_root: str, out: str) -> str:
    """Write ``out/captions.csv`` (``image,caption`` rows) + ``out/images/`` from ShapesWorld's
    COCO captions: one row per training image with its first caption (the scene description,
    the caption ShapesWorld's image-text shards carry), the shape words renamed
    (``CAPTION_RENAME``).

    Returns:
        str: ``out``.
    """
    with open(osp.join(coco_root, 'annotations', 'captions_train2017.json')) as f:
        captions = json.load(f)
    files = {img['id']: img['file_name'] for img in captions['images']}
    os.makedirs(osp.join(out, 'images'), exist_ok=True)
    seen = set()
    with open(osp.join(out, 'captions.csv'), 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['image', 'caption'])
        for ann in captions['annotations']:
            name = files[ann['image_id']]
            if name in seen:
                continue
            seen.add(name)
            shutil.copyfile(osp.join(coco_root, 'train2017', name),
                            osp.join(out, 'images', name))
            text = ann['caption']
            for old, new in CAPTION_RENAME:
                text = text.replace(old, new)
            writer.writerow([name, text])
    return out


#: ShapesWorld COCO category name -> (own name, own category id): ids that are neither
#: contiguous, nor sorted, nor start at 1. The json lists the categories in this order, which
#: is the label order (mmdet's ``CocoDataset`` numbers the labels in the json's order).
COCO_TO_OWN = {'circle': ('ball', 10), 'square': ('crate', 20), 'triangle': ('pyramid', 30),
               'star': ('spike', 45), 'person': ('walker', 7)}


def make_coco_own(coco_root: str, out: str, rename: dict = COCO_TO_OWN) -> str:
    """Write ``out/{train,val}/`` images + ``out/annotations/{train,val}.json`` from
    ShapesWorld's COCO instances: the categories of ``rename`` under their own names and ids
    (the others' annotations are dropped; images without any kept object stay in the file).

    Returns:
        str: ``out``.
    """
    os.makedirs(osp.join(out, 'annotations'), exist_ok=True)
    for split in ('train', 'val'):
        with open(osp.join(coco_root, 'annotations', f'instances_{split}2017.json')) as f:
            coco = json.load(f)
        old_names = {c['id']: c['name'] for c in coco['categories']}
        os.makedirs(osp.join(out, split), exist_ok=True)
        for img in coco['images']:
            shutil.copyfile(osp.join(coco_root, f'{split}2017', img['file_name']),
                            osp.join(out, split, img['file_name']))
        anns = []
        for ann in coco['annotations']:
            name = old_names[ann['category_id']]
            if name in rename:
                anns.append(dict(ann, category_id=rename[name][1]))
        categories = [dict(id=new_id, name=new_name, supercategory='object')
                      for new_name, new_id in rename.values()]
        with open(osp.join(out, 'annotations', f'{split}.json'), 'w') as f:
            json.dump(dict(images=coco['images'], annotations=anns, categories=categories), f)
    return out


#: ShapesWorld's stuff categories for the panoptic files: own names at ids 200 / 3 (a stuff id
#: below the thing ids too). Things first, then stuff: the json's order is the label order.
COCO_STUFF_TO_OWN = {'sky': ('heavens', 200), 'ground': ('floor', 3)}


def make_coco_panoptic_own(coco_root: str, out: str, rename: dict = None) -> str:
    """Write ``out/{train,val}/`` images and ``out/annotations/panoptic_{train,val}.json`` +
    ``panoptic_{train,val}/`` PNGs from ShapesWorld's COCO panoptic files, every category
    renamed and re-numbered by ``rename`` (default: ``COCO_TO_OWN`` things, then
    ``COCO_STUFF_TO_OWN``), listed in that order. The PNGs encode segment ids, not category
    ids, so they are copied unchanged; ``segments_info`` carries the new category ids.

    Returns:
        str: ``out``.
    """
    rename = rename or {**COCO_TO_OWN, **COCO_STUFF_TO_OWN}
    os.makedirs(osp.join(out, 'annotations'), exist_ok=True)
    for split in ('train', 'val'):
        with open(osp.join(coco_root, 'annotations', f'panoptic_{split}2017.json')) as f:
            coco = json.load(f)
        old = {c['id']: c for c in coco['categories']}
        shutil.copytree(osp.join(coco_root, f'{split}2017'), osp.join(out, split))
        shutil.copytree(osp.join(coco_root, 'annotations', f'panoptic_{split}2017'),
                        osp.join(out, 'annotations', f'panoptic_{split}'))
        new_id = {cat_id: rename[c['name']][1] for cat_id, c in old.items()}
        for ann in coco['annotations']:
            ann['segments_info'] = [dict(s, category_id=new_id[s['category_id']])
                                    for s in ann['segments_info']]
        by_name = {c['name']: c for c in old.values()}
        coco['categories'] = [
            dict(id=own_id, name=own_name, supercategory=own_name,
                 isthing=by_name[name]['isthing'], color=by_name[name]['color'])
            for name, (own_name, own_id) in rename.items()]
        with open(osp.join(out, 'annotations', f'panoptic_{split}.json'), 'w') as f:
            json.dump(coco, f)
    return out


def _panoptic_labels(png_path: str, segments_info: list, categories: list) -> np.ndarray:
    """``(H, W)`` label map (index into ``categories``, -1 unlabelled) of a COCO panoptic PNG."""
    from mmgen_vision.utils import rgb_to_id
    ids = rgb_to_id(np.asarray(Image.open(png_path).convert('RGB')))
    index = {c['id']: i for i, c in enumerate(categories)}
    labels = np.full(ids.shape, -1, dtype=np.int64)
    for segment in segments_info:
        labels[ids == segment['id']] = index[segment['category_id']]
    return labels


def prior_pq(data_root: str, out_dir: str) -> dict:
    """Chance level of a panoptic segmenter on ``make_coco_panoptic_own``'s files: PQ / PQ_th /
    PQ_st (percent, as ``mmdet.CocoPanopticMetric``) of one that knows only the training
    annotations. Every val image gets the same prediction: at each pixel the category most
    often there in the train PNGs (resized to the val size, nearest), one segment per
    category. Scored by mmdet's ``pq_compute_single_core`` (the metric's own function)."""
    from mmdet.evaluation.functional import pq_compute_single_core

    from mmgen_vision.utils import id_to_rgb, install_panopticapi_fallback
    install_panopticapi_fallback()  # PQStat, as the metric gets it (panopticapi is not on PyPI)
    ann_dir = osp.join(data_root, 'annotations')
    with open(osp.join(ann_dir, 'panoptic_train.json')) as f:
        train = json.load(f)
    with open(osp.join(ann_dir, 'panoptic_val.json')) as f:
        val = json.load(f)
    categories = train['categories']
    by_id = {c['id']: c for c in categories}
    height, width = val['images'][0]['height'], val['images'][0]['width']
    counts = np.zeros((len(categories), height, width), dtype=np.int64)
    for ann in train['annotations']:
        labels = _panoptic_labels(osp.join(ann_dir, 'panoptic_train', ann['file_name']),
                                  ann['segments_info'], categories)
        labels = np.asarray(Image.fromarray(labels.astype(np.int32)).resize(
            (width, height), Image.NEAREST))
        for i in range(len(categories)):
            counts[i] += labels == i
    prior = counts.argmax(0)
    png = id_to_rgb(prior + 1)  # segment id = category index + 1
    segments = [dict(id=int(i) + 1, category_id=categories[i]['id']) for i in np.unique(prior)]
    os.makedirs(out_dir, exist_ok=True)
    matched = []
    for ann in val['annotations']:
        Image.fromarray(png).save(osp.join(out_dir, ann['file_name']))
        matched.append((ann, dict(ann, segments_info=segments)))
    stat = pq_compute_single_core(0, matched, osp.join(ann_dir, 'panoptic_val'), out_dir, by_id)
    return {key: 100 * stat.pq_average(by_id, isthing)[0]['pq']
            for key, isthing in (('PQ', None), ('PQ_th', True), ('PQ_st', False))}


def train_and_test(config: str, tmp_path, max_iters: int, env: dict) -> tuple:
    """``tools/train.py config --max-iters max_iters`` (no validation during training), then
    ``tools/test.py`` on its last checkpoint with the evaluator's files written under
    ``<test dir>/preds``. Returns ``(metrics, test_dir)``."""
    from conftest import latest_metrics, run_tool
    work_dir = str(tmp_path / 'work')
    run_tool(['tools/train.py', config, '--work-dir', work_dir, '--max-iters', str(max_iters),
              '--cfg-options', f'train_cfg.val_interval={max_iters + 1}'], env=env, timeout=600)
    test_dir = str(tmp_path / 'test')
    run_tool(['tools/test.py', config, osp.join(work_dir, f'iter_{max_iters}.pth'),
              '--work-dir', test_dir, '--cfg-options',
              f'test_evaluator.outfile_prefix={test_dir}/preds'], env=env, timeout=600)
    return latest_metrics(test_dir), test_dir


def assert_own_category_ids(predictions_json: str, rename: dict = COCO_TO_OWN) -> None:
    """The predictions that ``mmdet.CocoMetric`` wrote (``outfile_prefix``) carry the json's own
    category ids (more than one of them), not label indices."""
    with open(predictions_json) as f:
        predicted_ids = {p['category_id'] for p in json.load(f)}
    own_ids = {new_id for _, new_id in rename.values()}
    assert predicted_ids <= own_ids and len(predicted_ids) > 1, predicted_ids


def prior_ap50(train_json: str, val_json: str, iou_type: str = 'bbox') -> float:
    """Chance level of a COCO detector / instance segmenter: AP@0.5 (pycocotools, as
    ``mmdet.CocoMetric``) of one that knows only the training annotations. On every val image,
    for each category, it predicts the category's mean train box ``(x, y, w, h)`` (for
    ``iou_type='segm'``: that box filled as a mask), scored by the category's share of the
    train objects. A model without predictions scores 0."""
    import contextlib
    import io

    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    with open(train_json) as f:
        train = json.load(f)
    boxes = {c['id']: [] for c in train['categories']}
    for ann in train['annotations']:
        boxes[ann['category_id']].append(ann['bbox'])
    total = sum(len(b) for b in boxes.values())
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(val_json)
        preds = []
        for img_id in gt.getImgIds():
            height, width = gt.imgs[img_id]['height'], gt.imgs[img_id]['width']
            for cat, cat_boxes in boxes.items():
                if not cat_boxes:
                    continue
                x, y, w, h = (float(v) for v in np.mean(cat_boxes, axis=0))
                pred = dict(image_id=img_id, category_id=cat, score=len(cat_boxes) / total,
                            bbox=[x, y, w, h])
                if iou_type == 'segm':
                    polygon = [[x, y, x + w, y, x + w, y + h, x, y + h]]
                    rle = mask_utils.merge(mask_utils.frPyObjects(polygon, height, width))
                    pred['segmentation'] = dict(rle, counts=rle['counts'].decode())
                preds.append(pred)
        evaluator = COCOeval(gt, gt.loadRes(preds), iou_type)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return float(evaluator.stats[1])


def majority_miou(mask_dir: str, num_classes: int, zero_is_background: bool = False) -> float:
    """Chance level: mIoU (percent) of predicting the most frequent class for every pixel.

    mmseg's IoUMetric averages over the classes present in the ground truth; the majority
    class scores (its pixels / all pixels), every other class 0.
    """
    counts = np.zeros(num_classes, dtype=np.int64)
    for path in glob.glob(osp.join(mask_dir, '*.png')):
        labels = np.asarray(Image.open(path)).astype(np.int64)
        if zero_is_background:
            labels = labels - 1
        labels = labels[(labels >= 0) & (labels < num_classes)]
        counts += np.bincount(labels, minlength=num_classes)
    return 100.0 * counts.max() / counts.sum() / (counts > 0).sum()
