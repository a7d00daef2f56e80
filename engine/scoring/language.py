"""Language identification with langdetect, seeded so that repeated runs agree.

langdetect samples n-grams at random; `DetectorFactory.seed` fixes that
sampling, so the same text always gets the same probabilities.
"""

from __future__ import annotations

from functools import lru_cache

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

DetectorFactory.seed = 0


@lru_cache(maxsize=1024)
def language_probabilities(text: str) -> dict[str, float]:
    """Return langdetect's ranked languages as {code: probability}; empty when it finds no features.

    langdetect raises LangDetectException for text without letters (digits,
    punctuation, emoji); that case means "no language" here.
    """
    try:
        ranked = detect_langs(text)
    except LangDetectException:
        return {}
    return {str(language.lang): float(language.prob) for language in ranked}


def top_language(text: str) -> str | None:
    """Return the most probable language code, or None when none is detected."""
    probabilities = language_probabilities(text)
    if not probabilities:
        return None
    return max(probabilities, key=probabilities.__getitem__)
