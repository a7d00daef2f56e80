"""Scorer kinds over characters: letter case, character classes, counts of one letter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .registry import Param, ScoreFunction, register


@register(
    "case_fraction",
    {"case": Param((str,), choices=("upper", "lower"))},
    lambda params: f"fraction of letters that are {params['case']}-case (0 without letters)",
)
def build_case_fraction(params: Mapping[str, Any]) -> ScoreFunction:
    """Fraction of alphabetic characters in the given case; 0 when there are no letters.

    Letters without case (Chinese, Arabic) count as letters that are in neither case.
    """
    upper = params["case"] == "upper"

    def score(text: str) -> float:
        letters = [char for char in text if char.isalpha()]
        if not letters:
            return 0.0
        hits = sum(1 for char in letters if (char.isupper() if upper else char.islower()))
        return hits / len(letters)

    return score


_CHAR_CLASSES = {
    "digit": str.isdigit,
    "non_letter": lambda char: not char.isalpha(),
    "letter": str.isalpha,
}


@register(
    "char_class_fraction",
    {"char_class": Param((str,), choices=tuple(_CHAR_CLASSES))},
    lambda params: f"fraction of characters that are {params['char_class'].replace('_', '-')}s "
    "(0 for an empty answer)",
)
def build_char_class_fraction(params: Mapping[str, Any]) -> ScoreFunction:
    """Fraction of all characters, spaces included, in the class; 0 for an empty answer."""
    belongs = _CHAR_CLASSES[params["char_class"]]

    def score(text: str) -> float:
        if not text:
            return 0.0
        return sum(1 for char in text if belongs(char)) / len(text)

    return score


@register(
    "char_count_decay",
    {"chars": Param((str,), non_empty=True)},
    lambda params: f"1 / (1 + number of characters among {params['chars']!r})",
)
def build_char_count_decay(params: Mapping[str, Any]) -> ScoreFunction:
    """1 / (1 + count) of the listed characters: one forbidden letter halves the score."""
    chars = frozenset(params["chars"])
    return lambda text: 1.0 / (1.0 + sum(1 for char in text if char in chars))
