"""The published pipeline's fluency gate: is more than half of the answer English words?"""

from __future__ import annotations

from .lexicon import is_english_word
from .text import plain_words


def is_fluent_english(text: str) -> bool:
    """Return True when more than half of the words containing letters are English words.

    Words are lower-cased with punctuation removed except apostrophes. A word is
    English when web2 lists it or its regular stem; no words means not fluent.
    """
    if not isinstance(text, str):
        return False

    words = [word for word in plain_words(text, "'") if any(char.isalpha() for char in word)]
    if not words:
        return False

    english = sum(1 for word in words if is_english_word(word))
    return english > len(words) / 2
