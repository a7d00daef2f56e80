"""The resilience wrapper against injected faults on a loopback fake server.

Each case ends as engine/backends/resilience.py promises. Transient failures
before the first fragment are retried with backoff, honouring Retry-After.
A failure after it stops the run without storing the partial turn. A
rejected or missing key stops the run before its first turn.
"""

from __future__ import annotations

import asyncio
import random
import time
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import pytest

from engine.backends import AuthenticationFailed, BackendError, ReplyInterrupted, create_backend, generate
from engine.backends.base import Backend, EndpointError, Usage
from engine.backends.openai_api import OpenAIBackend
from engine.backends.resilience import (
    AUTHENTICATION,
    CONNECTION,
    FINAL,
    RATE_LIMIT,
    SERVER_ERROR,
    TIMEOUT,
    Failure,
    ResilientBackend,
    RetryPolicy,
    backoff_delay,
    classify,
    parse_retry_after,
)
from engine.backends.scripted import ScriptedBackend
from engine.config import RunConfig, Sampling
from engine.events import RunFailed, RunFinished, TokenReceived
from fake_openai_server import FakeOpenAIServer, Fault
from store import RunStore
from tui.session import prepare_run

MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hello?"}]
SAMPLING = Sampling(max_tokens=32, seed=1)
FAST_RETRIES = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2)


@pytest.fixture
def fake():
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
async def wrapped():
    """Return a factory of wrapped backends on a fake server; each is closed after the test."""
    created = []

    def create(fake: FakeOpenAIServer, timeout: float = 5.0, api_key: str | None = None, **options) -> ResilientBackend:
        inner = OpenAIBackend(
            "fake-model", base_url=fake.base_url, api_key=api_key or fake.api_key, timeout=timeout, **options
        )
        backend = ResilientBackend(inner, policy=FAST_RETRIES)
        created.append(backend)
        return backend

    yield create
    for backend in created:
        await backend.close()


def run_config(fake: FakeOpenAIServer, turns: int = 4) -> RunConfig:
    return RunConfig(
        backend="openai",
        model="fake-model",
        agent=0,
        user=1,
        topic=3,
        seed=7,
        turns=turns,
        runs=1,
        sampling=Sampling(max_tokens=32),
        base_url=fake.base_url,
        timeout=5.0,
    )


# Classification and backoff.


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (EndpointError("x", status=429), RATE_LIMIT),
        (EndpointError("x", status=500), SERVER_ERROR),
        (EndpointError("x", status=503), SERVER_ERROR),
        (EndpointError("x", status=408), SERVER_ERROR),
        (EndpointError("x", status=401), AUTHENTICATION),
        (EndpointError("x", status=403), AUTHENTICATION),
        (EndpointError("x", status=400), FINAL),
        (EndpointError("x", status=404), FINAL),
        (EndpointError("x", timed_out=True), TIMEOUT),
        (EndpointError("x"), CONNECTION),
        (TimeoutError(), TIMEOUT),
        (ConnectionResetError(), CONNECTION),
        (ValueError("bad"), FINAL),
    ],
)
def test_classify_failures(error, kind):
    assert classify(error).kind == kind


def test_retry_after_seconds_and_milliseconds():
    assert parse_retry_after({"Retry-After": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "0.5"}) == 0.5
    assert parse_retry_after({"retry-after-ms": "250", "Retry-After": "9"}) == 0.25
    assert parse_retry_after({}) is None
    assert parse_retry_after({"Retry-After": "soon"}) is None


def test_retry_after_http_date():
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)

    assert parse_retry_after({"Retry-After": later}, now=now.timestamp()) == pytest.approx(30.0)


def test_backoff_grows_with_jitter():
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    rng = random.Random(3)
    failure = Failure(SERVER_ERROR)

    for retry, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0)]:
        delays = [backoff_delay(policy, retry, failure, rng) for _ in range(50)]
        assert min(delays) >= ceiling / 2
        assert max(delays) <= ceiling
        assert len(set(delays)) > 1


def test_backoff_honours_retry_after():
    assert backoff_delay(RetryPolicy(), 1, Failure(RATE_LIMIT, 429, 7.5)) == 7.5


