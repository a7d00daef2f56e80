"""VADER sentiment from the `vaderSentiment` package, which ships its lexicon."""

from __future__ import annotations

from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


@lru_cache(maxsize=256)
def polarity(text: str) -> dict[str, float]:
    """Return VADER's scores for the text: 'neg', 'neu', 'pos' proportions and 'compound' in [-1, 1]."""
    return dict(_analyzer().polarity_scores(text))
