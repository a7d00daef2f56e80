"""The self-chat protocol on the scripted backend: the exact message lists."""

from __future__ import annotations

import pytest

from engine.backends.scripted import ScriptedBackend
from engine.config import RunConfig, Sampling
from engine.events import ProbeScored, RunFinished, TurnFinished
from engine.personas import Persona
from engine.protocol import fold_reply, wrap_opening
from engine.selfchat import ResumeState, SelfChat, call_seed

STARTER = "Space exploration is a topic that divides opinions. What's your perspective?"


def make_persona(index: int, prompt: str, probe: str) -> Persona:
    return Persona(
        index=index,
        category="persona",
        system_prompt=prompt,
        probe_question=probe,
        score_rule="not scored in this test",
        scorer=None,
    )


AGENT = make_persona(2, "AGENT PROMPT", "AGENT PROBE?")
USER = make_persona(5, "USER PROMPT", "USER PROBE?")


def numbered_replies():
    """Return a reply function answering 'reply N' for the N-th call (from 1)."""
    count = 0

    def reply(messages, sampling):
        nonlocal count
        count += 1
        return f" reply {count}\n"

    return reply


def make_chat(turns: int, runs: int, events: list, resume: ResumeState | None = None):
    backend = ScriptedBackend(reply_function=numbered_replies())
    config = RunConfig(backend="scripted", model="demo", agent=2, user=5, topic=5, seed=7, turns=turns, runs=runs)
    chat = SelfChat(config, backend, AGENT, USER, STARTER, listeners=[events.append], resume=resume)
    return chat, backend


async def test_six_turn_run_sends_exact_messages():
    events: list = []
    chat, backend = make_chat(turns=6, runs=2, events=events)

    await chat.run()

    system_agent = {"role": "system", "content": "AGENT PROMPT"}
    system_user = {"role": "system", "content": "USER PROMPT"}
    opening = {"role": "user", "content": wrap_opening(STARTER, "reply 1")}
    expected = [
        # turn 2, agent
        [system_agent, {"role": "user", "content": STARTER}],
        # probes after turn 2
        [system_agent, {"role": "user", "content": STARTER}, {"role": "assistant", "content": "reply 1"},
         {"role": "user", "content": "AGENT PROBE?"}],
        [system_agent, {"role": "user", "content": STARTER}, {"role": "assistant", "content": "reply 1"},
         {"role": "user", "content": "AGENT PROBE?"}],
        # turn 3, user model
        [system_user, opening],
        # turn 4, agent
        [system_agent, {"role": "user", "content": STARTER}, {"role": "assistant", "content": "reply 1"},
         {"role": "user", "content": "reply 4"}],
        # probes after turn 4
        [system_agent, {"role": "user", "content": STARTER}, {"role": "assistant", "content": "reply 1"},
         {"role": "user", "content": "reply 4"}, {"role": "assistant", "content": "reply 5"},
         {"role": "user", "content": "AGENT PROBE?"}],
        [system_agent, {"role": "user", "content": STARTER}, {"role": "assistant", "content": "reply 1"},
         {"role": "user", "content": "reply 4"}, {"role": "assistant", "content": "reply 5"},
         {"role": "user", "content": "AGENT PROBE?"}],
        # turn 5, user model: its own turns are assistant, the agent's are user
        [system_user, opening, {"role": "assistant", "content": "reply 4"}, {"role": "user", "content": "reply 5"}],
        # turn 6, agent
        [system_agent, {"role": "user", "content": STARTER}, {"role": "assistant", "content": "reply 1"},
         {"role": "user", "content": "reply 4"}, {"role": "assistant", "content": "reply 5"},
         {"role": "user", "content": "reply 8"}],
        # probes after turn 6
        [system_agent, {"role": "user", "content": STARTER}, {"role": "assistant", "content": "reply 1"},
         {"role": "user", "content": "reply 4"}, {"role": "assistant", "content": "reply 5"},
         {"role": "user", "content": "reply 8"}, {"role": "assistant", "content": "reply 9"},
         {"role": "user", "content": "AGENT PROBE?"}],
        [system_agent, {"role": "user", "content": STARTER}, {"role": "assistant", "content": "reply 1"},
         {"role": "user", "content": "reply 4"}, {"role": "assistant", "content": "reply 5"},
         {"role": "user", "content": "reply 8"}, {"role": "assistant", "content": "reply 9"},
         {"role": "user", "content": "AGENT PROBE?"}],
    ]
    assert len(backend.calls) == len(expected)
    for position, (sent, wanted) in enumerate(zip(backend.calls, expected)):
        assert sent == wanted, f"call {position + 1} differs"


