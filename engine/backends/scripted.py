"""The `scripted` backend: replies from a list or a function, for tests and demos.

It is registered like any other backend, so a run on it goes through the same
engine, store and UI code as a run on a real model.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator, Callable, Iterable

from engine.backends.base import Backend, Message, Usage
from engine.config import Sampling

ReplyFunction = Callable[[list[Message], Sampling], str]

DEMO_REPLIES = (
    "That is an interesting question, and I have thought about it a lot.",
    "I see it differently, but tell me more about why you think so.",
    "Honestly, I would rather talk about something else entirely.",
    "Let me put it another way: it depends on who you ask.",
)


def _words_of(text: str) -> list[str]:
    """Split text into streamable fragments that join back to the exact text."""
    return re.findall(r"\S+\s*|\s+", text)


class ScriptedBackend(Backend):
    """Replies from `replies` (cycled) or from `reply_function(messages, sampling)`."""

    name = "scripted"

    def __init__(
        self,
        model: str = "demo",
        replies: Iterable[str] | None = None,
        reply_function: ReplyFunction | None = None,
        token_delay: float = 0.0,
    ) -> None:
        super().__init__(model)
        self._replies = itertools.cycle(list(replies) if replies is not None else DEMO_REPLIES)
        self._reply_function = reply_function
        self._token_delay = token_delay
        self.calls: list[list[Message]] = []

    async def stream(self, messages: list[Message], sampling: Sampling) -> AsyncIterator[str | Usage]:
        self.calls.append([dict(message) for message in messages])

        if self._reply_function is not None:
            text = self._reply_function(messages, sampling)
        else:
            text = next(self._replies)

        fragments = _words_of(text)[: sampling.max_tokens]
        for fragment in fragments:
            await asyncio.sleep(self._token_delay)
            yield fragment

        prompt_tokens = sum(len(message["content"].split()) for message in messages)
        yield Usage(prompt_tokens=prompt_tokens, completion_tokens=len(fragments))
