"""Scorer kinds that combine other specs or return a fixed value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .registry import Param, ScoreFunction, register


def _describe_all(params: Mapping[str, Any]) -> str:
    from .compile import describe_spec

    return "all of: " + "; ".join(describe_spec(part) for part in params["parts"])


@register("all", {"parts": Param((list,), item_types=(dict,), non_empty=True)}, _describe_all)
def build_all(params: Mapping[str, Any]) -> ScoreFunction:
    """Score by the lowest part, so a 0/1 rule passes only when every part passes."""
    from .compile import compile_spec

    parts = [compile_spec(part, f"parts[{position}]") for position, part in enumerate(params["parts"])]
    return lambda text: min(part(text) for part in parts)


@register(
    "constant",
    {"value": Param((float,))},
    lambda params: f"always {params['value']:g}",
)
def build_constant(params: Mapping[str, Any]) -> ScoreFunction:
    """Return a fixed value, as a published judge did that scored every answer the same."""
    value = float(params["value"])
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"'value' must be between 0 and 1, got {value}")
    return lambda text: value