async def test_probe_answers_stay_out_of_history():
    events: list = []
    chat, _ = make_chat(turns=4, runs=2, events=events)

    await chat.run()

    assert chat.history == [STARTER, "reply 1", "reply 4", "reply 5"]


async def test_turn_events_number_turns_from_starter():
    events: list = []
    chat, _ = make_chat(turns=5, runs=1, events=events)

    await chat.run()

    finished = [(event.turn, event.speaker) for event in events if isinstance(event, TurnFinished)]
    assert finished == [(1, "starter"), (2, "agent"), (3, "user"), (4, "agent"), (5, "user")]


async def test_raw_text_kept_beside_folded_text():
    events: list = []
    chat, _ = make_chat(turns=2, runs=1, events=events)

    await chat.run()

    agent_turn = [event for event in events if isinstance(event, TurnFinished) and event.turn == 2][0]
    assert agent_turn.raw_text == " reply 1\n"
    assert agent_turn.text == "reply 1"


async def test_probes_sampled_runs_times_per_agent_turn():
    events: list = []
    chat, _ = make_chat(turns=8, runs=3, events=events)

    await chat.run()

    probes = [(event.turn, event.sample) for event in events if isinstance(event, ProbeScored)]
    assert probes == [(turn, sample) for turn in (2, 4, 6, 8) for sample in range(3)]


async def test_unscored_persona_reports_none():
    events: list = []
    chat, _ = make_chat(turns=4, runs=1, events=events)

    stability = await chat.run()

    assert stability == [None, None]
    finished = [event for event in events if isinstance(event, RunFinished)][0]
    assert finished.stability == [None, None]


async def test_each_call_gets_distinct_seed():
    seeds: list[int] = []

    def remember_seed(messages, sampling):
        seeds.append(sampling.seed)
        return "fine"

    backend = ScriptedBackend(reply_function=remember_seed)
    config = RunConfig(backend="scripted", agent=2, user=5, topic=5, seed=7, turns=4, runs=2)
    chat = SelfChat(config, backend, AGENT, USER, STARTER, listeners=[])

    await chat.run()

    assert len(set(seeds)) == len(seeds)
    assert seeds[0] == call_seed(7, 2, 0)


async def test_resume_fills_missing_probes_first():
    events: list = []
    resume = ResumeState(history=[STARTER, "stored agent reply"], probe_scores={2: [None]})
    chat, backend = make_chat(turns=3, runs=2, events=events, resume=resume)

    await chat.run()

    probe_turns = [(event.turn, event.sample) for event in events if isinstance(event, ProbeScored)]
    assert probe_turns == [(2, 1)]
    assert backend.calls[0][-1] == {"role": "user", "content": "AGENT PROBE?"}
    assert backend.calls[1][1] == {"role": "user", "content": wrap_opening(STARTER, "stored agent reply")}


async def test_stopping_emits_run_stopped():
    import asyncio

    from engine.events import RunStopped

    events: list = []
    backend = ScriptedBackend(replies=["slow words " * 50], token_delay=0.01)
    config = RunConfig(backend="scripted", agent=2, user=5, topic=5, seed=7, turns=8, runs=1)
    chat = SelfChat(config, backend, AGENT, USER, STARTER, listeners=[events.append])

    task = asyncio.create_task(chat.run())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert isinstance(events[-1], RunStopped)


def test_fold_reply_folds_newlines():
    assert fold_reply("  one\ntwo\r\nthree \n") == "one two three"


def test_config_resolve_draws_with_seed():
    first = RunConfig(seed=3).resolve()
    second = RunConfig(seed=3).resolve()

    assert first == second
    assert 0 <= first.agent < 100
    assert 0 <= first.topic < 45


def test_config_rejects_unknown_persona_index():
    with pytest.raises(ValueError, match="unknown agent persona index 100"):
        RunConfig(agent=100).validate()


def test_run_id_differs_by_sampling():
    base = RunConfig(agent=1, user=2, topic=3)
    other = RunConfig(agent=1, user=2, topic=3, sampling=Sampling(temperature=0.7))

    assert base.run_id() != other.run_id()


