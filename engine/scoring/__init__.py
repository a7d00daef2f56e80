"""Persona scorers built from declarative specs in personas.json.

A spec names a kind and its parameters, for example
{"kind": "word_fraction", "word_list": "teen_slang"}. An optional "published"
spec describes what the published judge computed when it differs (bugs
included), and an optional "note" explains the difference. Every scorer runs offline on
data shipped in PyPI packages.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any, Protocol

from .compile import compile_spec, describe_spec
from .fluency import is_fluent_english
from .registry import KINDS, ScoreFunction

__all__ = ["KINDS", "Scorer", "build_scorer", "gate_applies", "is_fluent_english", "warm_up"]

logger = logging.getLogger(__name__)

# Errors a score function can raise on odd input. The Scorer contract is
# "never raises", so these become a score of 0.0 and a logged warning.
_SCORING_ERRORS = (ValueError, TypeError, LookupError, ArithmeticError, RecursionError)


class Scorer:
    """A persona's scorer: `score` applies the rule as intended, `published` as first published."""

    def __init__(
        self,
        index: int,
        spec: Mapping[str, Any],
        score_function: ScoreFunction,
        published_function: ScoreFunction,
    ) -> None:
        self.index = index
        self.kind: str = spec["kind"]
        self.spec: dict[str, Any] = dict(spec)
        self.description: str = describe_spec(spec)
        published_spec = spec.get("published")
        self.published_description: str = describe_spec(published_spec) if published_spec else self.description
        self._score_function = score_function
        self._published_function = published_function
        self._failures = 0

    def __repr__(self) -> str:
        return f"Scorer(index={self.index}, kind={self.kind!r})"

    def score(self, text: str) -> float:
        """Score an answer by the rule as intended; a float in [0, 1], never raises."""
        return self._run(self._score_function, text, "score")

    def published(self, text: str) -> float:
        """Score an answer as the published judge did, bugs included; a float in [0, 1], never raises."""
        return self._run(self._published_function, text, "published")

    def _run(self, function: ScoreFunction, text: str, variant: str) -> float:
        """Call a score function and clamp its value to [0, 1]; errors, NaN and non-string input give 0.0."""
        if not isinstance(text, str):
            return 0.0

        try:
            value = float(function(text))
        except _SCORING_ERRORS as error:
            self._log_failure(variant, text, error)
            return 0.0

        if math.isnan(value):
            return 0.0
        return min(max(value, 0.0), 1.0)

    def _log_failure(self, variant: str, text: str, error: Exception) -> None:
        """Log the first failure of this scorer with its traceback, then every 100th."""
        self._failures += 1
        if self._failures == 1 or self._failures % 100 == 0:
            logger.warning(
                "scorer of persona %d (kind %r, %s) failed %d time(s); scored 0.0 for a %d-character answer: %r",
                self.index, self.kind, variant, self._failures, len(text), error,
                exc_info=self._failures == 1,
            )


def build_scorer(spec: dict, index: int) -> Scorer:
    """Build a persona's scorer from its spec; raise ValueError naming the problem."""
    where = f"scorer of persona {index}"
    if not isinstance(spec, Mapping):
        raise ValueError(f"{where}: must be an object or null, got {type(spec).__name__}")

    score_function = compile_spec(spec, where)

    published_spec = spec.get("published")
    if published_spec is None:
        published_function = score_function
    else:
        if isinstance(published_spec, Mapping) and "published" in published_spec:
            raise ValueError(f"{where}: a 'published' spec may not contain another 'published'")
        published_function = compile_spec(published_spec, f"{where}, published")

    return Scorer(index, spec, score_function, published_function)


def warm_up() -> None:
    """Load every data file the scorers use, so that the first scored answer is not slow.

    The first scoring otherwise takes most of a second (tagger model, CMUdict,
    VADER lexicon, langdetect profiles); an app can call this in the background.
    """
    from . import language, lexicon, sentiment, tagger

    tagger.tag("Warm up the tagger.")
    lexicon.syllable_count("warm")
    lexicon.frequent_words(10000)
    lexicon.is_english_word("warm")
    sentiment.polarity("Warm up the sentiment lexicon.")
    language.language_probabilities("Warm up the language profiles.")


class _HasCategory(Protocol):
    category: str


def gate_applies(persona: _HasCategory) -> bool:
    """Return whether the English fluency gate may multiply this persona's scores.

    It is off for the 'language' category (personas 4, 98 and 99), whose
    prompts ask for French, where the gate would zero every compliant answer.
    """
    return persona.category != "language"