class FlakyBackend(Backend):
    """Fails its first `failures` replies with a connection reset, then replies "ok"."""

    name = "flaky"

    def __init__(self, failures: int) -> None:
        super().__init__("flaky-model")
        self.failures = failures

    async def stream(self, messages, sampling):
        if self.failures:
            self.failures -= 1
            raise ConnectionResetError("reset by the test")
        yield "ok"
        yield Usage(prompt_tokens=1, completion_tokens=1)


async def test_any_backend_retried_on_connection_reset():
    backend = ResilientBackend(FlakyBackend(failures=2), policy=FAST_RETRIES)

    reply = await generate(backend, MESSAGES, SAMPLING)

    assert reply.text == "ok"
    assert backend.last_reply.attempts == 3


def test_create_backend_wraps_every_backend():
    backend = create_backend("scripted", "demo")

    assert isinstance(backend, ResilientBackend)
    assert isinstance(backend.inner, ScriptedBackend)
    assert backend.calls == []


# Faults on the wire.


async def test_rate_limit_retried_after_retry_after(fake, wrapped):
    fake.faults.append(Fault("status", status=429, headers={"Retry-After": "0.3"}))
    backend = wrapped(fake)

    started = time.perf_counter()
    reply = await generate(backend, MESSAGES, SAMPLING)

    assert reply.text == fake.reply_text(2)
    assert len(fake.chat_requests) == 2
    assert backend.last_reply.attempts == 2
    assert time.perf_counter() - started >= 0.3


async def test_server_error_twice_then_success(fake, wrapped):
    fake.faults.extend([Fault("status", status=500), Fault("status", status=502)])
    backend = wrapped(fake)

    reply = await generate(backend, MESSAGES, SAMPLING)

    assert reply.text == fake.reply_text(3)
    assert backend.last_reply.attempts == 3


async def test_server_errors_exhaust_attempts(fake, wrapped):
    fake.faults.extend([Fault("status", status=503)] * 5)
    backend = wrapped(fake)

    with pytest.raises(BackendError, match="failed 3 times") as caught:
        await generate(backend, MESSAGES, SAMPLING)

    assert not isinstance(caught.value, ReplyInterrupted)
    assert len(fake.chat_requests) == 3


async def test_long_retry_after_fails_at_once(fake, wrapped):
    fake.faults.append(Fault("status", status=429, headers={"Retry-After": "3600"}))
    backend = wrapped(fake)

    with pytest.raises(BackendError, match="requests a wait of 3600 s"):
        await generate(backend, MESSAGES, SAMPLING)

    assert len(fake.chat_requests) == 1


async def test_client_error_not_retried(fake, wrapped):
    fake.faults.append(Fault("status", status=400))
    backend = wrapped(fake)

    with pytest.raises(EndpointError, match="HTTP 400"):
        await generate(backend, MESSAGES, SAMPLING)

    assert len(fake.chat_requests) == 1


async def test_stall_before_reply_times_out_and_retries(fake, wrapped):
    fake.faults.append(Fault("stall", seconds=3.0))
    backend = wrapped(fake, timeout=0.5)

    reply = await generate(backend, MESSAGES, SAMPLING)

    assert reply.text == fake.reply_text(2)
    assert backend.last_reply.attempts == 2


async def test_stall_mid_reply_raises_without_retry(fake, wrapped):
    fake.faults.append(Fault("stall_mid", chunks=2, seconds=3.0))
    backend = wrapped(fake, timeout=0.5)
    fragments: list[str] = []

    with pytest.raises(ReplyInterrupted, match="broke off after 2 fragments"):
        await generate(backend, MESSAGES, SAMPLING, on_token=fragments.append)

    assert fragments == ["Reply ", "1 "]
    assert len(fake.chat_requests) == 1


async def test_connection_closed_before_reply_retried(fake, wrapped):
    fake.faults.append(Fault("close"))
    backend = wrapped(fake)

    reply = await generate(backend, MESSAGES, SAMPLING)

    assert reply.text == fake.reply_text(2)
    assert backend.last_reply.attempts == 2


async def test_connection_dropped_mid_reply_raises(fake, wrapped):
    fake.faults.append(Fault("drop_mid", chunks=3))
    backend = wrapped(fake)

    with pytest.raises(ReplyInterrupted):
        await generate(backend, MESSAGES, SAMPLING)

    assert len(fake.chat_requests) == 1


async def test_reply_without_finish_reason_raises(fake, wrapped):
    fake.faults.append(Fault("end_mid", chunks=3))
    backend = wrapped(fake)

    with pytest.raises(ReplyInterrupted):
        await generate(backend, MESSAGES, SAMPLING)


