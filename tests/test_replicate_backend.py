"""The `replicate` backend through the official client against a loopback fake.

`replicate.Client(base_url=...)` points at tests/fake_replicate_server.py,
which serves create, get and cancel of predictions, the account and the
event stream. The live test against Replicate itself runs only with
REPLICATE_API_TOKEN set (one short reply).
"""

from __future__ import annotations

import asyncio
import os

import pytest

from engine.backends import AuthenticationFailed, BackendError, create_backend, generate
from engine.backends import replicate_api
from engine.backends.replicate_api import ReplicateBackend, poll_intervals
from engine.backends.replicate_formats import (
    CLAUDE,
    LLAMA2_CHAT,
    LLAMA3_INSTRUCT,
    TRANSCRIPT,
    model_family,
    prediction_input,
)
from engine.config import RunConfig, Sampling
from engine.models import resolve_model
from fake_replicate_server import VERSION, FakeReplicateServer
from store import RunStore
from tui.session import prepare_run

SYSTEM = "You are a pirate."
MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Who are you?"}]
DIALOGUE = [
    {"role": "system", "content": SYSTEM},
    {"role": "user", "content": "Hello."},
    {"role": "assistant", "content": "Ahoy."},
    {"role": "user", "content": "Where is the gold?"},
]
SAMPLING = Sampling(temperature=0.7, top_p=0.9, max_tokens=50, seed=11)


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(replicate_api, "FIRST_POLL_SECONDS", 0.02)
    monkeypatch.setattr(replicate_api, "MAX_POLL_SECONDS", 0.2)
    with FakeReplicateServer() as server:
        yield server


@pytest.fixture
async def backend_for(fake):
    """Return a factory of backends on the fake; each is closed after the test."""
    created = []

    def create(model: str = "meta/llama-2-70b-chat"):
        backend = create_backend("replicate", model, base_url=fake.base_url, api_key=fake.token, timeout=5.0)
        created.append(backend)
        return backend

    yield create
    for backend in created:
        await backend.close()


# Prediction inputs per model family.


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("meta/llama-2-70b-chat", LLAMA2_CHAT),
        ("meta/llama-2-7b-chat:" + VERSION, LLAMA2_CHAT),
        ("meta/meta-llama-3-70b-instruct", LLAMA3_INSTRUCT),
        ("meta/meta-llama-3.1-405b-instruct", LLAMA3_INSTRUCT),
        ("anthropic/claude-3.5-haiku", CLAUDE),
        ("meta/llama-4-scout-instruct", TRANSCRIPT),
        ("mistralai/mixtral-8x7b-instruct-v0.1", TRANSCRIPT),
    ],
)
def test_model_family(model, family):
    assert model_family(model) == family


def test_llama2_chat_input():
    values = prediction_input("meta/llama-2-70b-chat", DIALOGUE, SAMPLING)

    # The model wraps this in "[INST] <<SYS>>\n{system_prompt}\n<</SYS>>\n\n{prompt} [/INST]".
    assert values["prompt"] == "Hello. [/INST] Ahoy. </s><s>[INST] Where is the gold?"
    assert values["system_prompt"] == SYSTEM
    assert values["max_new_tokens"] == 50
    assert values["temperature"] == 0.7
    assert values["top_p"] == 0.9
    assert values["seed"] == 11


def test_llama3_instruct_input():
    values = prediction_input("meta/meta-llama-3-70b-instruct", DIALOGUE, SAMPLING)

    assert values["prompt"] == (
        "Hello.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nAhoy."
        "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhere is the gold?"
    )
    assert values["system_prompt"] == SYSTEM
    assert values["max_tokens"] == 50


def test_claude_input_has_no_sampling_settings():
    values = prediction_input("anthropic/claude-3.5-haiku", DIALOGUE, SAMPLING)

    assert set(values) == {"prompt", "system_prompt", "max_tokens"}
    assert values["system_prompt"] == SYSTEM
    assert "[INST]" not in values["prompt"]
    assert "User: Hello." in values["prompt"]
    assert "Assistant: Ahoy." in values["prompt"]
    assert values["prompt"].endswith("Where is the gold?")


def test_single_message_prompt_is_the_message():
    values = prediction_input("meta/llama-4-scout-instruct", MESSAGES, SAMPLING)

    assert values["prompt"] == "Who are you?"
    assert values["system_prompt"] == SYSTEM
    assert "seed" not in values


def test_prompt_must_end_with_user_message():
    with pytest.raises(ValueError, match="ends with a user message"):
        prediction_input("meta/llama-2-70b-chat", DIALOGUE[:3], SAMPLING)


def test_poll_intervals_grow_to_ceiling():
    intervals = poll_intervals()
    waits = [next(intervals) for _ in range(12)]

    assert waits[0] == replicate_api.FIRST_POLL_SECONDS
    assert all(later >= earlier for earlier, later in zip(waits, waits[1:]))
    assert waits[-1] == replicate_api.MAX_POLL_SECONDS


# Predictions against the fake.


