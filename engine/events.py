"""Past-tense events that a self-chat run emits.

The engine emits these plain dataclasses; the store records them and the TUI
renders them. Nothing here depends on Textual or on the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

Speaker = Literal["starter", "agent", "user"]


@dataclass(frozen=True)
class RunStarted:
    """A run began (or resumed) with `completed_turns` turns already stored."""

    run_id: str
    completed_turns: int


@dataclass(frozen=True)
class TurnStarted:
    """A model began generating turn `turn` (1-based, the starter is turn 1)."""

    run_id: str
    turn: int
    speaker: Speaker


@dataclass(frozen=True)
class TokenReceived:
    """One streamed text fragment of the turn in progress."""

    run_id: str
    turn: int
    text: str


@dataclass(frozen=True)
class TurnFinished:
    """A turn is complete. `raw_text` is the model output as received."""

    run_id: str
    turn: int
    speaker: Speaker
    raw_text: str
    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    prompt_tokens_evaluated: int | None = None
    # best_of_n only: every candidate with its ranking components, and the one kept.
    candidates: tuple[dict, ...] = ()
    selected_index: int | None = None


@dataclass(frozen=True)
class ProbeScored:
    """One sampled probe answer after agent turn `turn`, with its scores.

    `score` is None when the persona has no scorer yet ("not scored").
    """

    run_id: str
    turn: int
    sample: int
    raw_text: str
    score: float | None
    published: float | None
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    prompt_tokens_evaluated: int | None = None


@dataclass(frozen=True)
class RunFinished:
    """All requested turns and probes are stored."""

    run_id: str
    stability: list[float | None] = field(default_factory=list)


@dataclass(frozen=True)
class RunStopped:
    """The run was cancelled by the user; completed turns stay stored."""

    run_id: str
    completed_turns: int


@dataclass(frozen=True)
class RunFailed:
    """The run ended with an error; completed turns stay stored."""

    run_id: str
    error: str
    completed_turns: int


RunEvent = Union[
    RunStarted,
    TurnStarted,
    TokenReceived,
    TurnFinished,
    ProbeScored,
    RunFinished,
    RunStopped,
    RunFailed,
]