def scored_persona(index: int, category: str):
    """Return persona `index` from personas.json with its real scorer, under another category."""
    from dataclasses import replace as replace_field

    from engine.personas import load_personas

    return replace_field(load_personas()[index], category=category)


async def run_with_gate(agent, gate: bool, reply: str) -> list:
    events: list = []
    backend = ScriptedBackend(replies=[reply])
    config = RunConfig(backend="scripted", agent=agent.index, user=5, topic=5, seed=7, turns=2, runs=1,
                       fluency_gate=gate)
    chat = SelfChat(config, backend, agent, USER, STARTER, listeners=[events.append])
    await chat.run()
    return [event for event in events if isinstance(event, ProbeScored)]


async def test_fluency_gate_zeroes_non_english_answer():
    tennis = scored_persona(2, "persona")

    probes = await run_with_gate(tennis, gate=True, reply="tennis xqzv blorp fnarg wuzzle")

    assert probes[0].score == 0.0
    assert probes[0].published == 0.0


async def test_fluency_gate_off_keeps_score():
    tennis = scored_persona(2, "persona")

    probes = await run_with_gate(tennis, gate=False, reply="tennis xqzv blorp fnarg wuzzle")

    assert probes[0].score == 1.0


async def test_fluency_gate_skips_language_personas():
    french = scored_persona(98, "language")

    probes = await run_with_gate(french, gate=True, reply="Je visite les musées et je me promène le long de la Tamise.")

    assert probes[0].score > 0.9


def test_run_id_differs_by_endpoint():
    first = RunConfig(backend="openai", model="llama3.2", agent=1, user=2, topic=3, base_url="http://127.0.0.1:8001/v1")
    second = RunConfig(backend="openai", model="llama3.2", agent=1, user=2, topic=3, base_url="http://127.0.0.1:8002/v1")

    assert first.run_id() != second.run_id()


def test_run_id_ignores_timeout():
    assert RunConfig(agent=1, user=2, topic=3, timeout=5.0).run_id() == RunConfig(agent=1, user=2, topic=3).run_id()


def test_base_url_variable_enters_identity(tmp_path, monkeypatch):
    from store import RunStore
    from tui.session import prepare_run

    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8003/v1")
    config = RunConfig(backend="openai", model="llama3.2", agent=2, user=5, topic=3, turns=2, runs=1)

    prepared = prepare_run(config, RunStore(tmp_path), listeners=[], backend=ScriptedBackend())

    assert prepared.chat.config.base_url == "http://127.0.0.1:8003/v1"


@pytest.mark.parametrize(
    ("sampling", "message"),
    [
        (Sampling(temperature=-1.0), "--temperature -1.0 is invalid"),
        (Sampling(top_p=2.0), "--top_p 2.0 is invalid"),
        (Sampling(top_p=0.0), "--top_p 0.0 is invalid"),
    ],
)
def test_config_rejects_invalid_sampling(sampling, message):
    with pytest.raises(ValueError, match=message):
        RunConfig(sampling=sampling).validate()


@pytest.mark.parametrize("field_name", ["temperature", "top_p"])
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_config_rejects_non_finite_sampling(field_name, value):
    sampling = Sampling(**{field_name: value})

    with pytest.raises(ValueError, match="use a finite number"):
        RunConfig(sampling=sampling).validate()


def test_run_id_ignores_trailing_slash():
    with_slash = RunConfig(backend="openai", model="m", agent=1, user=2, topic=3, base_url="http://127.0.0.1:8001/v1/")
    without = RunConfig(backend="openai", model="m", agent=1, user=2, topic=3, base_url="http://127.0.0.1:8001/v1")

    assert with_slash.run_id() == without.run_id()


def test_log_file_shows_escapes_inertly(tmp_path):
    import logging

    from engine.settings import configure_logging

    root = logging.getLogger()
    handlers_before = list(root.handlers)
    log_path = configure_logging(tmp_path)
    logging.getLogger("model-drift-test").error("server said \x1b]0;PWNED\x07")
    for handler in root.handlers:
        if handler not in handlers_before:
            handler.close()
            root.removeHandler(handler)

    text = log_path.read_text(encoding="utf-8")
    assert "\x1b" not in text
    assert "␛]0;PWNED␇" in text
