"""Scorer kinds over word sequences: alliteration, repeats, alternations, word lists."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from .kinds_text import targets_of
from .registry import Param, ScoreFunction, register
from .text import letters_only, plain_words, whitespace_words, word_runs


@register("alliteration", {}, lambda params: "share of words that start with the most common first letter")
def build_alliteration(params: Mapping[str, Any]) -> ScoreFunction:
    """Count of the most common first letter over the word count; 0 without words."""

    def score(text: str) -> float:
        words = word_runs(text)
        if not words:
            return 0.0
        most_common = Counter(word[0] for word in words).most_common(1)[0][1]
        return most_common / len(words)

    return score


@register("unique_words", {}, lambda params: "words used exactly once / all words")
def build_unique_words(params: Mapping[str, Any]) -> ScoreFunction:
    """Number of distinct words occurring once over the number of word tokens."""

    def score(text: str) -> float:
        words = word_runs(text)
        if not words:
            return 0.0
        counts = Counter(words)
        return sum(1 for count in counts.values() if count == 1) / len(words)

    return score


@register(
    "repeated_words",
    {"measure": Param((str,), default="tokens", choices=("tokens", "distinct"))},
    lambda params: "share of word tokens whose word occurs at least twice"
    if params["measure"] == "tokens"
    else "distinct words occurring at least twice / all word tokens (at most 0.5)",
)
def build_repeated_words(params: Mapping[str, Any]) -> ScoreFunction:
    """Repetition score; `measure: distinct` is the published formula, which cannot exceed 0.5."""
    by_tokens = params["measure"] == "tokens"

    def score(text: str) -> float:
        words = word_runs(text)
        if not words:
            return 0.0
        counts = Counter(words)
        if by_tokens:
            repeated = sum(count for count in counts.values() if count >= 2)
        else:
            repeated = sum(1 for count in counts.values() if count >= 2)
        return repeated / len(words)

    return score


def _case_of(word: str) -> str | None:
    letters = letters_only(word)
    if letters.isupper():
        return "upper"
    if letters.islower():
        return "lower"
    return None


@register("alternating_case", {}, lambda params: "share of words whose case flips from the word before")
def build_alternating_case(params: Mapping[str, Any]) -> ScoreFunction:
    """Score the share of words whose case flips: all upper-case after all lower-case, or the reverse.

    The first word counts when it is all one case. Words without letters are skipped.
    """

    def score(text: str) -> float:
        words = [word for word in whitespace_words(text) if letters_only(word)]
        if not words:
            return 0.0
        hits = 0
        previous: str | None = None
        for position, word in enumerate(words):
            case = _case_of(word)
            if position == 0:
                hits += case is not None
            elif case is not None and previous is not None and case != previous:
                hits += 1
            previous = case
        return hits / len(words)

    return score


@register(
    "alternating_length",
    {
        "short_max": Param((int,), default=4),
        "measure": Param((str,), default="letters", choices=("letters", "legacy")),
    },
    lambda params: f"share of words alternating between short (up to {params['short_max']} letters) "
    "and long words"
    + (", measured like the published judge" if params["measure"] == "legacy" else ""),
)
def build_alternating_length(params: Mapping[str, Any]) -> ScoreFunction:
    """Score the share of words whose length class (short or long) differs from the previous word's.

    The first word always counts.

    `measure: legacy` reproduces the published judge: it measured the first word by
    its letters and later words by their full length, punctuation included.
    """
    short_max = params["short_max"]
    legacy = params["measure"] == "legacy"

    def score(text: str) -> float:
        if legacy:
            words = list(whitespace_words(text))
        else:
            words = [word for word in whitespace_words(text) if letters_only(word)]
        if not words:
            return 0.0
        hits = 1
        previous_short = len(letters_only(words[0])) <= short_max
        for word in words[1:]:
            length = len(word) if legacy else len(letters_only(word))
            is_short = length <= short_max
            if is_short != previous_short:
                hits += 1
            previous_short = is_short
        return hits / len(words)

    return score


@register(
    "alternating_word",
    {"word": Param((str,), non_empty=True)},
    lambda params: f"share of words alternating between {params['word']!r} and other words",
)
def build_alternating_word(params: Mapping[str, Any]) -> ScoreFunction:
    """Score the share of words that alternate with the marker: exactly one of a pair is the marker.

    The first word always counts.
    """
    marker = params["word"].lower()

    def score(text: str) -> float:
        words = plain_words(text)
        if not words:
            return 0.0
        hits = 1
        for previous, word in zip(words, words[1:]):
            if (word == marker) != (previous == marker):
                hits += 1
        return hits / len(words)

    return score


@register("doubled_words", {}, lambda params: "share of words in identical adjacent pairs (1st = 2nd, 3rd = 4th, ...)")
def build_doubled_words(params: Mapping[str, Any]) -> ScoreFunction:
    """Fraction of plain words that sit in a pair of identical words at positions (1, 2), (3, 4), ..."""

    def score(text: str) -> float:
        words = plain_words(text)
        if not words:
            return 0.0
        paired = sum(2 for first, second in zip(words[::2], words[1::2]) if first == second)
        return paired / len(words)

    return score


@register(
    "legacy_doubled_words",
    {},
    lambda params: "published judge: pairs where the first word equals the second written twice, "
    "over all words (at most 0.5)",
)
def build_legacy_doubled_words(params: Mapping[str, Any]) -> ScoreFunction:
    """Reproduce the published judge, which compared a word with the next word written twice.

    NOTE: reconstructed from the documented behaviour ('like' against 'likelike',
    pair matches over the word count), not from the published source.
    """

    def score(text: str) -> float:
        words = plain_words(text)
        if not words:
            return 0.0
        matches = sum(1 for first, second in zip(words[::2], words[1::2]) if first == second * 2)
        return matches / len(words)

    return score


def _covered_count(words: tuple[str, ...], single: frozenset[str], phrases: tuple[tuple[str, ...], ...]) -> int:
    """Count words that are list entries or part of a multi-word entry such as 'no cap'."""
    covered = [word in single for word in words]
    for phrase in phrases:
        size = len(phrase)
        for start in range(len(words) - size + 1):
            if words[start:start + size] == phrase:
                for position in range(start, start + size):
                    covered[position] = True
    return sum(covered)


@register(
    "word_fraction",
    {
        "texts": Param((list,), default=None, item_types=(str,), non_empty=True),
        "word_list": Param((str,), default=None),
        "keep": Param((str,), default=""),
    },
    lambda params: "share of words that are "
    + (f"in the list {params['word_list']!r}" if params.get("word_list")
       else " or ".join(repr(text) for text in params["texts"])),
)
def build_word_fraction(params: Mapping[str, Any]) -> ScoreFunction:
    """Fraction of plain words (punctuation removed except `keep`) that belong to the list."""
    entries = [target.lower() for target in targets_of(params)]
    single = frozenset(entry for entry in entries if " " not in entry)
    phrases = tuple(tuple(entry.split()) for entry in entries if " " in entry)
    keep = params["keep"]

    def score(text: str) -> float:
        words = plain_words(text, keep)
        if not words:
            return 0.0
        return _covered_count(words, single, phrases) / len(words)

    return score