async def test_streamed_reply(fake, backend_for):
    backend = backend_for()
    fragments: list[str] = []

    reply = await generate(backend, MESSAGES, SAMPLING, on_token=fragments.append)

    assert reply.text == fake.text()
    assert fragments == fake.words
    assert reply.usage.prompt_tokens == 42
    assert reply.usage.completion_tokens == 5
    assert fake.create_paths == ["/v1/models/meta/llama-2-70b-chat/predictions"]
    assert fake.creates[0]["stream"] is True
    assert fake.creates[0]["input"]["system_prompt"] == SYSTEM
    assert fake.creates[0]["input"]["prompt"] == "Who are you?"
    assert fake.cancelled == []


async def test_polled_reply_without_stream(fake, backend_for):
    fake.stream = False
    fake.metrics = None
    backend = backend_for(model="anthropic/claude-3.5-haiku")

    reply = await generate(backend, MESSAGES, SAMPLING)

    assert reply.text == fake.text()
    assert reply.usage.completion_tokens == 5
    assert reply.usage.prompt_tokens > 0
    times = [moment for _, moment in fake.reads]
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert len(times) >= len(fake.words)
    assert gaps[-1] > gaps[0]


async def test_version_id_creates_by_version(fake, backend_for):
    backend = backend_for(model=f"meta/llama-2-7b-chat:{VERSION}")

    reply = await generate(backend, MESSAGES, SAMPLING)

    assert reply.text == fake.text()
    assert fake.create_paths == ["/v1/predictions"]
    assert fake.creates[0]["version"] == VERSION


async def test_failed_prediction_raises(fake, backend_for):
    fake.stream = False
    fake.fail_with = "CUDA out of memory"
    backend = backend_for()

    with pytest.raises(BackendError, match="CUDA out of memory"):
        await generate(backend, MESSAGES, SAMPLING)

    assert len(fake.creates) == 1


async def test_stream_error_event_raises(fake, backend_for):
    fake.fail_with = "the model crashed"
    backend = backend_for()

    with pytest.raises(BackendError, match="the model crashed"):
        await generate(backend, MESSAGES, SAMPLING)

    assert len(fake.creates) == 1


async def test_stopped_run_cancels_prediction(fake, backend_for):
    fake.hold_after_first_word = 10.0
    backend = backend_for()
    first_word = asyncio.Event()

    task = asyncio.create_task(generate(backend, MESSAGES, SAMPLING, on_token=lambda _: first_word.set()))
    await asyncio.wait_for(first_word.wait(), timeout=10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert fake.cancelled == ["pred1"]
    assert fake.predictions["pred1"]["status"] == "canceled"


async def test_rate_limited_create_retried(fake, backend_for):
    fake.create_faults.append((429, {"Retry-After": "0.2"}))
    backend = backend_for()

    reply = await generate(backend, MESSAGES, SAMPLING)

    assert reply.text == fake.text()
    assert len(fake.creates) == 2
    assert backend.last_reply.attempts == 2


async def test_server_error_on_create_retried(fake, backend_for):
    fake.create_faults.append((500, {}))
    backend = backend_for()

    reply = await generate(backend, MESSAGES, SAMPLING)

    assert reply.text == fake.text()
    assert backend.last_reply.attempts == 2


def test_rejected_token_stops_before_first_turn(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8-wrong")
    store = RunStore(tmp_path)
    config = RunConfig(backend="replicate", model="meta/llama-2-70b-chat", agent=0, user=1, topic=3, base_url=fake.base_url)

    with pytest.raises(AuthenticationFailed, match="set REPLICATE_API_TOKEN") as caught:
        prepare_run(config, store, listeners=[])

    assert "r8-wrong" not in str(caught.value)
    assert store.summaries() == []
    assert fake.creates == []


def test_missing_token_named(monkeypatch):
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)

    with pytest.raises(AuthenticationFailed, match="set REPLICATE_API_TOKEN"):
        create_backend("replicate", "meta/llama-2-70b-chat")


def test_invalid_model_id_rejected():
    with pytest.raises(BackendError, match="invalid Replicate model id"):
        ReplicateBackend("not a model", api_key="r8-any")


async def test_alias_runs_full_self_chat(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("REPLICATE_API_TOKEN", fake.token)
    backend_name, model = resolve_model("llama2_chat_70B")
    store = RunStore(tmp_path)
    config = RunConfig(
        backend=backend_name, model=model, agent=0, user=1, topic=3, turns=4, runs=1,
        sampling=Sampling(max_tokens=20), base_url=fake.base_url, timeout=5.0,
    )

    prepared = prepare_run(config, store, listeners=[])
    await prepared.chat.run()
    await prepared.chat.backend.close()

    stored = store.load_run(prepared.stored.run_id)
    assert [turn["raw_text"] for turn in stored.turns[1:]] == [fake.text()] * 3
    assert [probe["turn"] for probe in stored.probes] == [2, 4]
    assert len(fake.creates) == 5
    assert all(create["input"]["max_new_tokens"] == 20 for create in fake.creates)


@pytest.mark.skipif(
    not os.environ.get("REPLICATE_API_TOKEN"),
    reason="live test: runs only when REPLICATE_API_TOKEN is set",
)
async def test_live_replicate_reply():
    backend = create_backend("replicate", os.environ.get("MODEL_DRIFT_LIVE_REPLICATE_MODEL", "meta/llama-2-70b-chat"))
    backend.check_access()

    reply = await generate(backend, MESSAGES, Sampling(max_tokens=16, seed=1))

    assert reply.text.strip()
