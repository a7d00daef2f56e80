"""Offline English part-of-speech tagging with Penn Treebank tags (VBD, NNS, ...).

The model is the averaged perceptron by Matthew Honnibal that the PyPI package
`textblob-aptagger` 0.2.0 ships as `trontagger-0.1.0.pickle` (trained on Wall
Street Journal text, MIT licence). Only its weights are read here. The
package's own code imports TextBlob and NLTK, so the inference is
re-implemented below with the same features.
"""

from __future__ import annotations

import importlib.util
import pickle
import re
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from .text import normalise_apostrophes, sentences

MODEL_PACKAGE = "textblob_aptagger"
MODEL_FILE = "trontagger-0.1.0.pickle"

_START = ("-START-", "-START2-")
_END = ("-END-", "-END2-")

# Penn Treebank-like tokens: "don't" becomes "do" + "n't" and "I'm" becomes "I" + "'m".
# Hyphenated words and decimals stay whole, and other punctuation is a token of its own.
_TOKEN = re.compile(
    r"\w+(?=n't\b)|n't\b|'(?:s|m|d|ll|re|ve)\b|\w+(?:[-.]\w+)*|\.\.\.|[^\w\s]",
    re.IGNORECASE,
)


class _ModelUnpickler(pickle.Unpickler):
    """Unpickler for the model file, which holds only dicts, strings, floats and one set."""

    def find_class(self, module: str, name: str) -> type:
        if module in ("builtins", "__builtin__") and name == "set":
            return set
        raise pickle.UnpicklingError(f"the tagger model may not reference {module}.{name}")


def model_path() -> Path:
    """Locate the model file inside the installed package without importing the package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"the POS tagger model needs the package {MODEL_PACKAGE.replace('_', '-')}; "
            "install it with: pip install textblob-aptagger"
        )
    return Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE


@lru_cache(maxsize=1)
def _model() -> tuple[dict[str, dict[str, float]], dict[str, str], tuple[str, ...]]:
    """Load (weights, tag dictionary, classes); the pickle was written by Python 2, hence latin-1."""
    with model_path().open("rb") as handle:
        weights, tag_dictionary, classes = _ModelUnpickler(handle, encoding="latin1").load()
    return weights, tag_dictionary, tuple(sorted(classes))


def _normalise(word: str) -> str:
    if "-" in word and word[0] != "-":
        return "!HYPHEN"
    if word.isdigit() and len(word) == 4:
        return "!YEAR"
    if word[0].isdigit():
        return "!DIGITS"
    return word.lower()


def _features(i: int, word: str, context: list[str], prev: str, prev2: str) -> list[str]:
    """Feature names exactly as in the training code; a change needs a retrained model."""
    i += len(_START)
    return [
        "bias",
        "i suffix " + word[-3:],
        "i pref1 " + word[0],
        "i-1 tag " + prev,
        "i-2 tag " + prev2,
        "i tag+i-2 tag " + prev + " " + prev2,
        "i word " + context[i],
        "i-1 tag+i word " + prev + " " + context[i],
        "i-1 word " + context[i - 1],
        "i-1 suffix " + context[i - 1][-3:],
        "i-2 word " + context[i - 2],
        "i+1 word " + context[i + 1],
        "i+1 suffix " + context[i + 1][-3:],
        "i+2 word " + context[i + 2],
    ]


def tokenize(sentence: str) -> list[str]:
    """Split a sentence into Penn Treebank-like tokens."""
    return _TOKEN.findall(normalise_apostrophes(sentence))


@lru_cache(maxsize=256)
def tag(text: str) -> tuple[tuple[str, str], ...]:
    """Tag every token of the text; returns (token, Penn Treebank tag) pairs."""
    weights, tag_dictionary, classes = _model()
    tagged: list[tuple[str, str]] = []
    prev, prev2 = _START

    for sentence in sentences(text):
        words = tokenize(sentence)
        context = list(_START) + [_normalise(word) for word in words] + list(_END)
        for i, word in enumerate(words):
            guess = tag_dictionary.get(word)
            if not guess:
                scores: defaultdict[str, float] = defaultdict(float)
                for feature in _features(i, word, context, prev, prev2):
                    for label, weight in weights.get(feature, {}).items():
                        scores[label] += weight
                guess = max(classes, key=lambda label: (scores[label], label))
            tagged.append((word, guess))
            prev2, prev = prev, guess

    return tuple(tagged)
