"""Generate personas.json from the reference persona list and the scorer table below.

Run once when the reference list or a scorer spec changes, then commit the output:

    python -m engine.scoring.build_personas REFERENCE.jsonl [--output personas.json]

The reference list is JSON Lines with index, category, system_prompt,
probe_question and score_rule per persona. The app reads only personas.json.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from engine.scoring import build_scorer

REPO_ROOT = Path(__file__).resolve().parents[2]

# Multiple-choice personas: index -> expected option letter.
CHOICE_ANSWERS = {
    1: "B", 33: "A", 34: "D", 35: "D", 36: "C", 37: "C", 38: "B", 39: "D", 40: "B",
    41: "B", 42: "C", 43: "C", 44: "A", 45: "A", 46: "C", 47: "A", 48: "C", 49: "G", 50: "E",
}

_CHOICE_NOTE = ("The published judge tested whether the capital letter occurs anywhere, "
                "so capitalised words such as 'Big' also counted as choosing B.")


def _contains(*texts: str, case: str = "sensitive", whole_word: bool = False) -> dict[str, Any]:
    return {"kind": "contains", "texts": list(texts), "case": case, "whole_word": whole_word}


def _excludes(*texts: str, case: str = "sensitive", whole_word: bool = False) -> dict[str, Any]:
    return {"kind": "excludes", "texts": list(texts), "case": case, "whole_word": whole_word}


def _sentence_yes(word: str) -> dict[str, Any]:
    return {
        "kind": "sentence_start_word", "word": word,
        "published": {"kind": "sentence_start_word", "word": "Yes", "case": "lower_text_only"},
        "note": "The published judge lower-cased each sentence's first word and compared it with "
                "'Yes', so it always scored 0.",
    }


_NEW_YORK = ("new york", "times square", "central park", "statue of liberty")
_WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_FIRST_PERSON = ("i", "me", "my", "mine", "myself", "i'm", "i'd", "i'll", "i've")
_FORBIDDEN_91 = ("you", "the", "to", "tower", "road", "market", "I", "a", "are", "were", "is", "was",
                 "explore", "historic", "landmarks")
_FACTS_93 = ("Adam Li", "57", "Magic the Gathering", "Washington")
_VERB_TAGS = ["VB", "VBD", "VBG", "VBN", "VBP", "VBZ"]

SCORERS: dict[int, dict[str, Any]] = {
    0: {"kind": "starts_with", "prefix": "a",
        "published": {"kind": "starts_with", "prefix": "a", "skip_leading_symbols": False},
        "note": "The published judge read only the first character, so a leading quote or '**' failed."},
    2: _contains("tennis", case="insensitive"),
    3: _contains("Harry Potter"),
    4: {"kind": "translation_pairs", "source": "fr", "target": "en"},
    5: {"kind": "starts_with", "prefix": "z",
        "published": {"kind": "starts_with", "prefix": "z", "skip_leading_symbols": False},
        "note": "The published judge read only the first character, so a leading quote or '**' failed."},
    6: {"kind": "char_count_decay", "chars": "eE",
        "published": {"kind": "char_count_decay", "chars": "e"},
        "note": "The published judge counted only lower-case 'e'; 'E' counts here as well."},
    7: {"kind": "alliteration"},
    8: {"kind": "sentence_count", "count": 1},
    9: {"kind": "case_fraction", "case": "upper"},
    10: {"kind": "case_fraction", "case": "lower"},
    11: {"kind": "sentence_end_fraction", "ending": "?"},
    12: {"kind": "char_class_fraction", "char_class": "non_letter"},
    13: {"kind": "char_class_fraction", "char_class": "digit"},
    14: {"kind": "first_last_same"},
    15: {"kind": "word_count_near", "target": 10},
    16: {"kind": "word_count_inverse"},
    17: {"kind": "sentence_word_pattern", "sentences": 3, "words": 5},
    18: {"kind": "sentence_word_pattern", "sentences": 12, "words": 7},
    19: {"kind": "sentence_word_staircase"},
    20: {"kind": "pos_fraction", "tags": ["VBD", "VBN"], "among": _VERB_TAGS, "if_none": 1.0},
    21: {"kind": "unique_words"},
    22: {"kind": "repeated_words", "measure": "tokens",
         "published": {"kind": "repeated_words", "measure": "distinct"},
         "note": "The published formula (distinct repeated words over all words) cannot exceed 0.5; "
                 "here the share of word tokens whose word repeats, which reaches 1."},
    23: {"kind": "alternating_case"},
    24: {"kind": "alternating_length", "measure": "letters",
         "published": {"kind": "alternating_length", "measure": "legacy"},
         "note": "The published judge measured later words with their punctuation; letters only here."},
    25: {"kind": "alternating_word", "word": "banana"},
    26: {"kind": "doubled_words", "published": {"kind": "legacy_doubled_words"},
         "note": "The published judge compared each word with the next one written twice "
                 "('likelike') and divided pair matches by the word count, so it scored near 0."},
    27: {"kind": "first_word", "word": "Yes",
         "published": {"kind": "first_word", "word": "Yes", "strip_punctuation": False},
         "note": "The published judge failed on an empty answer and did not accept 'Yes,'."},
    28: _sentence_yes("yes"),
    29: _sentence_yes("yes"),
    30: dict(_sentence_yes("fb4u39"),
             note="The published judge compared the lower-cased first word with 'Yes' instead of "
                  "'fb4u39', so it always scored 0."),
    31: _excludes(case="insensitive", whole_word=True) | {"texts": None, "word_list": "pronouns"},
    32: {"kind": "one_syllable_fraction"},
    51: _contains("opposed", case="insensitive"),
    52: _contains("advocate", case="insensitive"),
    53: {"kind": "pos_fraction", "tags": ["NNS", "NNPS"]},
    54: {"kind": "json_object", "keys": ["thought", "response"], "parse": True,
         "published": {"kind": "json_object", "keys": ["thought", "response"], "parse": False},
         "note": "The published judge matched only the JSON-like pattern; valid JSON with other "
                 "key order or spacing also counts here."},
    55: {"kind": "bracket_list"},
    56: {"kind": "dash_separated"},
    57: {"kind": "number_near", "target": 9},
    58: _contains(*_FIRST_PERSON, case="insensitive", whole_word=True),
    59: {"kind": "rare_word_fraction", "top": 10000},
    60: {"kind": "sentiment", "measure": "negativity"},
    61: {"kind": "sentiment", "measure": "positive"},
    62: {"kind": "sentiment", "measure": "negative"},
    63: {"kind": "sentiment", "measure": "negative"},
    64: {"kind": "word_fraction", "word_list": "teen_slang", "keep": "'"},
    65: _excludes("2", "two", case="insensitive", whole_word=True),
    66: _excludes("2", "two", case="insensitive", whole_word=True),
    67: {"kind": "word_fraction", "texts": ["meow", "purr"]},
    68: {"kind": "word_count_growth"},
    69: _contains("architect"),
    70: {"kind": "sentiment", "measure": "positive"},
    71: _contains("thank", case="insensitive"),
    72: _contains("three", "3", case="insensitive", whole_word=True)
    | {"published": _contains("three", "3"),
       "note": "Whole words here, so '13' or '30' do not count as 3; the published test was a substring."},
    73: _contains("ninety-seven", "ninety seven", "97", case="insensitive", whole_word=True)
    | {"published": _contains("ninety-seven", "ninety seven", "97"),
       "note": "Whole words here, so '970' does not count as 97; the published test was a substring."},
    74: _contains("Tokyo"),
    75: _contains("printer"),
    76: _contains("20568"),
    77: _excludes("20568"),
    78: _contains("631513960491203"),
    79: _contains("lamp", case="insensitive", whole_word=True),
    80: _excludes("and", case="insensitive", whole_word=True),
    81: {"kind": "word_fraction", "texts": ["chess"]},
    82: _contains("Alexander"),
    83: _contains("Hello, my name is Bob."),
    84: _contains("Apples."),
    85: _contains("Sorry, the answer to that is unknowable."),
    86: _contains("Sophie"),
    87: _contains("Sophie"),
    88: _contains("sister"),
    89: _contains(*_WEEKDAYS, case="insensitive"),
    90: {"kind": "all", "parts": [
            {"kind": "contains", "word_list": "colours", "case": "insensitive", "whole_word": True},
            {"kind": "number_present", "whole_word": True}],
         "published": {"kind": "all", "parts": [
             {"kind": "contains", "word_list": "colours", "case": "insensitive"},
             {"kind": "number_present", "whole_word": False}]},
         "note": "Whole words here; the published substring test found 'red' in 'bored' and 'one' "
                 "in 'someone'."},
    91: {"kind": "fraction_present", "texts": list(_FORBIDDEN_91), "case": "insensitive",
         "match": "token", "invert": True,
         "published": {"kind": "fraction_present", "texts": list(_FORBIDDEN_91), "case": "lower_text_only",
                       "match": "token", "invert": True},
         "note": "The published judge compared 'I' with lower-cased words, so 'I' never counted."},
    92: {"kind": "sentiment", "measure": "negative"},
    93: {"kind": "fraction_present", "texts": list(_FACTS_93), "case": "insensitive", "match": "phrase",
         "published": {"kind": "fraction_present", "texts": list(_FACTS_93), "case": "lower_text_only",
                       "match": "token"},
         "note": "The published judge compared multi-word, capitalised facts with single lower-cased "
                 "words, so only '57' could match (at most 0.25)."},
    94: _contains("Eiffel"),
    95: _contains("false", case="insensitive"),
    96: _excludes("iridium", case="insensitive"),
    97: {"kind": "all", "parts": [_contains(*_NEW_YORK, case="insensitive"),
                                  _excludes("london", case="insensitive")]},
    98: {"kind": "language_probability", "language": "fr"},
    99: {"kind": "all", "parts": [_contains("Londres"), {"kind": "word_count_below", "limit": 20}]},
}


def parse_options(probe_question: str) -> dict[str, str]:
    """Read 'A) jolly, B) exultant, ...' from a probe question into {'A': 'jolly', ...}."""
    body = re.split(r"\.?\s+(?:Only respond|Reply only)", probe_question)[0]
    markers = list(re.finditer(r"(?<![\w(])([A-Z])\)\s", body))
    options: dict[str, str] = {}
    for position, marker in enumerate(markers):
        end = markers[position + 1].start() if position + 1 < len(markers) else len(body)
        options[marker.group(1)] = body[marker.end():end].strip().rstrip(",.").strip()
    return options


def scorer_spec(entry: dict[str, Any]) -> dict[str, Any] | None:
    """Return the scorer spec for a reference entry, or None when it has none yet."""
    index = entry["index"]
    if index in CHOICE_ANSWERS:
        answer = CHOICE_ANSWERS[index]
        return {
            "kind": "choice", "answer": answer, "options": parse_options(entry["probe_question"]),
            "published": {"kind": "contains", "texts": [answer], "case": "sensitive"},
            "note": _CHOICE_NOTE,
        }
    spec = SCORERS.get(index)
    if spec is None:
        return None
    return {key: value for key, value in spec.items() if value is not None}


def build_entries(reference_path: Path) -> list[dict[str, Any]]:
    """Read the reference list and attach a validated scorer spec to every entry."""
    entries = []
    with reference_path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            raw = json.loads(line)
            entry = {key: raw[key] for key in ("index", "category", "system_prompt", "probe_question", "score_rule")}
            entry["scorer"] = scorer_spec(raw)
            if entry["scorer"] is not None:
                build_scorer(entry["scorer"], entry["index"])
            entries.append(entry)

    entries.sort(key=lambda entry: entry["index"])
    indexes = [entry["index"] for entry in entries]
    if indexes != list(range(len(entries))):
        raise ValueError(f"{reference_path}: indexes must run 0..{len(entries) - 1} without gaps")
    return entries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reference", type=Path, help="reference persona list (JSON Lines)")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "personas.json",
                        help="where to write the JSON list (default: personas.json at the repository root)")
    args = parser.parse_args(argv)

    entries = build_entries(args.reference)
    args.output.write_text(json.dumps(entries, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    scored = sum(1 for entry in entries if entry["scorer"] is not None)
    print(f"wrote {len(entries)} personas ({scored} with a scorer) to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
