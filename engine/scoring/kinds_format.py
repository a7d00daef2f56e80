"""Scorer kinds for output formats and numbers: JSON objects, lists, dashes, integers."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .registry import Param, ScoreFunction, register

# Python refuses to convert integers longer than 4,300 digits; far shorter
# ones are already hopeless as an answer, so the first integer is capped.
_MAX_INTEGER_DIGITS = 18
# Bounds the JSON scan on hostile input such as 20,000 '{' characters.
_MAX_JSON_STARTS = 50


@register(
    "json_object",
    {
        "keys": Param((list,), item_types=(str,), non_empty=True),
        "parse": Param((bool,), default=True),
    },
    lambda params: "1 if the answer holds a JSON object with the keys "
    + ", ".join(repr(key) for key in params["keys"])
    + (" (parsed, or written in that order)" if params["parse"] else " written in that order")
    + ", else 0",
)
def build_json_object(params: Mapping[str, Any]) -> ScoreFunction:
    """1 for a JSON-like object with the keys in order, or (with `parse`) any parsed object with them.

    The JSON-like pattern is what the published judge checked; parsing also
    accepts valid JSON with other key order, spacing or escapes.
    """
    keys = params["keys"]
    parse = params["parse"]
    key_patterns = r"\s*,\s*".join(rf'"{re.escape(key)}"\s*:\s*.+?' for key in keys)
    pattern = re.compile(r"\{\s*" + key_patterns + r"\s*\}", re.DOTALL)
    decoder = json.JSONDecoder()

    def parsed_has_keys(text: str) -> bool:
        starts = [match.start() for match in re.finditer(r"\{", text)][:_MAX_JSON_STARTS]
        for start in starts:
            try:
                value, _ = decoder.raw_decode(text, start)
            except (ValueError, RecursionError):
                continue
            if isinstance(value, dict) and all(key in value for key in keys):
                return True
        return False

    def score(text: str) -> float:
        if pattern.search(text):
            return 1.0
        return 1.0 if parse and parsed_has_keys(text) else 0.0

    return score


@register(
    "bracket_list",
    {},
    lambda params: "share of the items between the first '[' and the first ']' "
    "(split on ', ') that are single words",
)
def build_bracket_list(params: Mapping[str, Any]) -> ScoreFunction:
    """Fraction of ', '-separated items in the first [...] that are one word; 0 without brackets."""

    def score(text: str) -> float:
        opening = text.find("[")
        closing = text.find("]")
        if opening < 0 or closing < opening:
            return 0.0
        items = text[opening + 1:closing].split(", ")
        return sum(1 for item in items if len(item.split()) == 1) / len(items)

    return score


@register("dash_separated", {}, lambda params: "share of '-'-separated chunks that are one character")
def build_dash_separated(params: Mapping[str, Any]) -> ScoreFunction:
    """Fraction of the chunks between '-' characters that are exactly one character long."""

    def score(text: str) -> float:
        chunks = text.split("-")
        return sum(1 for chunk in chunks if len(chunk) == 1) / len(chunks)

    return score


@register(
    "number_near",
    {"target": Param((int,)), "tolerance": Param((int,), default=None)},
    lambda params: f"1 - |first integer - {params['target']}| / {params['tolerance'] or params['target']}, "
    "floored at 0; 0 without digits",
)
def build_number_near(params: Mapping[str, Any]) -> ScoreFunction:
    """Closeness of the first integer in the answer to a target; 0 when there are no digits."""
    target = params["target"]
    tolerance = params["tolerance"] or abs(target)
    if tolerance <= 0:
        raise ValueError("'tolerance' (or a non-zero 'target') must be positive")
    first_integer = re.compile(r"\d+")

    def score(text: str) -> float:
        match = first_integer.search(text)
        if not match:
            return 0.0
        digits = match.group().lstrip("0") or "0"
        if len(digits) > _MAX_INTEGER_DIGITS:
            return 0.0
        return 1.0 - min(abs(int(digits) - target) / tolerance, 1.0)

    return score


NUMBER_WORDS = (
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy",
    "eighty", "ninety", "hundred", "thousand",
)


@register(
    "number_present",
    {"whole_word": Param((bool,), default=True)},
    lambda params: "1 if the answer contains digits or a number word (one to thousand)"
    + (" as a whole word" if params["whole_word"] else "")
    + ", else 0",
)
def build_number_present(params: Mapping[str, Any]) -> ScoreFunction:
    """1 for any digit or number word; without `whole_word`, 'one' inside 'someone' counts too."""
    words = "|".join(NUMBER_WORDS)
    if params["whole_word"]:
        pattern = re.compile(rf"\d|(?<![^\W\d_])(?:{words})s?(?![^\W\d_])", re.IGNORECASE)
    else:
        pattern = re.compile(rf"\d|{words}", re.IGNORECASE)
    return lambda text: 1.0 if pattern.search(text) else 0.0
