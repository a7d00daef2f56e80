"""Scorer kinds that need language data: sentiment, language, tags, syllables, frequency."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .language import language_probabilities, top_language
from .lexicon import frequent_words, syllable_count
from .registry import Param, ScoreFunction, register
from .sentiment import polarity
from .tagger import tag
from .text import plain_words

_SENTIMENT_MEASURES = {
    "positive": ("VADER positive proportion", lambda scores: scores["pos"]),
    "negative": ("VADER negative proportion", lambda scores: scores["neg"]),
    "negativity": ("(1 - VADER compound) / 2", lambda scores: (1.0 - scores["compound"]) / 2.0),
    "positivity": ("(1 + VADER compound) / 2", lambda scores: (1.0 + scores["compound"]) / 2.0),
}


@register(
    "sentiment",
    {"measure": Param((str,), choices=tuple(_SENTIMENT_MEASURES))},
    lambda params: _SENTIMENT_MEASURES[params["measure"]][0],
)
def build_sentiment(params: Mapping[str, Any]) -> ScoreFunction:
    """Score by one VADER sentiment value, mapped to [0, 1]."""
    measure = _SENTIMENT_MEASURES[params["measure"]][1]
    return lambda text: float(measure(polarity(text)))


@register(
    "language_probability",
    {"language": Param((str,), non_empty=True)},
    lambda params: f"langdetect probability that the answer is in {params['language']!r}",
)
def build_language_probability(params: Mapping[str, Any]) -> ScoreFunction:
    """langdetect's probability for the language; 0 when it is not in the ranked list."""
    language = params["language"]
    return lambda text: language_probabilities(text).get(language, 0.0)


@register(
    "translation_pairs",
    {
        "source": Param((str,), non_empty=True),
        "target": Param((str,), non_empty=True),
    },
    lambda params: f"per 'sentence (translation)' pair: half for {params['source']!r} before "
    f"the bracket, half for {params['target']!r} inside; averaged, 0 without pairs",
)
def build_translation_pairs(params: Mapping[str, Any]) -> ScoreFunction:
    """Score text written as 'Bonjour ! (Hello!) Ça va ? (How are you?)' by detected languages.

    The answer is cut after each ')'; a chunk holding '(' is one pair, the text
    before the '(' is the original and the text after it the translation.
    """
    source = params["source"]
    target = params["target"]

    def score(text: str) -> float:
        pairs = []
        for chunk in re.split(r"\)", text):
            if "(" not in chunk:
                continue
            original, _, translation = chunk.rpartition("(")
            pairs.append((original.strip(), translation.strip()))
        if not pairs:
            return 0.0
        total = 0.0
        for original, translation in pairs:
            total += 0.5 * (top_language(original) == source)
            total += 0.5 * (top_language(translation) == target)
        return total / len(pairs)

    return score


@register(
    "pos_fraction",
    {
        "tags": Param((list,), item_types=(str,), non_empty=True),
        "among": Param((list,), default=None, item_types=(str,), non_empty=True),
        "if_none": Param((float,), default=0.0),
    },
    lambda params: f"share of {'words tagged ' + '/'.join(params['among']) if params['among'] else 'words'} "
    f"that are tagged {'/'.join(params['tags'])} (Penn Treebank tags)",
)
def build_pos_fraction(params: Mapping[str, Any]) -> ScoreFunction:
    """Score by the fraction of word tokens (or of those tagged `among`) that carry one of `tags`.

    Punctuation tokens are not words. `if_none` is the score when nothing is counted.
    """
    expected_tags = frozenset(params["tags"])
    among = frozenset(params["among"]) if params["among"] else None
    if_none = float(params["if_none"])
    if not 0.0 <= if_none <= 1.0:
        raise ValueError("'if_none' must be between 0 and 1")

    def score(text: str) -> float:
        counted = [
            label
            for token, label in tag(text)
            if any(char.isalnum() for char in token) and (among is None or label in among)
        ]
        if not counted:
            return if_none
        return sum(1 for label in counted if label in expected_tags) / len(counted)

    return score


def _lettered_words(text: str) -> list[str]:
    return [word for word in plain_words(text) if any(char.isalpha() for char in word)]


@register(
    "one_syllable_fraction",
    {},
    lambda params: "share of words with one syllable (CMU Pronouncing Dictionary)",
)
def build_one_syllable_fraction(params: Mapping[str, Any]) -> ScoreFunction:
    """Fraction of plain words containing letters that have exactly one syllable."""

    def score(text: str) -> float:
        words = _lettered_words(text)
        if not words:
            return 0.0
        return sum(1 for word in words if syllable_count(word) == 1) / len(words)

    return score


@register(
    "rare_word_fraction",
    {"top": Param((int,), default=10000)},
    lambda params: f"share of words outside the {params['top']:,} most frequent English words (wordfreq)",
)
def build_rare_word_fraction(params: Mapping[str, Any]) -> ScoreFunction:
    """1 minus the fraction of plain words among wordfreq's `top` most frequent English words."""
    top = params["top"]
    if top <= 0:
        raise ValueError("'top' must be positive")

    def score(text: str) -> float:
        words = plain_words(text)
        if not words:
            return 0.0
        frequent = frequent_words(top)
        return 1.0 - sum(1 for word in words if word in frequent) / len(words)

    return score