async def test_rejected_key_at_first_turn_not_retried(wrapped):
    with FakeOpenAIServer(models_open=True) as fake:
        backend = wrapped(fake, api_key="wrong-key")

        with pytest.raises(AuthenticationFailed, match="set OPENAI_API_KEY") as caught:
            await generate(backend, MESSAGES, SAMPLING)

        assert "wrong-key" not in str(caught.value)
        assert len(fake.chat_requests) == 1


async def test_concurrency_limited_per_endpoint(wrapped):
    with FakeOpenAIServer(chunk_delay=0.02) as fake:
        backends = [wrapped(fake, max_concurrency=2) for _ in range(5)]

        replies = await asyncio.gather(*(generate(backend, MESSAGES, SAMPLING) for backend in backends))

        assert len(replies) == 5
        assert fake.max_in_flight == 2


# Whole runs through prepare_run and the store.


async def test_dropped_connection_stops_run_and_rerun_resumes(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", fake.api_key)
    store = RunStore(tmp_path)
    config = run_config(fake)
    # Requests: turn 2, its probe, then turn 3, which breaks off after two words.
    fake.faults.extend([None, None, Fault("drop_mid", chunks=2)])
    events = []

    prepared = prepare_run(config, store, listeners=[events.append])
    with pytest.raises(ReplyInterrupted):
        await prepared.chat.run()
    await prepared.chat.backend.close()

    failed = [event for event in events if isinstance(event, RunFailed)]
    assert len(failed) == 1
    assert "broke off" in failed[0].error
    assert failed[0].completed_turns == 2
    assert [event.text for event in events if isinstance(event, TokenReceived) and event.turn == 3] == ["Reply ", "3 "]
    stored = store.load_run(prepared.stored.run_id)
    assert [turn["turn"] for turn in stored.turns] == [1, 2]
    assert [probe["turn"] for probe in stored.probes] == [2]

    events.clear()
    resumed = prepare_run(config, store, listeners=[events.append])
    await resumed.chat.run()
    await resumed.chat.backend.close()

    assert any(isinstance(event, RunFinished) for event in events)
    stored = store.load_run(prepared.stored.run_id)
    assert [turn["turn"] for turn in stored.turns] == [1, 2, 3, 4]
    assert [probe["turn"] for probe in stored.probes] == [2, 4]
    assert stored.turns[2]["raw_text"] == fake.reply_text(4)
    assert len(fake.chat_requests) == 6


async def test_rate_limited_run_completes(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", fake.api_key)
    store = RunStore(tmp_path)
    fake.faults.extend([Fault("status", status=429, headers={"retry-after-ms": "100"}), None, Fault("status", status=500)])

    prepared = prepare_run(run_config(fake), store, listeners=[])
    await prepared.chat.run()
    await prepared.chat.backend.close()

    stored = store.load_run(prepared.stored.run_id)
    assert [turn["turn"] for turn in stored.turns] == [1, 2, 3, 4]
    assert len(stored.probes) == 2
    # Five replies (turns 2-4, probes after 2 and 4) and two failed attempts.
    assert len(fake.chat_requests) == 7


def test_rejected_key_stops_before_first_turn(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "wrong-key")
    store = RunStore(tmp_path)

    with pytest.raises(AuthenticationFailed, match="set OPENAI_API_KEY") as caught:
        prepare_run(run_config(fake), store, listeners=[])

    assert "wrong-key" not in str(caught.value)
    assert store.summaries() == []
    assert fake.chat_requests == []


def test_missing_key_for_openai_named_before_any_request(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    config = RunConfig(backend="openai", model="gpt-4o-mini", agent=0, user=1, topic=3)

    # No base URL means OpenAI's own endpoint, which needs a key; the check
    # happens when the backend is created, before any request is sent.
    with pytest.raises(AuthenticationFailed, match="set OPENAI_API_KEY"):
        prepare_run(config, RunStore(tmp_path), listeners=[])

    assert RunStore(tmp_path).summaries() == []


def test_headless_run_reports_missing_key(tmp_path, monkeypatch, capsys):
    from tui.cli import main

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)

    exit_code = main(["run", "--model_name", "gpt-4o-mini", "--agent", "0", "--user", "1", "--turns", "2"])

    assert exit_code == 2
    assert "OPENAI_API_KEY" in capsys.readouterr().out
