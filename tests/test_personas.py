"""Tests for loading personas.json: contents, labels, caching and error messages."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import engine
from engine.personas import CATEGORIES, Persona, PersonaFileError, default_personas_path, load_personas

VALID_ENTRY = {
    "index": 0,
    "category": "pattern",
    "system_prompt": "WRITE YOUR RESPONSE ENTIRELY IN CAPITAL LETTERS.",
    "probe_question": "What do you do in London as a tourist?",
    "score_rule": "Fraction of alphabetic characters that are upper-case.",
    "scorer": {"kind": "case_fraction", "case": "upper"},
}


def write_personas(folder: Path, entries: list) -> Path:
    path = folder / "personas.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


def entries_with(position: int, **changes) -> list[dict]:
    """Three valid entries, the one at `position` changed (a value of ... deletes the field)."""
    entries = [dict(VALID_ENTRY, index=index) for index in range(3)]
    for field, value in changes.items():
        if value is ...:
            del entries[position][field]
        else:
            entries[position][field] = value
    return entries


def load_error(folder: Path, entries) -> str:
    path = write_personas(folder, entries)
    with pytest.raises(PersonaFileError) as caught:
        load_personas(path)
    return str(caught.value)


# --- the shipped file ---------------------------------------------------------

def test_default_path_is_repo_root():
    assert default_personas_path() == Path(engine.__file__).resolve().parent.parent / "personas.json"


def test_shipped_file_has_100_personas():
    assert len(load_personas()) == 100


def test_shipped_personas_in_index_order():
    assert [persona.index for persona in load_personas()] == list(range(100))


def test_shipped_categories_are_known():
    assert {persona.category for persona in load_personas()} == set(CATEGORIES)


def test_shipped_personas_all_scored():
    unscored = [persona.index for persona in load_personas() if persona.scorer is None]
    assert unscored == []


def test_shipped_texts_not_empty():
    for persona in load_personas():
        assert persona.system_prompt.strip(), persona.index
        assert persona.probe_question.strip(), persona.index
        assert persona.score_rule.strip(), persona.index


def test_shipped_file_names_word_lists_not_words():
    # Word lists live in engine/data/word_lists.json and are referenced by name.
    raw = default_personas_path().read_text(encoding="utf-8")
    assert '"word_list": "teen_slang"' in raw
    assert "yeet" not in raw


# --- labels -------------------------------------------------------------------

def test_label_truncates_long_prompt():
    assert load_personas()[9].label == "#9 WRITE YOUR RESPONSE ENTIRELY IN CAPITAL…"


def test_label_keeps_short_prompt():
    persona = Persona(3, "pattern", "Be brief.", "Q?", "rule", None)
    assert persona.label == "#3 Be brief."


def test_label_is_one_line():
    persona = Persona(19, "pattern", "First line.\n\nSecond line that is long enough to cut.", "Q?", "rule", None)
    assert "\n" not in persona.label


# --- loading and caching ------------------------------------------------------

def test_null_scorer_loads_as_none(tmp_path):
    path = write_personas(tmp_path, entries_with(1, scorer=None))
    assert load_personas(path)[1].scorer is None


def test_load_accepts_string_path(tmp_path):
    path = write_personas(tmp_path, entries_with(0))
    assert len(load_personas(str(path))) == 3


def test_load_is_cached_per_path(tmp_path):
    path = write_personas(tmp_path, entries_with(0))
    first = load_personas(path)
    second = load_personas(path)
    assert first[0] is second[0]


def test_load_returns_fresh_list(tmp_path):
    path = write_personas(tmp_path, entries_with(0))
    load_personas(path).clear()
    assert len(load_personas(path)) == 3


def test_load_rereads_changed_file(tmp_path):
    path = write_personas(tmp_path, entries_with(0))
    load_personas(path)
    write_personas(tmp_path, entries_with(0)[:2])
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert len(load_personas(path)) == 2


# --- load errors --------------------------------------------------------------

def test_error_for_missing_file(tmp_path):
    path = tmp_path / "absent.json"
    with pytest.raises(PersonaFileError) as caught:
        load_personas(path)
    assert str(path) in str(caught.value)
    assert "not found" in str(caught.value)


def test_error_for_invalid_json(tmp_path):
    path = tmp_path / "personas.json"
    path.write_text('[{"index": 0,', encoding="utf-8")
    with pytest.raises(PersonaFileError) as caught:
        load_personas(path)
    assert "invalid JSON at line 1" in str(caught.value)


def test_error_for_top_level_object(tmp_path):
    message = load_error(tmp_path, {"personas": []})
    assert "must be a JSON list" in message


def test_error_is_value_error(tmp_path):
    path = write_personas(tmp_path, entries_with(2, scorer={"kind": "nope"}))
    with pytest.raises(ValueError):
        load_personas(path)


def test_error_names_file_and_entry(tmp_path):
    message = load_error(tmp_path, entries_with(2, scorer={"kind": "nope"}))
    assert str(tmp_path / "personas.json") in message
    assert "entry 2" in message
    assert "build_personas" in message


def test_error_for_unknown_kind(tmp_path):
    message = load_error(tmp_path, entries_with(2, scorer={"kind": "nope"}))
    assert "unknown scorer kind 'nope'" in message


def test_error_for_missing_scorer_field(tmp_path):
    message = load_error(tmp_path, entries_with(1, scorer={"kind": "sentence_count"}))
    assert "entry 1" in message
    assert "needs the field 'count'" in message


def test_error_for_bad_regex(tmp_path):
    message = load_error(tmp_path, entries_with(2, scorer={"kind": "regex", "pattern": "[a-"}))
    assert "entry 2" in message
    assert "not a valid regular expression" in message


def test_error_for_wrong_parameter_type(tmp_path):
    message = load_error(tmp_path, entries_with(1, scorer={"kind": "contains", "texts": "tennis"}))
    assert "entry 1" in message
    assert "'texts' of kind 'contains' must be a list" in message


def test_error_for_scorer_not_object(tmp_path):
    message = load_error(tmp_path, entries_with(1, scorer=["case_fraction"]))
    assert "entry 1" in message
    assert "must be an object or null" in message


def test_error_for_missing_scorer_key(tmp_path):
    message = load_error(tmp_path, entries_with(1, scorer=...))
    assert "entry 1" in message
    assert "'scorer' is missing" in message


def test_error_for_missing_prompt(tmp_path):
    message = load_error(tmp_path, entries_with(2, system_prompt=...))
    assert "entry 2" in message
    assert "'system_prompt' is missing" in message


def test_error_for_non_string_probe(tmp_path):
    message = load_error(tmp_path, entries_with(1, probe_question=42))
    assert "entry 1" in message
    assert "'probe_question' must be a string" in message


def test_error_for_string_index(tmp_path):
    message = load_error(tmp_path, entries_with(1, index="1"))
    assert "entry 1" in message
    assert "'index' must be an integer" in message


def test_error_for_index_out_of_range(tmp_path):
    message = load_error(tmp_path, entries_with(1, index=5))
    assert "entry 1" in message
    assert "outside 0..2" in message
    assert "missing: 1" in message


def test_error_for_unknown_category(tmp_path):
    message = load_error(tmp_path, entries_with(0, category="poetry"))
    assert "entry 0" in message
    assert "unknown category 'poetry'" in message


def test_error_for_entry_not_object(tmp_path):
    message = load_error(tmp_path, [VALID_ENTRY, "persona"])
    assert "entry 1" in message
    assert "must be an object" in message
