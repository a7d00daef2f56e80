"""The backend interface: one async call that streams a reply.

A backend turns a message list and sampling settings into a stream of text
fragments, ending with one `Usage`. Timing and token accounting for a whole
reply live once, in `generate()`, which every caller uses.
"""

from __future__ import annotations

import abc
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from engine.config import Sampling

Message = dict[str, str]


@dataclass(frozen=True)
class Usage:
    """Token counts of one reply; `prompt_tokens_evaluated` excludes a reused prefix."""

    prompt_tokens: int
    completion_tokens: int
    prompt_tokens_evaluated: int | None = None


@dataclass(frozen=True)
class Reply:
    """A complete reply with its token counts and wall time in seconds."""

    text: str
    usage: Usage
    seconds: float


class BackendError(RuntimeError):
    """A backend could not produce a reply; the message says what to do."""


class Backend(abc.ABC):
    """A model endpoint. Subclasses implement `stream` only."""

    name: str = ""

    def __init__(self, model: str) -> None:
        self.model = model

    @abc.abstractmethod
    def stream(self, messages: list[Message], sampling: Sampling) -> AsyncIterator[str | Usage]:
        """Yield text fragments of the reply, then exactly one `Usage`."""

    async def close(self) -> None:
        """Release resources held by the backend (nothing by default)."""


async def generate(
    backend: Backend,
    messages: list[Message],
    sampling: Sampling,
    on_token: Callable[[str], None] | None = None,
) -> Reply:
    """Stream one reply from `backend`, calling `on_token` per fragment."""
    started = time.perf_counter()
    fragments: list[str] = []
    usage: Usage | None = None

    async for item in backend.stream(messages, sampling):
        if isinstance(item, Usage):
            usage = item
            continue
        fragments.append(item)
        if on_token is not None:
            on_token(item)

    if usage is None:
        raise BackendError(f"backend {backend.name!r} ended its stream without token counts")
    return Reply(text="".join(fragments), usage=usage, seconds=time.perf_counter() - started)
