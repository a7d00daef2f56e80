"""Registry of scorer kinds and validation of their declarative parameters.

A kind is a named rule family with typed parameters. `personas.json` names a
kind and gives its parameters, so a new persona that reuses a kind needs no code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

ScoreFunction = Callable[[str], float]

_MISSING = object()


@dataclass(frozen=True)
class Param:
    """One parameter of a kind: its accepted JSON types and its default."""

    types: tuple[type, ...]
    default: Any = _MISSING
    item_types: tuple[type, ...] | None = None
    choices: tuple[Any, ...] | None = None
    non_empty: bool = False
    is_regex: bool = False

    @property
    def required(self) -> bool:
        return self.default is _MISSING


@dataclass(frozen=True)
class Kind:
    """A scorer kind: parameter schema, a factory for the score function, a summary."""

    name: str
    params: Mapping[str, Param]
    build: Callable[[Mapping[str, Any]], ScoreFunction]
    describe: Callable[[Mapping[str, Any]], str]
    doc: str = field(default="")


KINDS: dict[str, Kind] = {}

# Keys that any spec may carry besides its kind's parameters.
COMMON_KEYS = frozenset({"kind", "published", "note"})

_TYPE_NAMES = {str: "a string", bool: "true or false", int: "an integer", float: "a number",
               list: "a list", dict: "an object"}


def register(
    name: str,
    params: Mapping[str, Param],
    describe: Callable[[Mapping[str, Any]], str],
) -> Callable[[Callable[[Mapping[str, Any]], ScoreFunction]], Callable[[Mapping[str, Any]], ScoreFunction]]:
    """Register the decorated factory as the scorer kind `name`."""

    def decorator(build: Callable[[Mapping[str, Any]], ScoreFunction]) -> Callable[[Mapping[str, Any]], ScoreFunction]:
        if name in KINDS:
            raise RuntimeError(f"scorer kind {name!r} is registered twice")
        KINDS[name] = Kind(name, dict(params), build, describe, (build.__doc__ or "").strip())
        return build

    return decorator


def _type_name(types: tuple[type, ...]) -> str:
    return " or ".join(_TYPE_NAMES.get(kind, kind.__name__) for kind in types)


def _has_type(value: Any, types: tuple[type, ...]) -> bool:
    """Check a JSON value's type; bool is not accepted where a number is expected."""
    if isinstance(value, bool) and bool not in types:
        return False
    if isinstance(value, int) and float in types:
        return True
    return isinstance(value, types)


def validate_params(kind: Kind, spec: Mapping[str, Any]) -> dict[str, Any]:
    """Check a spec's parameters against the kind's schema and fill in defaults.

    Raises ValueError naming the parameter and what is wrong with it.
    """
    unknown = sorted(set(spec) - set(kind.params) - COMMON_KEYS)
    if unknown:
        allowed = ", ".join(sorted(kind.params)) or "none"
        raise ValueError(f"unknown field(s) {', '.join(map(repr, unknown))} for kind "
                         f"{kind.name!r} (its fields: {allowed})")

    values: dict[str, Any] = {}
    for name, param in kind.params.items():
        if name not in spec:
            if param.required:
                raise ValueError(f"kind {kind.name!r} needs the field {name!r}")
            values[name] = param.default
            continue

        value = spec[name]
        if not _has_type(value, param.types):
            raise ValueError(f"field {name!r} of kind {kind.name!r} must be "
                             f"{_type_name(param.types)}, got {type(value).__name__} {value!r:.60}")

        if param.item_types is not None:
            items = value.values() if isinstance(value, dict) else value
            for item in items:
                if not _has_type(item, param.item_types):
                    raise ValueError(f"field {name!r} of kind {kind.name!r} must contain only "
                                     f"{_type_name(param.item_types)} items, got {item!r:.60}")

        if param.non_empty and len(value) == 0:
            raise ValueError(f"field {name!r} of kind {kind.name!r} must not be empty")

        if param.choices is not None and value not in param.choices:
            raise ValueError(f"field {name!r} of kind {kind.name!r} must be one of "
                             f"{', '.join(map(repr, param.choices))}, got {value!r}")

        if param.is_regex:
            try:
                re.compile(value)
            except re.error as error:
                raise ValueError(f"field {name!r} of kind {kind.name!r} is not a valid "
                                 f"regular expression ({error}): {value!r}") from error

        values[name] = value

    return values
