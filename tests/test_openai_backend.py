"""The `openai` backend against a real OpenAI-compatible server on loopback.

The server is llama-cpp-python's (`python -m llama_cpp.server`) on the
built-in SmolLM2-135M-Instruct file, started once for this module. It sends
no token counts in the stream, so these tests also cover the counting
fallback. The live test against OpenAI itself runs only with OPENAI_API_KEY
set (one short reply).
"""

from __future__ import annotations

import os

import pytest

from engine.backends import AuthenticationFailed, BackendError, create_backend, generate
from engine.backends.openai_api import OpenAIBackend
from engine.backends.resilience import ResilientBackend
from engine.config import RunConfig, Sampling
from engine.events import ProbeScored, RunFinished, TokenReceived, TurnFinished
from llama_server import free_port, llama_server, server_available
from store import RunStore
from tui.session import prepare_run

pytestmark = pytest.mark.skipif(
    not server_available(), reason="needs llama-cpp-python's server extra: pip install 'llama-cpp-python[server]'"
)

MESSAGES = [
    {"role": "system", "content": "You are a pirate. Always talk like a pirate."},
    {"role": "user", "content": "Hello! Who are you?"},
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with llama_server(tmp_path_factory.mktemp("llama-server")) as running:
        yield running


@pytest.fixture
def backend(server):
    return create_backend("openai", "smollm2", base_url=server.base_url, api_key=server.api_key, timeout=60.0)


async def test_reply_streams_in_fragments(backend):
    fragments: list[str] = []

    reply = await generate(backend, MESSAGES, Sampling(max_tokens=16, seed=1), on_token=fragments.append)

    assert len(fragments) > 1
    assert "".join(fragments) == reply.text
    assert reply.text.strip()
    await backend.close()


async def test_token_counts_fall_back_to_chunks(backend):
    fragments: list[str] = []

    reply = await generate(backend, MESSAGES, Sampling(max_tokens=12, seed=2), on_token=fragments.append)

    # llama.cpp's server sends no usage, so completion tokens are the content chunks.
    assert reply.usage.completion_tokens == len(fragments)
    assert 0 < reply.usage.completion_tokens <= 12
    assert reply.usage.prompt_tokens > 0
    await backend.close()


async def test_same_seed_same_reply(backend):
    sampling = Sampling(max_tokens=16, seed=5)

    first = await generate(backend, MESSAGES, sampling)
    second = await generate(backend, MESSAGES, sampling)

    assert first.text == second.text
    await backend.close()


async def test_full_self_chat_stored(server, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", server.api_key)
    store = RunStore(tmp_path)
    config = RunConfig(
        backend="openai",
        model="smollm2",
        agent=0,
        user=1,
        topic=3,
        seed=1,
        turns=4,
        runs=1,
        sampling=Sampling(max_tokens=24),
        base_url=server.base_url,
        timeout=120.0,
    )
    events = []

    prepared = prepare_run(config, store, listeners=[events.append])
    stability = await prepared.chat.run()
    await prepared.chat.backend.close()

    assert isinstance(prepared.chat.backend, ResilientBackend)
    assert len(stability) == 2
    finished = [event for event in events if isinstance(event, TurnFinished)]
    # The store writes the starter (turn 1) when it opens the run.
    assert [event.turn for event in finished] == [2, 3, 4]
    for event in finished:
        streamed = "".join(token.text for token in events if isinstance(token, TokenReceived) and token.turn == event.turn)
        assert streamed == event.raw_text
        assert event.completion_tokens > 0
    assert [event.turn for event in events if isinstance(event, ProbeScored)] == [2, 4]
    assert isinstance(events[-1], RunFinished)

    stored = store.load_run(prepared.stored.run_id)
    assert [turn["turn"] for turn in stored.turns] == [1, 2, 3, 4]
    assert [probe["turn"] for probe in stored.probes] == [2, 4]
    assert stored.config.base_url == server.base_url
    assert store.summaries()[0]["status"] == "finished"


def test_wrong_key_stops_before_first_turn(server, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "not-the-key")
    store = RunStore(tmp_path)
    config = RunConfig(backend="openai", model="smollm2", agent=0, user=1, topic=3, base_url=server.base_url)

    with pytest.raises(AuthenticationFailed, match="set OPENAI_API_KEY") as caught:
        prepare_run(config, store, listeners=[])

    assert "not-the-key" not in str(caught.value)
    assert store.summaries() == []


def test_unreachable_server_named(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "any")
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    config = RunConfig(backend="openai", model="smollm2", agent=0, user=1, topic=3, base_url=base_url, timeout=5.0)

    with pytest.raises(BackendError, match="cannot reach the OpenAI-compatible server"):
        prepare_run(config, RunStore(tmp_path), listeners=[])


def test_key_and_base_url_from_environment(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "from-environment")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")

    backend = OpenAIBackend("smollm2")

    assert backend.endpoint == "http://127.0.0.1:9/v1"
    assert backend.client.api_key == "from-environment"


def test_base_url_option_overrides_environment(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")

    backend = OpenAIBackend("smollm2", base_url="http://127.0.0.1:10/v1", api_key="k")

    assert backend.endpoint == "http://127.0.0.1:10/v1"


@pytest.mark.skipif(
    not os.environ.get("OPENAI_API_KEY"),
    reason="live test: runs only when OPENAI_API_KEY is set",
)
async def test_live_openai_reply():
    backend = create_backend("openai", os.environ.get("MODEL_DRIFT_LIVE_OPENAI_MODEL", "gpt-4o-mini"))
    backend.check_access()

    reply = await generate(backend, MESSAGES, Sampling(max_tokens=16, seed=1))

    assert reply.text.strip()
    assert reply.usage.completion_tokens > 0
    await backend.close()
