# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Captions and referring expressions generated from a scene's objects and their relations.

Every statement is true of the rendered scene: colours and classes are the objects' own,
``left of`` / ``right of`` compare visible-pixel centroids with a margin, ``in front of`` needs the
nearer object to actually hide part of the farther one, and a referring expression is emitted only
when it singles out exactly one object of the scene.
"""
from typing import Callable, List, Optional, Sequence

import numpy as np

from .structures import Scene, SceneObject

NUMBER_WORDS = ('no', 'one', 'two', 'three', 'four', 'five', 'six')
SKY_PHRASES = {
    'clear': 'under a clear blue sky',
    'cloudy': 'under a cloudy sky',
    'evening': 'under an evening sky',
}
GROUND_PHRASES = {'grass': 'on the grass', 'dirt': 'on bare dirt', 'sand': 'on the sand'}
#: Fraction of the image side separating two centroids for a left/right statement.
SIDE_MARGIN = 0.08
#: Area ratio for ``biggest`` / ``smallest`` and depth gap (metres) for ``nearest``.
SIZE_RATIO = 1.5
DEPTH_GAP = 0.5
#: Objects smaller than this (visible pixels) are not referred to.
MIN_REF_AREA = 20


def size_word(obj: SceneObject, image_size: int) -> str:
    """``'large'``, ``'small'`` or ``''`` from the visible area relative to the image."""
    fraction = obj.area / float(image_size * image_size)
    if fraction >= 0.06:
        return 'large'
    if fraction <= 0.012:
        return 'small'
    return ''


def noun_phrase(obj: SceneObject,
                image_size: int,
                article: bool = True,
                with_size: bool = True) -> str:
    """E.g. ``'a large red circle'`` or ``'a person'``."""
    if obj.category == 'person':
        words = ['person']
    else:
        words = [obj.color, obj.category]
        size = size_word(obj, image_size) if with_size else ''
        if size:
            words.insert(0, size)
    phrase = ' '.join(words)
    if article:
        phrase = ('an ' if phrase[0] in 'aeiou' else 'a ') + phrase
    return phrase


def occludes(near: SceneObject, far: SceneObject) -> bool:
    """Whether ``near`` hides at least one pixel of ``far``."""
    return near.depth < far.depth and bool((near.mask & far.full_mask).any())


def relation(a: SceneObject, b: SceneObject, image_size: int) -> Optional[str]:
    """A true spatial relation ``'a <rel> b'`` in words, or ``None`` if none is clear."""
    if occludes(a, b):
        return 'in front of'
    if occludes(b, a):
        return 'behind'
    dx = a.centroid[0] - b.centroid[0]
    if dx <= -SIDE_MARGIN * image_size:
        return 'left of'
    if dx >= SIDE_MARGIN * image_size:
        return 'right of'
    return None


def _join(phrases: Sequence[str]) -> str:
    """``'x'``, ``'x and y'`` or ``'x, y and z'``."""
    if len(phrases) == 1:
        return phrases[0]
    return ', '.join(phrases[:-1]) + ' and ' + phrases[-1]


def _relation_captions(scene: Scene, rng: np.random.Generator) -> List[str]:
    """All true pairwise relation captions, shuffled."""
    size = scene.size
    out = []
    for i, a in enumerate(scene.objects):
        for j, b in enumerate(scene.objects):
            if i == j:
                continue
            rel = relation(a, b, size)
            if rel is not None:
                out.append(f'{noun_phrase(a, size)} {rel} {noun_phrase(b, size)}')
    order = rng.permutation(len(out))
    return [out[k] for k in order]


def make_captions(scene: Scene, rng: np.random.Generator, num: int = 5) -> List[str]:
    """``num`` distinct captions of the scene (COCO has five per image).

    The first caption lists every object with the sky and the ground; the others state relations,
    counts and the largest object.

    Returns:
        list[str]: Lower-case captions without final punctuation.
    """
    size = scene.size
    objs = scene.objects
    sky, ground = SKY_PHRASES[scene.sky_style], GROUND_PHRASES[scene.ground_style]
    shapes = [o for o in objs if o.category != 'person']
    people = [o for o in objs if o.category == 'person']
    phrases = [noun_phrase(o, size) for o in sorted(objs, key=lambda o: o.centroid[0])]
    if not objs:
        return [f'an empty field {ground} {sky}']
    captions = [f'{_join(phrases)} {ground} {sky}']
    count = f'{NUMBER_WORDS[len(shapes)]} coloured shape' + ('s' if len(shapes) != 1 else '')
    if people:
        count += ' and a stick figure of a person'
    largest = max(objs, key=lambda o: o.area)
    nearest = min(objs, key=lambda o: o.depth)
    colours = sorted({o.color for o in shapes})
    captions += _relation_captions(scene, rng)[:2]
    captions += [
        f'{count} {ground}',
        f'{noun_phrase(largest, size, with_size=False)} is the largest thing in view',
        f'{noun_phrase(nearest, size, with_size=False)} closest to the camera {sky}',
    ]
    if colours:
        captions.append(f'a picture of {_join(colours)} shapes {ground}')
    unique = list(dict.fromkeys(captions))
    return unique[:num]


# ----------------------------------------------------------------------------- referring


def _unique_extreme(obj: SceneObject, others: Sequence[SceneObject], key: Callable,
                    margin: float) -> bool:
    """Whether ``key(obj)`` is below every other's by at least ``margin``."""
    if not others:
        return False
    return key(obj) + margin <= min(key(o) for o in others)


