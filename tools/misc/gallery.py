# Copyright (c) mmgen_vision contributors. All rights reserved.
"""A static gallery of a trained model's predictions on a few val scenes.

    python tools/misc/gallery.py METHOD CONFIG CHECKPOINT --out-dir DIR [--num-scenes 4]
        [--title TEXT] [--notes TEXT ...] [--cfg-options KEY=VALUE ...]

METHOD is one of ``painter``, ``xdecoder``, ``groupvit``, ``glid``, ``peekaboo`` or ``seg`` (any
segmentor config); CONFIG is the test config the metric was computed with and CHECKPOINT its
weights (``none`` for Peekaboo). The first ``--num-scenes`` val scenes (distinct images) of the
config's test dataset are predicted through the project's Inferencers (``PainterInferencer``,
``XDecoderInferencer``, ``SegInferencer``) and drawn next to their ground truth:

- painter: prompt | prompt target | input | ground truth | painting | prediction (the decoded
  labels), under the in-context prompt pair of the test config;
- xdecoder: input | ground truth | prediction with the class names given at test time, and the
  caption the same weights generate for the image;
- groupvit: input | ground truth | group map (the group token every pixel is assigned to) |
  prediction;
- glid: input | ground truth | prediction, with the task;
- peekaboo: input | ground truth | the alpha mask during the optimisation | final alpha |
  prediction, with the referring expression;
- seg: input | ground truth | prediction.

Writes ``DIR/index.html`` (opens in any browser, no server: every picture is a PNG next to it),
``DIR/contact_sheet.png`` (every scene in one picture, text drawn with DejaVu Sans, at most
``--max-kb`` KB) and ``DIR/panels/*.png`` (each panel at its own resolution).
"""
import argparse
import dataclasses
import glob
import html
import io
import os
import os.path as osp
import shutil
import sys
import tempfile
import textwrap
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from mmgen_vision.visualization.text import (default_font_path,  # noqa: E402
                                             drawable_text, text_size)

Color = Tuple[int, int, int]
WHITE, BLACK, GREY = (255, 255, 255), (0, 0, 0), (90, 90, 90)


