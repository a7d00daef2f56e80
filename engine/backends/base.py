"""The backend interface: one async call that streams a reply.

A backend turns a message list and sampling settings into a stream of text
fragments, ending with one `Usage`. Retries, backoff and per-endpoint
concurrency live once, in `engine.backends.resilience.ResilientBackend`,
which `create_backend()` wraps around every backend. Timing of a whole reply
lives in `generate()`, which every caller uses.
"""

from __future__ import annotations

import abc
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from urllib.parse import urlsplit

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
    """A backend could not produce a reply; the message names the fix."""


class AuthenticationFailed(BackendError):
    """The endpoint rejected the key (401/403) or no key is set; retrying cannot help."""


class ReplyInterrupted(BackendError):
    """A reply failed after some of its fragments reached the caller, so it was not retried."""


class EndpointError(BackendError):
    """A request to a model endpoint failed.

    `status` is the HTTP status code, or None when no response arrived (a
    refused or dropped connection, or a timeout when `timed_out` is true).
    `headers` are the response headers, used for Retry-After. Backends raise
    this for their client's errors; the resilience wrapper decides whether
    to retry.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        timed_out: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = dict(headers or {})
        self.timed_out = timed_out


def display_url(url: str) -> str:
    """Return `url` without user info, query or fragment, safe to show and log."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}".rstrip("/")


CHARACTERS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4


def estimate_prompt_tokens(messages: list[Message]) -> int:
    """Estimate a prompt's tokens for endpoints that report none: characters / 4 plus 4 per message."""
    characters = sum(len(message["content"]) for message in messages)
    return characters // CHARACTERS_PER_TOKEN + TOKENS_PER_MESSAGE * len(messages)


class Backend(abc.ABC):
    """A model endpoint. Subclasses implement `stream` only.

    `key_variable` is the environment variable with the endpoint's key, for
    error messages (None when it needs no key). `max_concurrency`
    bounds the replies in flight per `endpoint` within one event loop.
    """

    name: str = ""
    key_variable: str | None = None
    max_concurrency: int = 4

    def __init__(self, model: str) -> None:
        self.model = model

    @property
    def endpoint(self) -> str:
        """The key that replies share a concurrency limit under: the backend name by default."""
        return self.name

    def check_access(self) -> None:
        """Check the key with one cheap request; raise AuthenticationFailed when it is rejected.

        Blocking: `tui.session.prepare_run` calls it before the first turn,
        off the event loop. Backends without a key do nothing.
        """

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

    # aclosing() closes the stream at once when the caller is cancelled, so a
    # backend can cancel its remote request then, not when it is collected.
    async with aclosing(backend.stream(messages, sampling)) as items:
        async for item in items:
            if isinstance(item, Usage):
                usage = item
                continue
            fragments.append(item)
            if on_token is not None:
                on_token(item)

    if usage is None:
        raise BackendError(f"backend {backend.name!r} ended its stream without token counts")
    return Reply(text="".join(fragments), usage=usage, seconds=time.perf_counter() - started)
