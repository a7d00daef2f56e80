"""Scorer kinds that count words and sentences.

Words are whitespace-separated, as in the published judges, unless a kind states
otherwise. Sentences come from the pysbd splitter in `text.sentences`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .registry import Param, ScoreFunction, register
from .text import remove_punctuation, sentence_word_count, sentences, whitespace_words


@register(
    "word_count_near",
    {"target": Param((int,)), "tolerance": Param((int,), default=None)},
    lambda params: f"1 - |words - {params['target']}| / {params['tolerance'] or params['target']}, "
    "floored at 0",
)
def build_word_count_near(params: Mapping[str, Any]) -> ScoreFunction:
    """Closeness of the word count to a target: 1 - min(|n - target| / tolerance, 1)."""
    target = params["target"]
    tolerance = params["tolerance"] or target
    if tolerance <= 0:
        raise ValueError("'tolerance' (or 'target' when no tolerance is given) must be positive")

    def score(text: str) -> float:
        count = len(whitespace_words(text))
        return 1.0 - min(abs(count - target) / tolerance, 1.0)

    return score


@register("word_count_inverse", {}, lambda params: "1 / number of words (0 for an empty answer)")
def build_word_count_inverse(params: Mapping[str, Any]) -> ScoreFunction:
    """1 / number of whitespace words; rewards one-word answers."""

    def score(text: str) -> float:
        count = len(whitespace_words(text))
        return 1.0 / count if count else 0.0

    return score


@register("word_count_growth", {}, lambda params: "1 - 1 / (1 + words ** (1/3)): longer is better")
def build_word_count_growth(params: Mapping[str, Any]) -> ScoreFunction:
    """1 - 1 / (1 + n ** (1/3)) for n whitespace words; 0 words score 0, 1,000 words about 0.91."""

    def score(text: str) -> float:
        count = len(whitespace_words(text))
        return 1.0 - 1.0 / (1.0 + count ** (1.0 / 3.0))

    return score


@register(
    "word_count_below",
    {"limit": Param((int,))},
    lambda params: f"1 if the answer has fewer than {params['limit']} words, else 0",
)
def build_word_count_below(params: Mapping[str, Any]) -> ScoreFunction:
    """1 when the whitespace word count is below the limit, else 0."""
    limit = params["limit"]
    return lambda text: 1.0 if len(whitespace_words(text)) < limit else 0.0


@register(
    "sentence_count",
    {"count": Param((int,))},
    lambda params: f"1 if the answer is exactly {params['count']} sentence(s), else 0",
)
def build_sentence_count(params: Mapping[str, Any]) -> ScoreFunction:
    """1 when the answer splits into exactly `count` sentences, else 0."""
    expected = params["count"]
    return lambda text: 1.0 if len(sentences(text)) == expected else 0.0


@register(
    "sentence_end_fraction",
    {"ending": Param((str,), non_empty=True)},
    lambda params: f"fraction of sentences that end with {params['ending']!r}",
)
def build_sentence_end_fraction(params: Mapping[str, Any]) -> ScoreFunction:
    """Fraction of sentences ending with the mark, closing quotes and brackets ignored."""
    ending = params["ending"]

    def score(text: str) -> float:
        found = sentences(text)
        if not found:
            return 0.0
        closing = "\"')]}*_”’»"
        hits = sum(1 for sentence in found if sentence.rstrip(closing).endswith(ending))
        return hits / len(found)

    return score


@register(
    "sentence_start_word",
    {
        "word": Param((str,), non_empty=True),
        "case": Param((str,), default="insensitive", choices=("sensitive", "insensitive", "lower_text_only")),
    },
    lambda params: f"fraction of sentences whose first word is {params['word']!r} (punctuation"
    + (" and case ignored)" if params["case"] == "insensitive" else " ignored)"),
)
def build_sentence_start_word(params: Mapping[str, Any]) -> ScoreFunction:
    """Fraction of sentences whose first word, punctuation removed, equals the word.

    With `case: lower_text_only` the sentence is lower-cased but the word is not,
    which is how the published judge compared with 'Yes' and always scored 0.
    """
    case = params["case"]
    word = params["word"].lower() if case == "insensitive" else params["word"]

    def score(text: str) -> float:
        found = sentences(text)
        if not found:
            return 0.0
        hits = 0
        for sentence in found:
            words = remove_punctuation(sentence).split()
            first = words[0] if words else ""
            if case != "sensitive":
                first = first.lower()
            if words and first == word:
                hits += 1
        return hits / len(found)

    return score


@register(
    "sentence_word_pattern",
    {"sentences": Param((int,)), "words": Param((int,))},
    lambda params: f"{params['sentences']} sentences of {params['words']} words each "
    "(0 for another sentence count; a sentence off by one word earns half)",
)
def build_sentence_word_pattern(params: Mapping[str, Any]) -> ScoreFunction:
    """Average per-sentence credit when the sentence count is exact, else 0."""
    expected_sentences = params["sentences"]
    expected_words = params["words"]
    if expected_sentences <= 0:
        raise ValueError("'sentences' must be positive")

    def credit(sentence: str) -> float:
        difference = abs(sentence_word_count(sentence) - expected_words)
        if difference == 0:
            return 1.0
        return 0.5 if difference == 1 else 0.0

    def score(text: str) -> float:
        found = sentences(text)
        if len(found) != expected_sentences:
            return 0.0
        return sum(credit(sentence) for sentence in found) / expected_sentences

    return score


@register(
    "sentence_word_staircase",
    {},
    lambda params: "fraction of sentences with one word more than the sentence before "
    "(the first must have one word)",
)
def build_sentence_word_staircase(params: Mapping[str, Any]) -> ScoreFunction:
    """Fraction of sentences whose word count is the previous count plus one, starting from 1."""

    def score(text: str) -> float:
        found = sentences(text)
        if not found:
            return 0.0
        previous = 0
        hits = 0
        for sentence in found:
            count = sentence_word_count(sentence)
            if count == previous + 1:
                hits += 1
            previous = count
        return hits / len(found)

    return score
