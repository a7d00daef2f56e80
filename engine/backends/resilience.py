"""The one wrapper every backend runs behind: retries, backoff and concurrency.

`ResilientBackend` wraps a backend and owns, for all of them alike:

- classification of failures. Rate limits (429), server errors (5xx, 408),
  timeouts and dropped or refused connections are transient. 401/403 is an
  authentication failure, and anything else is final;
- retries of transient failures with exponential backoff and jitter, honouring
  Retry-After (and OpenAI's retry-after-ms), up to `RetryPolicy.max_attempts`;
- a concurrency limit per endpoint (`Backend.endpoint`), an asyncio.Semaphore
  per event loop, so several runs in one process share a server politely;
- timing and token counts of each reply (`last_reply`), logged at DEBUG.

A retry is only safe before the first fragment reached the caller, because
the caller may have shown or stored it. A reply that fails later raises
`ReplyInterrupted`, so the self-chat stops with RunFailed. The partial turn
is not stored, and a re-run resumes from the last complete turn.

Timeouts are the transport's: each backend sets its HTTP client's timeout
(`--timeout`), and the wrapper only classifies the error. It sets no
deadline of its own, because a Replicate model may legitimately queue or boot
for minutes and a local model evaluates long prompts slowly.

The replicate client also retries its own GET requests (polling, streaming)
on 429/503/504 inside its HTTP transport, and there is no public switch to
turn that off; those retries happen below this wrapper and are not counted.
"""

from __future__ import annotations

import asyncio
import email.utils
import importlib
import logging
import random
import time
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass

from engine.backends.base import (
    AuthenticationFailed,
    Backend,
    BackendError,
    EndpointError,
    Message,
    ReplyInterrupted,
    Usage,
)
from engine.config import Sampling

logger = logging.getLogger(__name__)

RATE_LIMIT = "rate limit"
SERVER_ERROR = "server error"
TIMEOUT = "timeout"
CONNECTION = "connection"
AUTHENTICATION = "authentication"
FINAL = "final"

TRANSIENT_KINDS = frozenset({RATE_LIMIT, SERVER_ERROR, TIMEOUT, CONNECTION})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a reply that failed before its first fragment.

    Delays are in seconds. The n-th retry waits a random time between half
    and all of `min(max_delay, base_delay * 2**(n-1))` ("equal jitter"),
    unless the server sent Retry-After, which is honoured as given. A
    Retry-After above `max_retry_after` fails the reply at once.
    """

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_retry_after: float = 120.0


@dataclass(frozen=True)
class Failure:
    """The classification of one failed attempt."""

    kind: str
    status: int | None = None
    retry_after: float | None = None

    @property
    def transient(self) -> bool:
        return self.kind in TRANSIENT_KINDS


@dataclass(frozen=True)
class ReplyStats:
    """Timing and token counts of one reply: seconds until the first fragment and in all."""

    attempts: int
    first_fragment_seconds: float | None
    seconds: float
    usage: Usage | None


def _transport_error_types() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """Return (timeout, connection) exception types of the HTTP libraries installed.

    openai uses httpx2 and replicate uses httpx; a raw transport error from
    either can surface while a response body is being streamed.
    """
    timeouts: list[type] = [TimeoutError]
    connections: list[type] = [ConnectionError]
    for module_name in ("httpx", "httpx2"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        timeouts.append(module.TimeoutException)
        connections.append(module.TransportError)
    return tuple(timeouts), tuple(connections)


TIMEOUT_ERRORS, CONNECTION_ERRORS = _transport_error_types()


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Return the wait a response requests, in seconds, or None when it requests none.

    Reads `retry-after-ms` (OpenAI) first, then `Retry-After` as seconds or
    as an HTTP date.
    """
    lowered = {name.lower(): value for name, value in headers.items()}

    milliseconds = lowered.get("retry-after-ms")
    if milliseconds is not None:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass

    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def classify(error: BaseException) -> Failure:
    """Classify a failed attempt as transient, an authentication failure or final."""
    if isinstance(error, AuthenticationFailed):
        return Failure(AUTHENTICATION)

    if isinstance(error, EndpointError):
        status = error.status
        if status is None:
            return Failure(TIMEOUT if error.timed_out else CONNECTION)
        if status in (401, 403):
            return Failure(AUTHENTICATION, status)
        if status == 429:
            return Failure(RATE_LIMIT, status, parse_retry_after(error.headers))
        if status == 408 or status >= 500:
            return Failure(SERVER_ERROR, status, parse_retry_after(error.headers))
        return Failure(FINAL, status)

    if isinstance(error, TIMEOUT_ERRORS):
        return Failure(TIMEOUT)
    if isinstance(error, CONNECTION_ERRORS):
        return Failure(CONNECTION)
    return Failure(FINAL)


def backoff_delay(policy: RetryPolicy, retry: int, failure: Failure, rng: random.Random | None = None) -> float:
    """Return the seconds to wait before retry number `retry` (1-based)."""
    if failure.retry_after is not None:
        return failure.retry_after

    ceiling = min(policy.max_delay, policy.base_delay * 2 ** (retry - 1))
    rng = rng or random
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def authentication_message(backend: Backend, detail: str) -> str:
    """Return the message for a rejected or missing key, naming the variable to set."""
    if backend.key_variable:
        return (
            f"{backend.name} endpoint {backend.endpoint} rejected the key ({detail}): "
            f"set {backend.key_variable} to a valid key and start the run again"
        )
    return f"{backend.name} endpoint {backend.endpoint} rejected the request ({detail})"


