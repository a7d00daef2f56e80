"""The benchmark personas: system prompt, probe question and scorer, loaded from personas.json."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.scoring import Scorer, build_scorer

CATEGORIES = ("pattern", "multiple_choice", "persona", "memorization", "language")

_LABEL_PROMPT_CHARS = 40
_REQUIRED_TEXT_FIELDS = ("category", "system_prompt", "probe_question", "score_rule")
_REGENERATE_HINT = "python -m engine.scoring.build_personas REFERENCE.jsonl"


@dataclass(frozen=True)
class Persona:
    """One benchmark persona; `scorer` is None when it is not scored (never a made-up value)."""

    index: int
    category: str
    system_prompt: str
    probe_question: str
    score_rule: str
    scorer: Scorer | None

    @property
    def label(self) -> str:
        """Short one-line text for lists, e.g. '#9 WRITE YOUR RESPONSE ENTIRELY IN CAPITAL…'."""
        prompt = " ".join(self.system_prompt.split())
        if len(prompt) > _LABEL_PROMPT_CHARS:
            cut = prompt[:_LABEL_PROMPT_CHARS]
            if " " in cut:
                cut = cut[:cut.rindex(" ")]
            prompt = cut.rstrip(" ,.;:") + "…"
        return f"#{self.index} {prompt}"


class PersonaFileError(ValueError):
    """personas.json is missing or invalid; the message names the file, the entry and the fix."""


def default_personas_path() -> Path:
    """Return <repository root>/personas.json."""
    import engine

    return Path(engine.__file__).resolve().parent.parent / "personas.json"


_cache: dict[tuple[Path, int, int], tuple[Persona, ...]] = {}
_cache_lock = threading.Lock()


def load_personas(path: Path | str | None = None) -> list[Persona]:
    """Load and validate the persona file; results are cached per path until the file changes.

    Raises PersonaFileError naming the file, the entry index and the problem.
    """
    resolved = Path(path).resolve() if path is not None else default_personas_path()
    try:
        status = resolved.stat()
    except OSError as error:
        raise PersonaFileError(
            f"{resolved}: persona file not found or unreadable ({error.strerror}). "
            f"Pass the path of a personas.json, or regenerate it with: {_REGENERATE_HINT}"
        ) from error

    key = (resolved, status.st_mtime_ns, status.st_size)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is None:
        cached = tuple(_parse_file(resolved))
        with _cache_lock:
            _cache[key] = cached
    return list(cached)


def _parse_file(path: Path) -> list[Persona]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise PersonaFileError(
            f"{path}: invalid JSON at line {error.lineno}, column {error.colno} ({error.msg}). "
            f"Fix the syntax or regenerate the file with: {_REGENERATE_HINT}"
        ) from error
    except (OSError, UnicodeDecodeError) as error:
        raise PersonaFileError(f"{path}: cannot read the persona file ({error}).") from error

    if not isinstance(raw, list):
        raise PersonaFileError(f"{path}: the top level must be a JSON list of persona objects, "
                               f"got {type(raw).__name__}.")

    return [_parse_entry(path, position, entry) for position, entry in enumerate(raw)]


def _entry_error(path: Path, position: int, problem: str) -> PersonaFileError:
    return PersonaFileError(f"{path}: entry {position}: {problem}. Fix that entry, or regenerate the "
                            f"file with: {_REGENERATE_HINT}")


def _parse_entry(path: Path, position: int, entry: Any) -> Persona:
    if not isinstance(entry, dict):
        raise _entry_error(path, position, f"must be an object, got {type(entry).__name__}")

    index = entry.get("index")
    if not isinstance(index, int) or isinstance(index, bool):
        raise _entry_error(path, position, f"'index' must be an integer, got {index!r}")
    if index != position:
        raise _entry_error(path, position, f"'index' is {index} but entries must be in index order "
                                           f"(expected {position})")

    for field in _REQUIRED_TEXT_FIELDS:
        if field not in entry:
            raise _entry_error(path, position, f"the field {field!r} is missing")
        if not isinstance(entry[field], str):
            raise _entry_error(path, position, f"{field!r} must be a string, got {type(entry[field]).__name__}")
    if entry["category"] not in CATEGORIES:
        raise _entry_error(path, position, f"unknown category {entry['category']!r} "
                                           f"(known: {', '.join(CATEGORIES)})")

    if "scorer" not in entry:
        raise _entry_error(path, position, "the field 'scorer' is missing (use null for a persona "
                                           "that is not scored)")
    scorer = None
    if entry["scorer"] is not None:
        try:
            scorer = build_scorer(entry["scorer"], index)
        except ValueError as error:
            raise _entry_error(path, position, str(error)) from error

    return Persona(
        index=index,
        category=entry["category"],
        system_prompt=entry["system_prompt"],
        probe_question=entry["probe_question"],
        score_rule=entry["score_rule"],
        scorer=scorer,
    )