def referring_expressions(obj: SceneObject, scene: Scene) -> List[str]:
    """Expressions that identify ``obj`` uniquely among the scene's objects.

    Candidates, in order: ``the <class>``, ``the <colour> <class>``, ``the <colour> shape``,
    ``the biggest|smallest <class>``, ``the <class> on the left|right`` (``leftmost`` for three
    or more), ``the nearest|farthest <class>`` and the same with a colour for ties of class and
    colour. Each is kept only if it is true of ``obj`` and false of every other object.

    Returns:
        list[str]: Possibly empty list of lower-case expressions.
    """
    size = scene.size
    if obj.area < MIN_REF_AREA:
        return []
    others = [o for o in scene.objects if o is not obj]
    noun = obj.category
    same_class = [o for o in others if o.category == noun]
    same_cc = [o for o in same_class if o.color == obj.color]
    same_color = [o for o in others if o.color == obj.color]
    is_shape = noun != 'person'
    out = []
    if not same_class:
        out.append(f'the {noun}')
    if is_shape and same_class and not same_cc:
        out.append(f'the {obj.color} {noun}')
    if is_shape and others and not same_color:
        out.append(f'the {obj.color} shape')
    for group, label in ((same_class, noun), (same_cc, f'{obj.color} {noun}')):
        if not group or (group is same_cc and len(same_cc) == len(same_class)):
            continue
        out.extend(_ranked_expressions(obj, group, label, size))
    return list(dict.fromkeys(out))


def _ranked_expressions(obj: SceneObject, group: Sequence[SceneObject], label: str,
                        size: int) -> List[str]:
    """Superlative / side / depth expressions of ``obj`` against the rest of its ``group``."""
    out = []
    margin = SIDE_MARGIN * size
    if all(obj.area >= SIZE_RATIO * o.area for o in group):
        out.append(f'the biggest {label}')
    if all(obj.area * SIZE_RATIO <= o.area for o in group):
        out.append(f'the smallest {label}')
    if len(group) == 1:
        left, right = f'the {label} on the left', f'the {label} on the right'
    else:
        left, right = f'the leftmost {label}', f'the rightmost {label}'
    if _unique_extreme(obj, group, lambda o: o.centroid[0], margin):
        out.append(left)
    if _unique_extreme(obj, group, lambda o: -o.centroid[0], margin):
        out.append(right)
    if _unique_extreme(obj, group, lambda o: o.depth, DEPTH_GAP):
        out.append(f'the nearest {label}')
    if _unique_extreme(obj, group, lambda o: -o.depth, DEPTH_GAP):
        out.append(f'the farthest {label}')
    return out


def tokenize(sentence: str) -> List[str]:
    """Lower-case word tokens, punctuation dropped (as the ``tokens`` of RefCOCO)."""
    cleaned = ''.join(c if c.isalnum() or c.isspace() else ' ' for c in sentence.lower())
    return cleaned.split()