# One semaphore per (event loop, endpoint): an asyncio.Semaphore must not be
# shared between loops, and tests and the TUI each run their own loop.
_semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


def endpoint_semaphore(endpoint: str, limit: int) -> asyncio.Semaphore:
    """Return the running loop's semaphore for `endpoint`; the first caller's `limit` sets its size."""
    loop = asyncio.get_running_loop()
    per_endpoint = _semaphores.setdefault(loop, {})
    semaphore = per_endpoint.get(endpoint)
    if semaphore is None:
        semaphore = asyncio.Semaphore(max(1, limit))
        per_endpoint[endpoint] = semaphore
    return semaphore


class ResilientBackend(Backend):
    """Wraps a backend with retries, backoff, a per-endpoint concurrency limit and timing."""

    def __init__(
        self,
        inner: Backend,
        policy: RetryPolicy | None = None,
        max_concurrency: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(inner.model)
        self.inner = inner
        self.name = inner.name
        self.key_variable = inner.key_variable
        self.max_concurrency = max_concurrency or inner.max_concurrency
        self.policy = policy or RetryPolicy()
        self.last_reply: ReplyStats | None = None
        self._rng = rng or random.Random()

    def __getattr__(self, name: str):
        # Backend-specific methods (LocalBackend.clear_prefix_cache, ScriptedBackend.calls)
        # stay reachable through the wrapper.
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    @property
    def endpoint(self) -> str:
        return self.inner.endpoint

    def check_access(self) -> None:
        self.inner.check_access()

    async def close(self) -> None:
        await self.inner.close()

    async def stream(self, messages: list[Message], sampling: Sampling) -> AsyncIterator[str | Usage]:
        semaphore = endpoint_semaphore(f"{self.name} {self.endpoint}", self.max_concurrency)
        started = time.perf_counter()

        for attempt in range(1, self.policy.max_attempts + 1):
            fragments = 0
            first_fragment_seconds = None
            usage = None
            try:
                async with semaphore:
                    async with aclosing(self.inner.stream(messages, sampling)) as items:
                        async for item in items:
                            if isinstance(item, Usage):
                                usage = item
                            else:
                                fragments += 1
                                if first_fragment_seconds is None:
                                    first_fragment_seconds = time.perf_counter() - started
                            yield item
            except Exception as error:
                delay = self._retry_delay(error, attempt, fragments, usage is not None)
                logger.warning(
                    "%s %s attempt %d/%d failed (%s); retrying in %.2f s",
                    self.name, self.model, attempt, self.policy.max_attempts, error, delay,
                )
                await asyncio.sleep(delay)
                continue

            self.last_reply = ReplyStats(attempt, first_fragment_seconds, time.perf_counter() - started, usage)
            logger.debug(
                "%s %s reply: %d attempts, first fragment after %s s, %.3f s, %s",
                self.name, self.model, attempt, first_fragment_seconds,
                self.last_reply.seconds, usage,
            )
            return

    def _retry_delay(self, error: Exception, attempt: int, fragments: int, usage_sent: bool) -> float:
        """Return the wait before the next attempt, or raise when `error` must end the reply."""
        failure = classify(error)
        where = f"{self.name} endpoint {self.endpoint}, model {self.model}"

        if fragments or usage_sent:
            logger.error("%s: reply broke off after %d fragments: %s", where, fragments, error)
            raise ReplyInterrupted(
                f"{where}: the reply broke off after {fragments} fragments ({error}); "
                f"the partial turn is not stored, run again to resume from the last complete turn"
            ) from error

        if failure.kind == AUTHENTICATION:
            # Only the status: a server's 401 text may quote part of the key.
            detail = f"HTTP {failure.status}" if failure.status else type(error).__name__
            logger.error("%s: authentication failed (%s)", where, detail)
            if isinstance(error, AuthenticationFailed):
                raise error
            raise AuthenticationFailed(authentication_message(self, detail)) from None

        if not failure.transient:
            logger.error("%s: request failed and is not retried: %s", where, error)
            raise error

        if attempt >= self.policy.max_attempts:
            logger.error("%s: giving up after %d attempts: %s", where, attempt, error)
            raise BackendError(
                f"{where}: failed {attempt} times, last with a {failure.kind} ({error}); "
                f"check that the server is up and not overloaded, then run again to resume"
            ) from error

        if failure.retry_after is not None and failure.retry_after > self.policy.max_retry_after:
            logger.error("%s: server requests a wait of %.0f s: %s", where, failure.retry_after, error)
            raise BackendError(
                f"{where}: {failure.kind}, and the server requests a wait of {failure.retry_after:.0f} s "
                f"(more than {self.policy.max_retry_after:.0f} s); run again later to resume"
            ) from error

        return backoff_delay(self.policy, attempt, failure, self._rng)


def resilient(backend: Backend, **options) -> ResilientBackend:
    """Return `backend` wrapped in ResilientBackend, or itself when it already is one."""
    if isinstance(backend, ResilientBackend):
        return backend
    return ResilientBackend(backend, **options)
