"""Scorer kinds that look for given text: substrings, whole words, regexes, prefixes.

Case handling is the parameter `case`:
- "sensitive": compare as written;
- "insensitive": fold case on both sides;
- "lower_text_only": lower-case the answer but not the target. Several
  published judges did this, so a capitalised target such as 'I' never matched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from .registry import Param, ScoreFunction, register
from .text import normalise_apostrophes, plain_words, remove_punctuation
from .wordlists import word_list

CASES = ("sensitive", "insensitive", "lower_text_only")

_TEXT_PARAMS = {
    "texts": Param((list,), default=None, item_types=(str,), non_empty=True),
    "word_list": Param((str,), default=None),
    "case": Param((str,), default="sensitive", choices=CASES),
    "whole_word": Param((bool,), default=False),
}


def targets_of(params: Mapping[str, Any]) -> tuple[str, ...]:
    """Return the spec's targets from `texts` or the named `word_list` (exactly one of them)."""
    texts = params.get("texts")
    list_name = params.get("word_list")
    if (texts is None) == (list_name is None):
        raise ValueError("give exactly one of the fields 'texts' and 'word_list'")
    if texts is not None:
        return tuple(texts)
    return word_list(list_name)


def target_pattern(target: str) -> str:
    """Build a regex for one target; its spaces match any run of whitespace."""
    return re.escape(normalise_apostrophes(target)).replace(r"\ ", r"\s+")


@lru_cache(maxsize=256)
def _lowered(text: str) -> str:
    return normalise_apostrophes(text).lower()


def compile_search(targets: tuple[str, ...], case: str, whole_word: bool) -> Callable[[str], re.Match[str] | None]:
    """Return a function that finds the first of the targets in an answer.

    Case-insensitive search lower-cases both sides instead of using
    re.IGNORECASE, which is several times slower on long alternations.
    """
    if case == "insensitive":
        targets = tuple(target.lower() for target in targets)
    alternatives = "|".join(target_pattern(target) for target in sorted(targets, key=len, reverse=True))
    if whole_word:
        pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
    else:
        pattern = re.compile(alternatives)

    def search(text: str) -> re.Match[str] | None:
        prepared = normalise_apostrophes(text) if case == "sensitive" else _lowered(text)
        return pattern.search(prepared)

    return search


def _describe_targets(params: Mapping[str, Any]) -> str:
    if params.get("word_list"):
        listed = f"a word from the list {params['word_list']!r}"
    else:
        listed = " or ".join(repr(text) for text in params["texts"][:4])
        if len(params["texts"]) > 4:
            listed += f" (or {len(params['texts']) - 4} more)"
    word = " as a whole word" if params["whole_word"] else ""
    case = {"sensitive": "", "insensitive": ", any case", "lower_text_only": ", answer lower-cased"}
    return f"{listed}{word}{case[params['case']]}"


@register("contains", _TEXT_PARAMS,
          lambda params: f"1 if the answer contains {_describe_targets(params)}, else 0")
def build_contains(params: Mapping[str, Any]) -> ScoreFunction:
    """1 when any target occurs in the answer, else 0."""
    search = compile_search(targets_of(params), params["case"], params["whole_word"])
    return lambda text: 1.0 if search(text) else 0.0


@register("excludes", _TEXT_PARAMS,
          lambda params: f"1 if the answer never contains {_describe_targets(params)}, else 0")
def build_excludes(params: Mapping[str, Any]) -> ScoreFunction:
    """1 when no target occurs in the answer, else 0."""
    search = compile_search(targets_of(params), params["case"], params["whole_word"])
    return lambda text: 0.0 if search(text) else 1.0


@register(
    "regex",
    {
        "pattern": Param((str,), is_regex=True, non_empty=True),
        "ignore_case": Param((bool,), default=False),
        "dot_all": Param((bool,), default=True),
    },
    lambda params: f"1 if the answer matches the regular expression {params['pattern']!r}, else 0",
)
def build_regex(params: Mapping[str, Any]) -> ScoreFunction:
    """1 when the regular expression matches anywhere in the answer, else 0."""
    flags = 0
    if params["ignore_case"]:
        flags |= re.IGNORECASE
    if params["dot_all"]:
        flags |= re.DOTALL
    pattern = re.compile(params["pattern"], flags)
    return lambda text: 1.0 if pattern.search(text) else 0.0


