"""Tokenisation shared by the scorers: words, plain words and sentences.

The splitting functions cache their results per text, because one probe answer
is scored by many scorers in a row and most of them need the same split.
"""

from __future__ import annotations

import re
import string
import unicodedata
from functools import lru_cache

import pysbd

_CACHE_SIZE = 256

# pysbd 0.3.4 takes time that grows with the square of the sentence count in
# one call: 2,000 sentences "a." took 0.5 s on a 2-core x86_64 machine. Long
# texts are therefore cut into blocks after sentence punctuation, and each
# block is segmented on its own.
_BLOCK_CHARS = 600
_CLEAR_SENTENCE_END = re.compile(r"(?<=\w\w)[.!?]+[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_ANY_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*\s+")

_WORD_CHARS = re.compile(r"\w+")
_SEGMENTER = pysbd.Segmenter(language="en", clean=False)


@lru_cache(maxsize=_CACHE_SIZE)
def normalise_apostrophes(text: str) -> str:
    """Replace typographic apostrophes with ASCII ones, so "I’m" matches "I'm"."""
    return text.replace("’", "'").replace("‘", "'").replace("ʼ", "'")


def is_punctuation(char: str) -> bool:
    """Return whether the character is in a Unicode punctuation category (P*)."""
    return unicodedata.category(char).startswith("P")


@lru_cache(maxsize=_CACHE_SIZE)
def remove_punctuation(text: str, keep: str = "") -> str:
    """Delete ASCII punctuation and Unicode punctuation, except characters in `keep`.

    ASCII punctuation is Python's `string.punctuation`, which the published
    judges strip; Unicode punctuation (category P*) adds curly quotes and dashes.
    """
    return "".join(
        char
        for char in text
        if char in keep or not (char in string.punctuation or is_punctuation(char))
    )


@lru_cache(maxsize=_CACHE_SIZE)
def whitespace_words(text: str) -> tuple[str, ...]:
    """Split on whitespace, as Python's `str.split()` does."""
    return tuple(text.split())


@lru_cache(maxsize=_CACHE_SIZE)
def plain_words(text: str, keep: str = "") -> tuple[str, ...]:
    """Lower-case whitespace words with punctuation removed (empty words dropped)."""
    stripped = remove_punctuation(normalise_apostrophes(text), keep)
    return tuple(stripped.lower().split())


@lru_cache(maxsize=_CACHE_SIZE)
def word_runs(text: str) -> tuple[str, ...]:
    """Lower-case runs of word characters (letters, digits, underscore)."""
    return tuple(_WORD_CHARS.findall(text.lower()))


@lru_cache(maxsize=_CACHE_SIZE)
def letters_only(word: str) -> str:
    """Return the alphabetic characters of a word, in order."""
    return "".join(char for char in word if char.isalpha())


def _last_end(pattern: re.Pattern[str], window: str) -> int:
    """Return the end of the pattern's last match in the window, or 0 when it does not match."""
    end = 0
    for match in pattern.finditer(window):
        end = match.end()
    return end


def _blocks(text: str) -> list[str]:
    """Cut text into blocks of at most about `_BLOCK_CHARS`, only after sentence punctuation.

    A clear sentence end (a word of two or more letters, then '.', '!' or '?',
    then a capital) is preferred. Text without any such punctuation stays whole.
    """
    blocks: list[str] = []
    start = 0

    while len(text) - start > _BLOCK_CHARS:
        window = text[start:start + _BLOCK_CHARS]
        cut = _last_end(_CLEAR_SENTENCE_END, window) or _last_end(_ANY_SENTENCE_END, window)
        if not cut:
            # No sentence punctuation in this window: extend it to the next mark.
            match = _ANY_SENTENCE_END.search(text, start + _BLOCK_CHARS)
            if not match:
                break
            cut = match.end() - start
        blocks.append(text[start:start + cut])
        start += cut

    blocks.append(text[start:])
    return blocks


@lru_cache(maxsize=_CACHE_SIZE)
def sentences(text: str) -> tuple[str, ...]:
    """Split text into stripped, non-empty sentences with pysbd's English rules."""
    found: list[str] = []

    for block in _blocks(text):
        if not block.strip():
            continue
        for sentence in _SEGMENTER.segment(block):
            stripped = sentence.strip()
            if stripped:
                found.append(stripped)

    return tuple(found)


def sentence_word_count(sentence: str) -> int:
    """Count whitespace words that contain at least one letter or digit."""
    return sum(1 for word in sentence.split() if any(char.isalnum() for char in word))
