"""The benchmark personas: system prompt, probe question and scorer, loaded from personas.json."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
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
    """A persona file or dataset is missing or invalid; the message names the source, the entry and the fix."""


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

    return parse_entries(str(path), raw, fix=f"Fix that entry, or regenerate the file with: {_REGENERATE_HINT}")


def entry_error(source: str, position: int, problem: str, *, line: int | None = None,
                fix: str = "Fix that entry.") -> PersonaFileError:
    """Return the error for one invalid entry: the source, the entry's position (and line), the problem and the fix."""
    where = f"entry {position}" if line is None else f"entry {position} (line {line})"
    return PersonaFileError(f"{source}: {where}: {problem}. {fix}")


def parse_entries(
    source: str,
    entries: Sequence[Any],
    *,
    lines: Sequence[int] | None = None,
    fix: str = "Fix that entry.",
) -> list[Persona]:
    """Validate raw persona entries from any source and return the personas in index order.

    An entry without "index" gets its position. The indexes must be 0..n-1
    without gaps or duplicates, in any order. Raises PersonaFileError naming
    `source`, the entry's position (and its line when `lines` gives one) and
    the problem, for the first invalid entry.
    """
    count = len(entries)
    indexes = [_entry_index(entry, position) for position, entry in enumerate(entries)]
    used = {index for index in indexes if isinstance(index, int) and not isinstance(index, bool)}
    positions_by_index: dict[int, int] = {}
    personas: list[Persona] = []

    for position, entry in enumerate(entries):
        line = lines[position] if lines is not None else None
        try:
            persona = _parse_entry(entry, indexes[position])
            index = persona.index
            if not 0 <= index < count:
                missing = sorted(set(range(count)) - used)
                raise _EntryProblem(
                    f"'index' is {index}, outside 0..{count - 1} for a set of {count} entries "
                    f"(missing: {_list_indexes(missing)})"
                )
            if index in positions_by_index:
                raise _EntryProblem(f"duplicate index {index}: entry {positions_by_index[index]} has it too")
        except _EntryProblem as problem:
            raise entry_error(source, position, str(problem), line=line, fix=fix) from problem.__cause__

        positions_by_index[index] = position
        personas.append(persona)

    personas.sort(key=lambda persona: persona.index)
    return personas


def persona_set_digest(personas: Sequence[Persona]) -> str:
    """Return 'sha256:' and the first 16 hex digits of the SHA-256 of the set's canonical JSON.

    The canonical JSON lists every persona's index, category, texts and scorer
    spec with sorted keys, so the digest changes with any of them but not with
    the source format, key order or whitespace.
    """
    records = [
        {
            "index": persona.index,
            "category": persona.category,
            "system_prompt": persona.system_prompt,
            "probe_question": persona.probe_question,
            "score_rule": persona.score_rule,
            "scorer": persona.scorer.spec if persona.scorer is not None else None,
        }
        for persona in sorted(personas, key=lambda persona: persona.index)
    ]
    canonical = json.dumps(records, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


class _EntryProblem(ValueError):
    """One entry's problem, before entry_error() adds the source and position."""


def _entry_index(entry: Any, position: int) -> Any:
    if isinstance(entry, dict) and "index" in entry:
        return entry["index"]
    return position


def _list_indexes(indexes: list[int], shown: int = 5) -> str:
    text = ", ".join(str(index) for index in indexes[:shown])
    return text + ", …" if len(indexes) > shown else text


def _parse_entry(entry: Any, index: Any) -> Persona:
    if not isinstance(entry, dict):
        raise _EntryProblem(f"must be an object, got {type(entry).__name__}")

    if not isinstance(index, int) or isinstance(index, bool):
        raise _EntryProblem(f"'index' must be an integer, got {index!r}")

    for field in _REQUIRED_TEXT_FIELDS:
        if field not in entry:
            raise _EntryProblem(f"the field {field!r} is missing")
        if not isinstance(entry[field], str):
            raise _EntryProblem(f"{field!r} must be a string, got {type(entry[field]).__name__}")
    if entry["category"] not in CATEGORIES:
        raise _EntryProblem(f"unknown category {entry['category']!r} (known: {', '.join(CATEGORIES)})")

    if "scorer" not in entry:
        raise _EntryProblem("the field 'scorer' is missing (use null for a persona that is not scored)")
    scorer = None
    if entry["scorer"] is not None:
        try:
            scorer = build_scorer(entry["scorer"], index)
        except ValueError as error:
            raise _EntryProblem(str(error)) from error

    return Persona(
        index=index,
        category=entry["category"],
        system_prompt=entry["system_prompt"],
        probe_question=entry["probe_question"],
        score_rule=entry["score_rule"],
        scorer=scorer,
    )