# ------------------------------------------------------------------------- the gallery model
@dataclasses.dataclass
class Scene:
    """One row of the gallery.

    Args:
        name (str): The scene (e.g. the image's file name).
        panels (list[tuple[str, np.ndarray]]): ``(column title, uint8 RGB (H, W, 3) or grey
            (H, W) image)`` in column order; every scene of a gallery has the same titles.
        lines (list[str]): Text shown under the row (prompt, expression, caption...).
    """
    name: str
    panels: List[Tuple[str, np.ndarray]]
    lines: List[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Gallery:
    """Everything a gallery page and its contact sheet show.

    Args:
        title (str): Page / sheet title.
        scenes (list[Scene]): The rows.
        notes (list[str]): Paragraphs under the title (what the job is, its metric).
        legend (list[tuple[str, tuple]]): ``(name, RGB colour)`` of the label colours.
    """
    title: str
    scenes: List[Scene]
    notes: List[str] = dataclasses.field(default_factory=list)
    legend: List[Tuple[str, Color]] = dataclasses.field(default_factory=list)

    @property
    def columns(self) -> List[str]:
        """The column titles (those of the first scene; every scene must have the same)."""
        if not self.scenes:
            raise ValueError('a gallery needs at least one scene')
        titles = [t for t, _ in self.scenes[0].panels]
        for scene in self.scenes[1:]:
            if [t for t, _ in scene.panels] != titles:
                raise ValueError(f'scene {scene.name!r} has columns '
                                 f'{[t for t, _ in scene.panels]}, the first scene {titles}')
        return titles


def as_rgb(image: np.ndarray) -> np.ndarray:
    """A grey ``(H, W)`` (uint8, or float in ``[0, 1]``) or RGB image as ``uint8 (H, W, 3)``."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = (np.clip(image.astype(np.float64), 0, 1) * 255).round().astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'expected a (H, W) or (H, W, 3) image, got {image.shape}')
    return np.ascontiguousarray(image)


# ------------------------------------------------------------------------- drawing
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(default_font_path(), size)


def wrap_text(text: str, width: int, font_size: int) -> List[str]:
    """Greedy word wrap of ``text`` into lines at most ``width`` pixels wide (a word longer
    than a line stays whole)."""
    lines: List[str] = []
    for paragraph in str(text).split('\n'):
        words, line = drawable_text(paragraph).split(' '), ''
        for word in words:
            candidate = f'{line} {word}' if line else word
            if line and text_size(candidate, font_size)[0] > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


def _fit_height(image: np.ndarray, height: int) -> Image.Image:
    """Scale to ``height`` rows, aspect kept; nearest neighbours when enlarging (crisp label
    maps and low-resolution scenes), Lanczos when shrinking."""
    img = Image.fromarray(as_rgb(image))
    width = max(1, round(img.width * height / img.height))
    resample = Image.NEAREST if height >= img.height else Image.LANCZOS
    return img.resize((width, height), resample)


def contact_sheet(gallery: Gallery, cell: int = 128, gap: int = 6, margin: int = 12,
                  font_size: int = 13, min_width: int = 520) -> Image.Image:
    """All scenes of ``gallery`` in one picture: title, notes, column titles, one row of
    panels per scene (``cell`` pixels high) with its text lines, and the colour legend; at
    least ``min_width`` pixels wide (the text wraps at that width).

    Returns:
        PIL.Image.Image: RGB.
    """
    columns = gallery.columns
    rows = [[_fit_height(image, cell) for _, image in scene.panels] for scene in gallery.scenes]
    col_widths = [max(row[c].width for row in rows) for c in range(len(columns))]
    col_widths = [max(w, text_size(t, font_size - 1)[0] + 4) for w, t in zip(col_widths, columns)]
    grid_width = sum(col_widths) + gap * (len(columns) - 1)
    width = max(grid_width, min_width) + 2 * margin
    text_width = width - 2 * margin
    line_h = font_size + 5

    title_size = font_size + 5
    title_lines = wrap_text(gallery.title, text_width, title_size)
    note_lines = [line for note in gallery.notes
                  for line in wrap_text(note, text_width, font_size)]
    height = margin + (title_size + 6) * len(title_lines) + 2 + line_h * len(note_lines) + 8
    height += line_h  # column titles
    scene_lines = [[line for text in [scene.name] + scene.lines
                    for line in wrap_text(text, text_width, font_size - 1)]
                   for scene in gallery.scenes]
    for lines in scene_lines:
        height += cell + 4 + (font_size + 3) * len(lines) + gap * 2
    legend_rows = _legend_layout(gallery.legend, text_width, font_size)
    if legend_rows:
        height += 6 + line_h * len(legend_rows)
    height += margin

    sheet = Image.new('RGB', (width, height), WHITE)
    draw = ImageDraw.Draw(sheet)
    y = margin
    for line in title_lines:
        draw.text((margin, y), line, fill=BLACK, font=_font(title_size))
        y += title_size + 6
    y += 2
    for line in note_lines:
        draw.text((margin, y), line, fill=GREY, font=_font(font_size))
        y += line_h
    y += 8
    x = margin
    for title, w in zip(columns, col_widths):
        tw = text_size(title, font_size - 1)[0]
        draw.text((x + (w - tw) // 2, y), drawable_text(title), fill=BLACK,
                  font=_font(font_size - 1))
        x += w + gap
    y += line_h
    for row, lines in zip(rows, scene_lines):
        x = margin
        for panel, w in zip(row, col_widths):
            sheet.paste(panel, (x + (w - panel.width) // 2, y))
            x += w + gap
        y += cell + 4
        for i, line in enumerate(lines):
            draw.text((margin, y), line, fill=BLACK if i == 0 else GREY,
                      font=_font(font_size - 1))
            y += font_size + 3
        y += gap
        draw.line([(margin, y), (width - margin, y)], fill=(220, 220, 220))
        y += gap
    if legend_rows:
        y += 6
        for legend_row in legend_rows:
            for x, name, colour in legend_row:
                draw.rectangle([margin + x, y + 2, margin + x + font_size - 2, y + font_size],
                               fill=tuple(int(c) for c in colour), outline=GREY)
                draw.text((margin + x + font_size + 3, y), drawable_text(name), fill=BLACK,
                          font=_font(font_size - 1))
            y += line_h
    return sheet


def _legend_layout(legend: Sequence[Tuple[str, Color]], width: int,
                   font_size: int) -> List[List[Tuple[int, str, Color]]]:
    """Swatches flowed into rows: ``[[(x, name, colour), ...], ...]``."""
    rows: List[List[Tuple[int, str, Color]]] = []
    x = width + 1
    for name, colour in legend:
        item = font_size + 3 + text_size(name, font_size - 1)[0] + 16
        if x + item > width:
            rows.append([])
            x = 0
        rows[-1].append((x, name, colour))
        x += item
    return rows


def save_png(image: Image.Image, path: str, max_kb: Optional[float] = None) -> Image.Image:
    """Save ``image`` as PNG, at most ``max_kb`` KB: first as it is, then reduced to an
    adaptive 256-colour palette (invisible on these flat-coloured scenes), then scaled down
    by 10 % steps. Returns what was written."""
    candidates = [image]

    def encoded(img: Image.Image) -> bytes:
        buffer = io.BytesIO()
        img.save(buffer, format='PNG', optimize=True)
        return buffer.getvalue()

    data = encoded(image)
    if max_kb is not None and len(data) > max_kb * 1024:
        scale = 1.0
        while True:
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            img = image if scale == 1.0 else image.resize(size, Image.LANCZOS)
            img = img.quantize(colors=256)
            candidates.append(img)
            data = encoded(img)
            if len(data) <= max_kb * 1024 or min(size) < 64:
                break
            scale *= 0.9
    with open(path, 'wb') as f:
        f.write(data)
    return candidates[-1]


def write_gallery(gallery: Gallery, out_dir: str, max_kb: Optional[float] = 200,
                  cell: int = 128) -> Dict[str, str]:
    """Write ``index.html``, ``contact_sheet.png`` and ``panels/*.png`` into ``out_dir``.

    Returns:
        dict: ``html``, ``contact_sheet`` and ``panels`` (the folder) paths.
    """
    columns = gallery.columns
    panel_dir = osp.join(out_dir, 'panels')
    if osp.isdir(panel_dir):
        shutil.rmtree(panel_dir)  # no stale panels of an earlier run
    os.makedirs(panel_dir)
    sheet_path = osp.join(out_dir, 'contact_sheet.png')
    save_png(contact_sheet(gallery, cell=cell), sheet_path, max_kb)

    esc = html.escape
    parts = [
        '<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
        f'<title>{esc(gallery.title)}</title>',
        '<style>',
        'body { font-family: "DejaVu Sans", Verdana, sans-serif; margin: 24px; color: #222; }',
        'p.note { color: #555; max-width: 70em; }',
        'table { border-collapse: collapse; }',
        'th, td { padding: 4px 6px; text-align: center; vertical-align: top; }',
        'td.text { text-align: left; max-width: 22em; font-size: 90%; }',
        f'td img {{ height: {cell}px; image-rendering: pixelated; }}',
        'img.sheet { max-width: 100%; }',
        'span.swatch { display: inline-block; width: 1em; height: 1em; margin: 0 4px 0 12px;',
        '  border: 1px solid #888; vertical-align: middle; }',
        '</style>', '</head>', '<body>', f'<h1>{esc(gallery.title)}</h1>'
    ]
    parts += [f'<p class="note">{esc(note)}</p>' for note in gallery.notes]
    if gallery.legend:
        parts.append('<p>' + ''.join(
            f'<span class="swatch" style="background: rgb{tuple(int(c) for c in colour)}">'
            f'</span>{esc(name)}' for name, colour in gallery.legend) + '</p>')
    parts.append('<table>')
    parts.append('<tr><th>scene</th>' + ''.join(f'<th>{esc(c)}</th>' for c in columns) +
                 '</tr>')
    for index, scene in enumerate(gallery.scenes):
        cells = []
        for col, (title, image) in enumerate(scene.panels):
            name = f'scene{index}_col{col}.png'
            Image.fromarray(as_rgb(image)).save(osp.join(panel_dir, name))
            cells.append(f'<td><img src="panels/{name}" alt="{esc(scene.name)}: '
                         f'{esc(title)}"></td>')
        text = '<br>'.join(esc(t) for t in [scene.name] + scene.lines)
        parts.append(f'<tr><td class="text">{text}</td>' + ''.join(cells) + '</tr>')
    parts.append('</table>')
    parts.append('<h2>Contact sheet</h2>')
    parts.append('<p><img class="sheet" src="contact_sheet.png" alt="contact sheet"></p>')
    parts += ['</body>', '</html>']
    html_path = osp.join(out_dir, 'index.html')
    with open(html_path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(parts) + '\n')
    return dict(html=html_path, contact_sheet=sheet_path, panels=panel_dir)


# ------------------------------------------------------------------------- data and models
def load_config(config: str, cfg_options: Optional[dict] = None):
    """The config with ``--cfg-options`` merged, the registries ready."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmgen_vision.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmgen_vision'))
    return cfg


def build_test_dataset(cfg):
    """The config's test dataset (its pipeline packs the ground truth the metric reads)."""
    from mmgen_vision.registry import DATASETS
    return DATASETS.build(cfg.test_dataloader.dataset)


def select_scenes(dataset, num: int) -> List[int]:
    """The first ``num`` indices of ``dataset`` with distinct images."""
    indices, seen = [], set()
    for index in range(len(dataset)):
        path = dataset.get_data_info(index)['img_path']
        if path not in seen:
            seen.add(path)
            indices.append(index)
        if len(indices) == num:
            break
    return indices


def scene_truth(dataset, index: int) -> dict:
    """``img`` (RGB at the file's size), ``gt`` (labels at the same size), ``path``, ``meta``
    of a packed test sample."""
    from mmgen_vision.utils.image_io import read_image
    sample = dataset[index]['data_samples']
    path = sample.img_path
    img = read_image(path, channel_order='rgb')
    gt = pixel_labels(sample.gt_sem_seg)
    return dict(img=img, gt=fit_labels(gt, img.shape[:2]), path=path, meta=sample.metainfo)


def pixel_labels(pixel_data) -> np.ndarray:
    """The ``(H, W)`` label map of a ``PixelData``: mmseg packs it as ``data``, mmdet's
    packers as ``sem_seg``."""
    key = 'data' if 'data' in pixel_data else 'sem_seg'
    return pixel_data.get(key)[0].cpu().numpy()


def fit_labels(labels: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Labels resized (nearest) to ``shape`` (H, W) where they differ."""
    labels = np.asarray(labels)
    if labels.shape == tuple(shape):
        return labels
    img = Image.fromarray(labels.astype(np.int32), mode='I')
    return np.asarray(img.resize((shape[1], shape[0]), Image.NEAREST)).astype(labels.dtype)


def colorize(labels: np.ndarray, palette: Sequence[Sequence[int]]) -> np.ndarray:
    """Labels painted with ``palette`` (ignored / unknown labels black)."""
    from mmgen_vision.visualization import colorize_label_map
    return colorize_label_map(labels, palette)


def class_palette(classes: Sequence[str], palette: Optional[Sequence] = None) -> List[Color]:
    """``palette`` when it has a colour per class, else a fixed random one."""
    from mmgen_vision.visualization import default_palette
    if palette is None or len(palette) < len(classes):
        palette = default_palette(max(len(classes), 2)).tolist()
    return [tuple(int(c) for c in colour) for colour in list(palette)[:len(classes)]]


def found(labels: np.ndarray, classes: Sequence[str]) -> str:
    """The names of the classes present in a label map, comma-separated."""
    present = [int(c) for c in np.unique(labels) if 0 <= c < len(classes)]
    return ', '.join(classes[c] for c in present) or 'nothing'


def shorten(text: str, length: int) -> str:
    """``text`` cut to at most ``length`` characters, ``...`` marking a cut."""
    text = str(text)
    return text if len(text) <= length else text[:length - 3].rstrip() + '...'


def collect_painter(cfg, checkpoint: str, num: int, device: str) -> Gallery:
    """In-context semantic segmentation under the test config's prompt pair."""
    from mmgen_vision.apis import PainterInferencer
    dataset = build_test_dataset(cfg)  # PainterInContextDataset: the prompt pair + the queries
    queries = dataset.dataset
    indices = select_scenes(queries, num)
    truths = [scene_truth(queries, i) for i in indices]
    weights = None if checkpoint.lower() == 'none' else checkpoint  # 'none': random weights
    inferencer = PainterInferencer(cfg, weights, device=device)
    out = inferencer(dataset.prompt_img, dataset.prompt_target, [t['path'] for t in truths],
                     task=dataset.task)
    classes = list(dataset.metainfo['classes'])
    palette = class_palette(classes, dataset.metainfo.get('palette'))
    prompt = osp.basename(str(dataset.prompt_source))
    scenes = []
    for truth, painting, sample in zip(truths, out['predictions'], out['data_samples']):
        pred = fit_labels(pixel_labels(sample.pred_sem_seg), truth['gt'].shape)
        scenes.append(Scene(osp.basename(truth['path']), [
            ('prompt', dataset.prompt_img), ('prompt target', dataset.prompt_target),
            ('input', truth['img']), ('ground truth', colorize(truth['gt'], palette)),
            ('painting', painting), ('prediction', colorize(pred, palette))
        ], [f'predicted: {found(pred, classes)}']))
    notes = [f'prompt pair (the same for every query): {prompt} and its label image painted in '
             'the semantic colour code; painting: the model\'s output under the query, '
             'decoded into the prediction (labels in the legend\'s colours)']
    return Gallery('', scenes, notes=notes, legend=list(zip(classes, palette)))


def collect_xdecoder(cfg, checkpoint: str, num: int, device: str) -> Gallery:
    """Open-vocabulary semantic segmentation (the config's class names) and a caption."""
    from mmgen_vision.apis import XDecoderInferencer
    from mmgen_vision.datasets import SHAPESWORLD_META
    dataset = build_test_dataset(cfg)
    truths = [scene_truth(dataset, i) for i in select_scenes(dataset, num)]
    inferencer = XDecoderInferencer(cfg, checkpoint, device=device)
    paths = [t['path'] for t in truths]
    semseg = inferencer(paths, task='semantic')['predictions']
    captions = inferencer(paths, task='caption')['predictions']
    classes = list(semseg[0]['classes'])
    # the test phrases name ShapesWorld's classes in the dataset's order
    palette = class_palette(classes, SHAPESWORLD_META['palette'])
    scenes = []
    for truth, pred, cap in zip(truths, semseg, captions):
        labels = fit_labels(pred['sem_seg'], truth['gt'].shape)
        scenes.append(Scene(osp.basename(truth['path']), [
            ('input', truth['img']), ('ground truth', colorize(truth['gt'], palette)),
            ('prediction', colorize(labels, palette))
        ], [f'found: {found(labels, classes)}',
            f'generated caption: "{shorten(cap["caption"], 120)}"']))
    notes = ['class names given at test time: ' + ', '.join(f'"{c}"' for c in classes)]
    return Gallery('', scenes, notes=notes, legend=list(zip(classes, palette)))


def _seg_scenes(cfg, checkpoint: str, num: int, device: str, extra=None, lines=None,
                classes: Optional[Sequence[str]] = None, palette: Optional[Sequence] = None):
    """Scenes of a segmentor through ``SegInferencer``: input | ground truth | [extra panels]
    | prediction, and the legend.

    ``extra(inferencer, truth, sample)`` returns more ``(title, image)`` panels, ``lines(truth,
    labels, classes)`` the text of a scene; ``classes`` / ``palette`` replace the config's."""
    from mmgen_vision.apis import SegInferencer
    dataset = build_test_dataset(cfg)
    truths = [scene_truth(dataset, i) for i in select_scenes(dataset, num)]
    inferencer = SegInferencer(cfg, checkpoint, device=device)
    classes = list(classes or inferencer.dataset_meta['classes'])
    palette = class_palette(classes, palette or inferencer.dataset_meta['palette'])
    scenes = []
    for truth in truths:
        texts = [truth['meta']['text']] if 'text' in truth['meta'] else None
        sample = inferencer(truth['path'], texts=texts, return_datasamples=True)['predictions'][0]
        pred = fit_labels(pixel_labels(sample.pred_sem_seg), truth['gt'].shape)
        panels = [('input', truth['img']), ('ground truth', colorize(truth['gt'], palette))]
        panels += extra(inferencer, truth, sample) if extra else []
        panels.append(('prediction', colorize(pred, palette)))
        text = lines(truth, pred, classes) if lines else [f'predicted: {found(pred, classes)}']
        scenes.append(Scene(osp.basename(truth['path']), panels, text))
    return scenes, list(zip(classes, palette))


def collect_seg(cfg, checkpoint: str, num: int, device: str) -> Gallery:
    """Any segmentor: input | ground truth | prediction."""
    scenes, legend = _seg_scenes(cfg, checkpoint, num, device)
    return Gallery('', scenes, legend=legend)


def collect_glid(cfg, checkpoint: str, num: int, device: str) -> Gallery:
    """GLID's fine-tuned segmentation, with the task named."""
    scenes, legend = _seg_scenes(cfg, checkpoint, num, device)
    notes = ['task: semantic segmentation by the MIM-pre-trained encoder-decoder (its queries '
             'and decoder as pre-trained, only the last linear layer new)']
    return Gallery('', scenes, notes=notes, legend=legend)


def group_map(model, image_path: str) -> np.ndarray:
    """Index ``(H, W)`` of the final group token each pixel of the image is assigned to."""
    import torch
    import torch.nn.functional as F

    from mmgen_vision.utils.image_io import read_image
    img = read_image(image_path, channel_order='bgr')
    data = dict(inputs=[torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))])
    with torch.no_grad():
        inputs = model.data_preprocessor(data, False)['inputs']
        groups = model.group_map(model._resize_short_side(inputs))[:, None].float()
    groups = F.interpolate(groups, size=img.shape[:2], mode='nearest')[0, 0]
    return groups.long().cpu().numpy()


def collect_groupvit(cfg, checkpoint: str, num: int, device: str) -> Gallery:
    """Zero-shot segmentation and the group map it is made of."""
    from mmgen_vision.datasets import SHAPESWORLD_META
    from mmgen_vision.visualization import default_palette
    group_colours = default_palette(64, seed=11)
    counts = {}

    def extra(inferencer, truth, sample):
        groups = group_map(inferencer.model, truth['path'])
        counts[truth['path']] = len(np.unique(groups))
        return [('group map', group_colours[groups % len(group_colours)])]

    def lines(truth, pred, classes):
        return [f'{counts[truth["path"]]} groups; predicted: {found(pred, classes)}']

    # background black, the shapes in ShapesWorld's colours (as in the other jobs' galleries)
    classes = list(cfg.model.class_names)
    palette = None
    if classes[1:] == list(SHAPESWORLD_META['classes'][:len(classes) - 1]):
        palette = [BLACK] + [tuple(c) for c in SHAPESWORLD_META['palette'][:len(classes) - 1]]
    scenes, legend = _seg_scenes(cfg, checkpoint, num, device, extra=extra, lines=lines,
                                 classes=classes, palette=palette)
    notes = ['group map: one colour per group token (the colours carry no class); prediction: '
             'each group labelled by its best-matching class name prompt']
    return Gallery('', scenes, notes=notes, legend=legend)


def collect_peekaboo(cfg, checkpoint: str, num: int, device: str) -> Gallery:
    """Referring segmentation: the alpha mask during the optimisation, its final value and the
    thresholded prediction, for each expression."""
    num_iters = int(cfg.model.num_iters)
    evolution = tempfile.mkdtemp(prefix='peekaboo_evolution_')
    cfg.model.update(evolution_dir=evolution, evolution_interval=max(1, num_iters // 3),
                     show_progress=False)
    ranges = {}

    def extra(inferencer, truth, sample):
        stem = osp.splitext(osp.basename(truth['path']))[0]
        frames = sorted(glob.glob(osp.join(evolution, stem, 'iter_*.png')))
        panels = []
        for frame in frames:
            it = int(osp.basename(frame)[5:-4])
            if it < num_iters:  # the last save is the final alpha, shown next
                panels.append((f'alpha, step {it}', np.asarray(Image.open(frame).convert('L'))))
        shutil.rmtree(osp.join(evolution, stem), ignore_errors=True)
        alpha = sample.seg_logits.data[0].float().cpu().numpy()
        ranges[truth['path']] = (float(alpha.min()), float(alpha.max()))
        panels.append((f'final alpha ({num_iters} steps)', alpha))
        return panels

    def lines(truth, pred, classes):
        low, high = ranges[truth['path']]
        return [f'expression: "{truth["meta"]["text"]}"',
                f'final alpha from {low:.2f} to {high:.2f}']

    try:
        scenes, legend = _seg_scenes(cfg, checkpoint, num, device, extra=extra, lines=lines,
                                     classes=['other', 'referred object'],
                                     palette=[BLACK, WHITE])
    finally:
        shutil.rmtree(evolution, ignore_errors=True)
    notes = ['alpha: the mask being optimised (white = the expression); prediction: alpha > '
             f'{cfg.model.get("background_threshold", 0.5)}']
    return Gallery('', scenes, notes=notes, legend=legend)


COLLECTORS: Dict[str, Callable[..., Gallery]] = dict(
    painter=collect_painter, xdecoder=collect_xdecoder, groupvit=collect_groupvit,
    glid=collect_glid, peekaboo=collect_peekaboo, seg=collect_seg)


def parse_args(argv=None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=textwrap.dedent(__doc__.split('\n', 2)[2]))
    parser.add_argument('method', choices=sorted(COLLECTORS))
    parser.add_argument('config', help='the test config')
    parser.add_argument('checkpoint', help='its weights ("none": training-free models)')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--num-scenes', type=int, default=4)
    parser.add_argument('--title', default=None, help='default: the method and config')
    parser.add_argument('--notes', nargs='+', default=[], help='paragraphs under the title')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--max-kb', type=float, default=200,
                        help='size limit of contact_sheet.png')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides of the config, as for tools/test.py')
    return parser.parse_args(argv)


def main(argv=None) -> Dict[str, str]:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    gallery = COLLECTORS[args.method](cfg, args.checkpoint, args.num_scenes, args.device)
    gallery.title = args.title or f'{args.method}: {osp.basename(args.config)}'
    gallery.title = f'{gallery.title}: {len(gallery.scenes)} val scenes'
    gallery.notes = list(args.notes) + gallery.notes
    os.makedirs(args.out_dir, exist_ok=True)
    paths = write_gallery(gallery, args.out_dir, args.max_kb)
    print(f'gallery: {paths["html"]}\ncontact sheet: {paths["contact_sheet"]}')
    return paths


if __name__ == '__main__':
    main()