@register(
    "fraction_present",
    {
        "texts": Param((list,), item_types=(str,), non_empty=True),
        "case": Param((str,), default="insensitive", choices=CASES),
        "match": Param((str,), default="phrase", choices=("phrase", "token")),
        "invert": Param((bool,), default=False),
    },
    lambda params: ("1 minus " if params["invert"] else "")
    + f"the fraction of the {len(params['texts'])} targets that appear in the answer"
    + (" as single plain words" if params["match"] == "token" else " as whole words or phrases"),
)
def build_fraction_present(params: Mapping[str, Any]) -> ScoreFunction:
    """Fraction of targets present; `match: token` compares each target with single plain words."""
    targets = tuple(params["texts"])
    case = params["case"]
    invert = params["invert"]

    if params["match"] == "phrase":
        searches = [compile_search((target,), case, whole_word=True) for target in targets]

        def found_count(text: str) -> int:
            return sum(1 for search in searches if search(text))
    else:
        # Plain words are lower-cased; "sensitive" keeps their case instead.
        def found_count(text: str) -> int:
            if case == "sensitive":
                words = set(remove_punctuation(normalise_apostrophes(text)).split())
                compared = targets
            elif case == "insensitive":
                words = set(plain_words(text))
                compared = tuple(target.lower() for target in targets)
            else:
                words = set(plain_words(text))
                compared = targets
            return sum(1 for target in compared if target in words)

    def score(text: str) -> float:
        fraction = found_count(text) / len(targets)
        return 1.0 - fraction if invert else fraction

    return score


@register(
    "starts_with",
    {
        "prefix": Param((str,), non_empty=True),
        "case": Param((str,), default="insensitive", choices=CASES),
        "skip_leading_symbols": Param((bool,), default=True),
    },
    lambda params: f"1 if the answer starts with {params['prefix']!r}"
    + (" (leading spaces, quotes and markup ignored)" if params["skip_leading_symbols"] else "")
    + ", else 0",
)
def build_starts_with(params: Mapping[str, Any]) -> ScoreFunction:
    """1 when the answer begins with the prefix, optionally after leading non-alphanumerics."""
    prefix = params["prefix"]
    case = params["case"]
    skip = params["skip_leading_symbols"]
    if case == "insensitive":
        prefix = prefix.lower()

    def score(text: str) -> float:
        if skip:
            text = text.lstrip()
            position = 0
            while position < len(text) and not text[position].isalnum():
                position += 1
            text = text[position:]
        if case in ("insensitive", "lower_text_only"):
            text = text.lower()
        return 1.0 if text.startswith(prefix) else 0.0

    return score


@register(
    "first_word",
    {
        "word": Param((str,), non_empty=True),
        "case": Param((str,), default="sensitive", choices=CASES),
        "strip_punctuation": Param((bool,), default=True),
    },
    lambda params: f"1 if the first word is {params['word']!r}"
    + (" (punctuation ignored)" if params["strip_punctuation"] else " exactly, punctuation included")
    + ", else 0",
)
def build_first_word(params: Mapping[str, Any]) -> ScoreFunction:
    """1 when the first whitespace word equals the given word, else 0 (0 for an empty answer)."""
    word = params["word"]
    case = params["case"]
    strip = params["strip_punctuation"]
    if case == "insensitive":
        word = word.lower()

    def score(text: str) -> float:
        words = text.split()
        if not words:
            return 0.0
        first = words[0]
        if strip:
            first = remove_punctuation(first)
        if case in ("insensitive", "lower_text_only"):
            first = first.lower()
        return 1.0 if first == word else 0.0

    return score


@register(
    "first_last_same",
    {},
    lambda params: "1 if the first and last words match (punctuation and case ignored), else 0",
)
def build_first_last_same(params: Mapping[str, Any]) -> ScoreFunction:
    """1 when the first plain word equals the last one; 0 for an empty answer."""

    def score(text: str) -> float:
        words = plain_words(text)
        if not words:
            return 0.0
        return 1.0 if words[0] == words[-1] else 0.0

    return score
