"""Turn a declarative spec ({"kind": ..., params}) into a score function."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import choice, kinds_chars, kinds_combine, kinds_counts, kinds_format, kinds_lexical  # noqa: F401
from . import kinds_patterns, kinds_text  # noqa: F401  (importing registers the kinds)
from .registry import KINDS, Kind, ScoreFunction, validate_params


def _kind_of(spec: Any, where: str) -> tuple[Kind, dict[str, Any]]:
    """Look up the spec's kind and validate its parameters; raise ValueError naming `where`."""
    if not isinstance(spec, Mapping):
        raise ValueError(f"{where}: a scorer must be an object, got {type(spec).__name__}")
    name = spec.get("kind")
    if not isinstance(name, str):
        raise ValueError(f"{where}: the field 'kind' is missing or not a string")
    if name not in KINDS:
        raise ValueError(f"{where}: unknown scorer kind {name!r} (known kinds: {', '.join(sorted(KINDS))})")
    if "note" in spec and not isinstance(spec["note"], str):
        raise ValueError(f"{where}: the field 'note' must be a string")

    kind = KINDS[name]
    try:
        params = validate_params(kind, spec)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from error
    return kind, params


def compile_spec(spec: Any, where: str = "scorer") -> ScoreFunction:
    """Validate a spec and build its score function; raise ValueError naming the problem."""
    kind, params = _kind_of(spec, where)
    try:
        return kind.build(params)
    except ValueError as error:
        raise ValueError(f"{where} (kind {kind.name!r}): {error}") from error


def describe_spec(spec: Mapping[str, Any]) -> str:
    """Return the one-line description of an already validated spec."""
    kind, params = _kind_of(spec, "scorer")
    return kind.describe(params)
