# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Noun extraction from captions without NLTK data (GroupViT's multi-label prompts).

:class:`NounTagger` looks words up in the packaged list ``nouns.txt`` (see its header for how it
was built) with a few tagging rules: colour words, adjectives and function words are never nouns;
plural forms are singularised; a colour noun such as "orange" directly before another noun is
read as an adjective.
"""
import os.path as osp
import re
from typing import Dict, List, Optional

NOUN_FILE = osp.join(osp.dirname(osp.abspath(__file__)), 'nouns.txt')


# Words that are never nouns in a caption, whatever the noun list says.
COLOUR_WORDS = frozenset(
    'red green blue yellow black white grey gray brown pink purple orange violet cyan magenta '
    'beige tan maroon navy teal turquoise golden silver gold bronze lime olive crimson scarlet '
    'ivory cream khaki indigo lavender colored coloured colorful colourful multicolored dark '
    'light pale bright'.split())
# colour and material words that are also nouns ("an orange on a plate", "a blue square",
# "a glass of water"): nouns unless another noun follows ("an orange cat", "a glass table")
COLOUR_NOUNS = frozenset('orange lime olive gold silver bronze cream ivory'.split())
MODIFIER_NOUNS = COLOUR_NOUNS | frozenset(
    'square glass metal plastic paper stone wood leather brick steel iron cotton silk wool '
    'rubber concrete marble ice snow water'.split())
ADJECTIVE_WORDS = frozenset(
    'large small big little tiny huge giant tall short long wide narrow thin thick fat old new '
    'young great good bad nice beautiful pretty ugly cute lovely happy sad angry empty full '
    'open closed clean dirty wet dry hot cold warm cool fresh raw cooked frozen broken wooden '
    'metallic round flat high low deep shallow heavy soft hard '
    'smooth rough shiny fancy plain simple modern ancient vintage antique rustic single double '
    'many several few some various other another same different whole half left right front '
    'back top bottom middle center centre upper lower inner outer near far nearest farthest '
    'leftmost rightmost biggest smallest largest tallest front rear side next first second '
    'third last'.split())
STOP_WORDS = frozenset(
    'a an the this that these those there here it its they them their he him his she her we us '
    'our you your i me my mine one two three four five six seven eight nine ten eleven twelve '
    'dozen hundred thousand and or but nor so yet of in on at to from by with without within '
    'into onto over under above below behind beside besides between among around across '
    'along through near toward towards up down out off about against after before during '
    'while as like than then when where which who whom whose what why how is are was were be '
    'been being am has have had do does did will would can could should may might must not no '
    'yes all each every both either neither any much more most less least very too also just '
    'only even still again ever never always often while sitting standing lying looking '
    'holding walking being getting made using showing'.split())
# generic photo words that do not name a visual concept
NON_VISUAL_NOUNS = frozenset(
    'photo photograph picture image pic shot view scene stock illustration vector background '
    'foreground closeup way time thing things something kind type lot part front side top '
    'bottom middle center centre edge corner left right rest other couple pair group bunch '
    'number variety lots'.split())
PRONOUNS = frozenset('i you he she it we they who'.split())

IRREGULAR_PLURALS = {
    'people': 'person', 'men': 'man', 'women': 'woman', 'children': 'child', 'kids': 'kid',
    'feet': 'foot', 'teeth': 'tooth', 'mice': 'mouse', 'geese': 'goose', 'oxen': 'ox',
    'knives': 'knife', 'wives': 'wife', 'lives': 'life', 'leaves': 'leaf', 'loaves': 'loaf',
    'wolves': 'wolf', 'calves': 'calf', 'halves': 'half', 'shelves': 'shelf', 'scarves': 'scarf',
    'thieves': 'thief', 'elves': 'elf', 'hooves': 'hoof', 'dice': 'die', 'cacti': 'cactus',
    'fungi': 'fungus', 'criteria': 'criterion', 'data': 'data', 'sheep': 'sheep', 'deer': 'deer',
    'fish': 'fish', 'moose': 'moose', 'aircraft': 'aircraft', 'series': 'series',
    'species': 'species', 'policemen': 'policeman', 'firemen': 'fireman',
    'fishermen': 'fisherman', 'businessmen': 'businessman', 'gentlemen': 'gentleman',
    'ladies': 'lady', 'buses': 'bus', 'tomatoes': 'tomato', 'potatoes': 'potato',
    'heroes': 'hero', 'volcanoes': 'volcano', 'octopi': 'octopus',
}

_WORD_RE = re.compile(r"[a-z]+(?:'[a-z]+)?")


def load_noun_list(path: str = NOUN_FILE) -> frozenset:
    """Read a noun list (one lower-case word per line, ``#`` comments)."""
    with open(path, encoding='utf-8') as f:
        words = {line.strip().lower() for line in f}
    return frozenset(w for w in words if w and not w.startswith('#'))


class NounTagger:
    """Dictionary noun tagger: ``tagger('two red circles and a dog')`` -> ``['circle', 'dog']``.

    A word is a noun when it (or its singular form) is in the noun list and it is not a colour,
    adjective, function word or generic photo word; a colour noun ("orange") right before
    another noun is an adjective (also "square", "glass", "metal", ...), and a word right after
    a personal pronoun is a verb
    ("she walks"). Nouns are returned singular, unique, in caption order.
    """

    def __init__(self, nouns: Optional[frozenset] = None) -> None:
        self.nouns = nouns if nouns is not None else load_noun_list()
        self.excluded = (COLOUR_WORDS - COLOUR_NOUNS) | ADJECTIVE_WORDS | STOP_WORDS \
            | NON_VISUAL_NOUNS

    def singular(self, word: str) -> Optional[str]:
        """The noun-list entry of ``word`` (itself or a singular form), or None."""
        if word in self.nouns:
            return word
        if word in IRREGULAR_PLURALS:
            base = IRREGULAR_PLURALS[word]
            return base if base in self.nouns else None
        candidates = []
        if word.endswith('ies') and len(word) > 4:
            candidates.append(word[:-3] + 'y')
        if word.endswith('ves'):
            candidates += [word[:-3] + 'f', word[:-3] + 'fe']
        if word.endswith('es'):
            candidates.append(word[:-2])
        if word.endswith('s') and not word.endswith('ss'):
            candidates.append(word[:-1])
        for candidate in candidates:
            if candidate in self.nouns:
                return candidate
        return None

    def _is_noun(self, word: str) -> Optional[str]:
        if word in self.excluded:
            return None
        base = self.singular(word)
        if base is None or base in self.excluded:
            return None
        return base

    def __call__(self, text: str) -> List[str]:
        words = _WORD_RE.findall(text.lower().replace('-', ' '))
        words = [w[:-2] if w.endswith("'s") else w for w in words]
        out: List[str] = []
        for i, word in enumerate(words):
            base = self._is_noun(word)
            if base is None:
                continue
            if i > 0 and words[i - 1] in PRONOUNS:
                continue  # "she walks", "it rains"
            if word in MODIFIER_NOUNS and i + 1 < len(words) and self._is_noun(words[i + 1]):
                continue  # "an orange cat", "a glass table"
            if base not in out:
                out.append(base)
        return out


_TAGGERS: Dict[str, NounTagger] = {}


def extract_nouns(text: str, noun_file: str = NOUN_FILE) -> List[str]:
    """The nouns of ``text`` (singular, unique, caption order) with the packaged tagger."""
    if noun_file not in _TAGGERS:
        _TAGGERS[noun_file] = NounTagger(load_noun_list(noun_file))
    return _TAGGERS[noun_file](text)
