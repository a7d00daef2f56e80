"""Pilot tests of the TUI screens on a temporary store and the scripted backend."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Checkbox, DataTable, Input, OptionList, Select, Static

from engine.backends import BackendError
from engine.backends.base import Message
from engine.backends.scripted import ScriptedBackend
from engine.config import Decoding, RunConfig, Sampling
from engine.models import MODEL_ALIASES
from engine.personas import Persona, load_personas
from store import RunStore, StoredRun
from store.importer import import_logs
from tui.app import DriftApp
from tui.screens.chat import ChatScreen
from tui.screens.compare import CompareScreen, turn_band
from tui.screens.history import COLUMNS, HistoryScreen, LiteralCell
from tui.screens.picker import PickerScreen
from tui.screens.replay import ReplayScreen
from tui.widgets.band_curve import BandCurve
from tui.widgets.candidate_table import CandidateTable
from tui.widgets.drift_curve import DriftCurve
from tui.widgets.literal_text import neutralise_controls
from tui.widgets.status_line import StatusLine
from tui.widgets.turn_view import TurnView

SIZE = (160, 48)
SAMPLES = Path(__file__).resolve().parent / "data" / "selfchat"
SAMPLE_FILES = sorted(SAMPLES.glob("*.pkl"))
BEST_OF_N_SAMPLE = "anthropic_claude-3.5-haiku_agent_0_user_5_turn_20_bestof5_p0.9_t0.7_seed_42.pkl"
TENNIS = 2
LETTER_Z = 5
TENNIS_REPLY = "I play tennis every weekend, tennis is my favourite hobby."
HOSTILE_REPLY = "Look: [bold]loud[/] and [red]x[/red] then \x1b[31mred\x1b[0m text."
COLUMN_KEYS = [column.key for column in COLUMNS]
MEAN_COLUMN = COLUMN_KEYS.index("mean_stability")
SOURCE_COLUMN = COLUMN_KEYS.index("source")


@pytest.fixture(scope="module")
def personas() -> list[Persona]:
    return load_personas()


@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path / "data")


def config_for(agent: int = TENNIS, user: int = LETTER_Z, turns: int = 6, runs: int = 2) -> RunConfig:
    return RunConfig(
        backend="scripted", model="demo", agent=agent, user=user, topic=3, seed=1, turns=turns, runs=runs,
        sampling=Sampling(max_tokens=100),
    )


class GatedBackend(ScriptedBackend):
    """A scripted backend that delays every call matching `should_wait` until `gate` is set."""

    def __init__(self, should_wait: Callable[[list[Message]], bool], **options) -> None:
        super().__init__(**options)
        self.should_wait = should_wait
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    async def stream(self, messages, sampling):
        if self.should_wait(messages):
            self.waiting.set()
            await self.gate.wait()
        async for item in super().stream(messages, sampling):
            yield item


def make_app(store: RunStore, personas: list[Persona], backend: ScriptedBackend | None = None, **options) -> DriftApp:
    backend = backend or ScriptedBackend(replies=[TENNIS_REPLY])
    return DriftApp(store=store, personas=personas, backend_factory=lambda config: backend, **options)


async def settle(pilot: Pilot) -> None:
    """Wait for every worker to end and for the messages they posted to be handled."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


def turn_views(app: DriftApp) -> dict[int, TurnView]:
    return {view.turn: view for view in app.screen.query(TurnView)}


def notifications(app: DriftApp) -> list[str]:
    return [notification.message for notification in app._notifications]


def listed_indexes(app: DriftApp) -> list[int]:
    option_list = app.screen.query_one("#persona-list", OptionList)
    return [int(option_list.get_option_at_index(position).id) for position in range(option_list.option_count)]


async def run_to_end(store: RunStore, personas: list[Persona], config: RunConfig, replies: list[str]) -> str:
    """Run `config` to completion in the live chat and return its run id."""
    app = make_app(store, personas, ScriptedBackend(replies=replies), start_config=config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        return app.screen.run_id


# Persona picker


async def test_picker_search_filters_personas(store, personas):
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#search")
        await pilot.press(*"tennis")
        await pilot.pause()

        assert listed_indexes(app) == [TENNIS]


async def test_picker_category_filter(store, personas):
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one("#category", Select).value = "language"
        await pilot.pause()

        listed = listed_indexes(app)
        assert listed
        assert all(personas[index].category == "language" for index in listed)
        assert len(listed) == sum(persona.category == "language" for persona in personas)


async def test_picker_preview_follows_highlight(store, personas):
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "down")
        await pilot.pause()

        preview = app.screen.query_one("#preview")
        assert preview.persona is personas[2]
        assert "What's your hobby?" in preview.render().plain


async def test_picker_starts_chosen_pair(store, personas):
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#search")
        await pilot.press(*"tennis")
        await pilot.click("#persona-list")
        await pilot.press("a")

        app.screen.query_one("#search", Input).value = "letter Z"
        await pilot.pause()
        await pilot.click("#persona-list")
        await pilot.press("u")

        app.screen.query_one("#turns", Input).value = "4"
        app.screen.query_one("#model", Input).value = "scripted:demo"
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert isinstance(app.screen, ChatScreen)
        assert app.screen.config.agent == TENNIS
        assert app.screen.config.user == LETTER_Z
        assert sorted(turn_views(app)) == [1, 2, 3, 4]


async def test_picker_rejects_invalid_turns(store, personas):
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one("#turns", Input).value = "abc"
        await pilot.press("ctrl+s")
        await pilot.pause()

        assert isinstance(app.screen, PickerScreen)
        assert any("Turns" in message and "'abc'" in message for message in notifications(app))
        assert app.screen.query_one("#turns", Input).has_class("-invalid")


async def test_picker_rejects_unknown_model(store, personas):
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one("#model", Input).value = "/no/such/model.gguf"
        await pilot.press("ctrl+s")
        await pilot.pause()

        assert isinstance(app.screen, PickerScreen)
        assert any("GGUF file not found" in message for message in notifications(app))


async def test_picker_draws_distinct_pair(store, personas):
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+r")
        await pilot.pause()

        picker = app.screen
        assert picker.agent is not None
        assert picker.user is not None
        assert picker.agent is not picker.user


# Live chat


async def test_chat_command_opens_chat(store, personas):
    app = make_app(store, personas, start_config=config_for())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        assert isinstance(app.screen, ChatScreen)
        assert app.screen.query_one(StatusLine).state == "finished"


async def test_chat_badges_show_stability(store, personas):
    app = make_app(store, personas, start_config=config_for(turns=6))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        views = turn_views(app)
        badges = [views[turn].badge for turn in (2, 4, 6)]
        assert [badge.label for badge in badges] == ["1.00", "1.00", "1.00"]
        assert all(badge.has_class("-level-4") for badge in badges)
        assert views[3].badge is None
        assert app.screen.query_one(DriftCurve).stability == {2: 1.0, 4: 1.0, 6: 1.0}


async def test_chat_badge_red_for_drift(store, personas):
    backend = ScriptedBackend(replies=["I collect stamps."])
    app = make_app(store, personas, backend, start_config=config_for(turns=2))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        badge = turn_views(app)[2].badge
        assert badge.label == "0.00"
        assert badge.has_class("-level-0")


async def test_chat_badge_pending_while_probing(store, personas):
    probe_question = personas[TENNIS].probe_question
    backend = GatedBackend(lambda messages: messages[-1]["content"] == probe_question, replies=[TENNIS_REPLY])
    app = make_app(store, personas, backend, start_config=config_for(turns=2))
    async with app.run_test(size=SIZE) as pilot:
        await asyncio.wait_for(backend.waiting.wait(), timeout=10)
        await pilot.pause()
        pending_label = turn_views(app)[2].badge.label

        backend.gate.set()
        await settle(pilot)

        assert pending_label.startswith("…")
        assert turn_views(app)[2].badge.label == "1.00"


async def test_chat_not_scored_persona(store, personas):
    unscored = [replace(persona, scorer=None) if persona.index == TENNIS else persona for persona in personas]
    app = make_app(store, unscored, start_config=config_for(turns=4))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        views = turn_views(app)
        assert views[2].badge.label == "not scored"
        assert views[4].badge.has_class("-not-scored")


async def test_chat_streams_tokens_in_order(store, personas):
    backend = ScriptedBackend(replies=["one two three four five"], token_delay=0.001)
    app = make_app(store, personas, backend, start_config=config_for(turns=2, runs=1))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        assert turn_views(app)[2].body.text.plain == "one two three four five"


async def test_stop_keeps_completed_turns(store, personas):
    user_prompt = personas[LETTER_Z].system_prompt
    backend = GatedBackend(lambda messages: messages[0]["content"] == user_prompt, replies=[TENNIS_REPLY])
    app = make_app(store, personas, backend, start_config=config_for(turns=6))
    async with app.run_test(size=SIZE) as pilot:
        await asyncio.wait_for(backend.waiting.wait(), timeout=10)
        await pilot.pause()
        await pilot.press("s")
        await settle(pilot)

        summary = store.summaries()[0]
        assert app.screen.query_one(StatusLine).state == "stopped"
        assert summary["status"] == "stopped"
        assert summary["completed_turns"] == 2
        assert turn_views(app)[3].has_class("-incomplete")
        assert turn_views(app)[2].badge.label == "1.00"


async def test_resume_after_stop_finishes(store, personas):
    user_prompt = personas[LETTER_Z].system_prompt
    backend = GatedBackend(lambda messages: messages[0]["content"] == user_prompt, replies=[TENNIS_REPLY])
    app = make_app(store, personas, backend, start_config=config_for(turns=4))
    async with app.run_test(size=SIZE) as pilot:
        await asyncio.wait_for(backend.waiting.wait(), timeout=10)
        await pilot.press("s")
        await settle(pilot)

        backend.gate.set()
        await pilot.press("r")
        await settle(pilot)

        assert app.screen.query_one(StatusLine).state == "finished"
        assert sorted(turn_views(app)) == [1, 2, 3, 4]
        assert store.summaries()[0]["completed_turns"] == 4


async def test_run_failure_notifies_and_keeps_turns(store, personas):
    user_prompt = personas[LETTER_Z].system_prompt

    def reply(messages, sampling):
        if messages[0]["content"] == user_prompt:
            raise RuntimeError("backend exploded")
        return TENNIS_REPLY

    app = make_app(store, personas, ScriptedBackend(reply_function=reply), start_config=config_for(turns=6))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        messages = notifications(app)
        assert isinstance(app.screen, ChatScreen)
        assert app.screen.query_one(StatusLine).state == "failed"
        assert sum("backend exploded" in message for message in messages) == 1
        assert turn_views(app)[2].body.text.plain == TENNIS_REPLY


async def test_leave_chat_returns_to_picker(store, personas):
    app = make_app(store, personas, start_config=config_for(turns=2))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("escape")
        await pilot.pause()

        assert isinstance(app.screen, PickerScreen)


# Model text is shown literally


async def test_model_markup_renders_literally(store, personas):
    app = make_app(store, personas, ScriptedBackend(replies=[HOSTILE_REPLY]), start_config=config_for(turns=2, runs=1))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = turn_views(app)[2].body.text.plain
        screenshot = app.export_screenshot()

        assert "[bold]loud[/]" in shown
        assert "[red]x[/red]" in shown
        assert "␛[31mred␛[0m" in shown
        assert "\x1b" not in shown
        assert "[red]x[/red]" in screenshot
        assert "␛[31mred" in screenshot


async def test_replay_probe_answers_literal(store, personas):
    run_id = await run_to_end(store, personas, config_for(turns=2, runs=1), [HOSTILE_REPLY])
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(ReplayScreen(run_id))
        await pilot.pause()
        await pilot.press("end")
        await pilot.pause()
        shown = app.screen.query_one("#probe-answers").render().plain

        assert "[bold]loud[/]" in shown
        assert "␛[31mred" in shown


def test_neutralise_controls_keeps_newlines():
    assert neutralise_controls("a\nb\tc") == "a\nb\tc"
    assert neutralise_controls("\x1b[2J\x07\x7f\x9b") == "␛[2J␇␡\ufffd"
    assert neutralise_controls("\u202eevil") == "\ufffdevil"


# History


def test_history_cell_renders_literally():
    console = Console(width=40, color_system=None)
    with console.capture() as capture:
        console.print(LiteralCell("[red]x[/red] \x1b[2J"))

    assert capture.get().rstrip() == "[red]x[/red] ␛[2J"


async def test_history_lists_stored_run(store, personas):
    run_id = await run_to_end(store, personas, config_for(turns=2), [TENNIS_REPLY])
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        await settle(pilot)

        table = app.screen.query_one("#run-table", DataTable)
        assert isinstance(app.screen, HistoryScreen)
        assert table.row_count == 1
        assert table.coordinate_to_cell_key((0, 0)).row_key.value == run_id
        assert str(table.get_row(run_id)[MEAN_COLUMN]) == "1.000"


async def test_history_filter_and_sort(store, personas):
    await run_to_end(store, personas, config_for(turns=2), [TENNIS_REPLY])
    await run_to_end(store, personas, config_for(agent=LETTER_Z, user=TENNIS, turns=2), ["I collect stamps."])
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(HistoryScreen())
        await settle(pilot)
        table = app.screen.query_one("#run-table", DataTable)

        await pilot.press("s")
        ascending = [str(table.get_row_at(row)[MEAN_COLUMN]) for row in range(table.row_count)]
        await pilot.press("s")
        descending = [str(table.get_row_at(row)[MEAN_COLUMN]) for row in range(table.row_count)]

        app.screen.query_one("#history-filter", Input).value = "tennis"
        await pilot.pause(0.3)
        filtered_count = table.row_count
        app.screen.query_one("#history-filter", Input).value = "no-such-run"
        await pilot.pause(0.3)

        assert ascending == ["0.000", "1.000"]
        assert descending == ["1.000", "0.000"]
        assert filtered_count == 2
        assert table.row_count == 0


async def test_history_caps_table_rows(store, personas, monkeypatch):
    monkeypatch.setattr("tui.screens.history.MAX_TABLE_ROWS", 1)
    await run_to_end(store, personas, config_for(turns=2), [TENNIS_REPLY])
    await run_to_end(store, personas, config_for(agent=LETTER_Z, user=TENNIS, turns=2), ["I collect stamps."])
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(HistoryScreen())
        await settle(pilot)
        table = app.screen.query_one("#run-table", DataTable)
        await pilot.press("s")
        lowest_first = str(table.get_row_at(0)[MEAN_COLUMN])
        await pilot.press("s")
        highest_first = str(table.get_row_at(0)[MEAN_COLUMN])
        count = app.screen.query_one("#history-count", Static).render().plain

        assert table.row_count == 1
        assert lowest_first == "0.000"
        assert highest_first == "1.000"
        assert "first 1 of 2 matching runs shown" in count


async def test_history_header_click_sorts(store, personas):
    await run_to_end(store, personas, config_for(turns=2), [TENNIS_REPLY])
    await run_to_end(store, personas, config_for(agent=LETTER_Z, user=TENNIS, turns=2), ["I collect stamps."])
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(HistoryScreen())
        await settle(pilot)
        table = app.screen.query_one("#run-table", DataTable)
        agent_x = sum(column.get_render_width(table) for column in table.ordered_columns[:3]) + 1
        await pilot.click("#run-table", offset=(agent_x, 0))
        await pilot.pause()

        assert app.screen.sort_column == "agent"
        assert str(table.get_row_at(0)[3]).startswith(f"#{TENNIS} ")


# Replay


async def test_history_enter_opens_replay(store, personas):
    run_id = await run_to_end(store, personas, config_for(turns=4), [TENNIS_REPLY])
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(HistoryScreen())
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()

        assert isinstance(app.screen, ReplayScreen)
        assert app.screen.run_id == run_id


async def test_replay_steps_move_cursor(store, personas):
    run_id = await run_to_end(store, personas, config_for(turns=6), [TENNIS_REPLY])
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(ReplayScreen(run_id))
        await pilot.pause()
        replay = app.screen
        curve = replay.query_one(DriftCurve)
        start = (replay.current_turn, curve.cursor)

        await pilot.press("right")
        after_right = (replay.current_turn, curve.cursor)
        await pilot.press("right", "right")
        after_three = (replay.current_turn, curve.cursor)
        await pilot.press("left")
        after_left = (replay.current_turn, curve.cursor)
        await pilot.press("end")
        at_end = (replay.current_turn, curve.cursor)
        await pilot.press("home")
        at_start = (replay.current_turn, curve.cursor)
        await pilot.pause()

        assert start == (1, None)
        assert after_right == (2, 2)
        assert after_three == (4, 4)
        assert after_left == (3, 2)
        assert at_end == (6, 6)
        assert at_start == (1, None)


async def test_replay_hides_later_turns(store, personas):
    run_id = await run_to_end(store, personas, config_for(turns=6), [TENNIS_REPLY])
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(ReplayScreen(run_id))
        await pilot.pause()
        await pilot.press("right", "right")
        await pilot.pause()

        shown = sorted(turn for turn, view in turn_views(app).items() if view.display)
        probes = app.screen.query_one("#probe-answers").render().plain
        assert shown == [1, 2, 3]
        assert "Probes after turn 2" in probes
        assert "score 1.00" in probes


async def test_replay_unknown_run_notifies(store, personas):
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(ReplayScreen("missing-run"))
        await pilot.pause()

        assert isinstance(app.screen, ReplayScreen)
        assert any("missing-run" in message for message in notifications(app))


# Best-of-n candidates and imported runs


def best_of_n_run(personas: list[Persona], candidate_text: str = TENNIS_REPLY) -> StoredRun:
    """Build a finished best_of_n run whose agent turn 2 kept candidate 1 of 3."""
    config = replace(config_for(turns=2, runs=1), decoding=Decoding(strategy="best_of_n", best_of_n=3))
    candidates = [
        {"index": index, "text": text, "score": score, "persona_similarity": score, "context_similarity": 0.1,
         "candidate_length": len(text.split())}
        for index, (text, score) in enumerate([("I collect stamps.", 0.2), (candidate_text, 0.9), ("Hello.", 0.1)])
    ]
    turn = {"turn": 1, "speaker": "starter", "raw_text": "Hi", "text": "Hi", "finished_at": "2025-01-01T00:00:00"}
    agent_turn = {**turn, "turn": 2, "speaker": "agent", "raw_text": candidate_text, "text": candidate_text,
                  "candidates": candidates, "selected_index": 1}
    probe = {"turn": 2, "sample": 0, "raw_text": TENNIS_REPLY, "score": 1.0, "published": 1.0}
    return StoredRun(
        run_id=config.run_id(), config=config, created_at="2025-01-01T00:00:00", status="finished",
        agent_prompt=personas[TENNIS].system_prompt, user_prompt=personas[LETTER_Z].system_prompt,
        agent_label=personas[TENNIS].label, user_label=personas[LETTER_Z].label, starter="Hi",
        turns=[turn, agent_turn], probes=[probe],
    )


def rendered_lines(widget) -> list[str]:
    """Return a mounted widget's render() as plain lines, 120 columns wide."""
    console = Console(width=120, color_system=None)
    with console.capture() as capture:
        console.print(widget.render())
    return capture.get().splitlines()


@pytest.fixture
def imported_store(store) -> RunStore:
    report = import_logs([SAMPLES], store)
    assert not report.failed
    return store


def imported_run_id(store: RunStore, file_name: str) -> str:
    for summary in store.summaries():
        if store.load_run(summary["run_id"]).metadata["source"]["file"] == file_name:
            return summary["run_id"]
    raise AssertionError(f"no run imported from {file_name}")


async def test_replay_marks_kept_candidate(store, personas):
    store.add_runs([best_of_n_run(personas)])
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(ReplayScreen(store.summaries()[0]["run_id"]))
        await pilot.pause()
        await pilot.press("end")
        await pilot.pause()
        table = app.screen.query_one(CandidateTable)
        lines = rendered_lines(table)
        kept_rows = [line.split() for line in lines if "✓ kept" in line]

        assert table.turn == 2
        assert table.display
        assert len(kept_rows) == 1
        assert kept_rows[0][:2] == ["1", "0.900"]
        assert any(line.startswith(f"1 (kept): {TENNIS_REPLY}") for line in lines)
        assert not app.screen.query_one("#replay-imported").display


async def test_replay_candidate_text_literal(store, personas):
    store.add_runs([best_of_n_run(personas, candidate_text=HOSTILE_REPLY)])
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(ReplayScreen(store.summaries()[0]["run_id"]))
        await pilot.pause()
        await pilot.press("end")
        await pilot.pause()
        shown = "\n".join(rendered_lines(app.screen.query_one(CandidateTable)))

        assert "[bold]loud[/]" in shown
        assert "␛[31mred" in shown


async def test_replay_shows_decoding_and_scorer(store, personas):
    store.add_runs([best_of_n_run(personas)])
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(ReplayScreen(store.summaries()[0]["run_id"]))
        await pilot.pause()
        facts = app.screen.query_one("#replay-facts").render().plain

        assert "decoding best_of_3 a1 b0.5 g0" in facts
        assert personas[TENNIS].scorer.description in facts


async def test_replay_candidates_hidden_before_turn(store, personas):
    store.add_runs([best_of_n_run(personas)])
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(ReplayScreen(store.summaries()[0]["run_id"]))
        await pilot.pause()

        assert app.screen.current_turn == 1
        assert not app.screen.query_one(CandidateTable).display


async def test_history_marks_imported(imported_store, personas):
    await run_to_end(imported_store, personas, config_for(turns=2), [TENNIS_REPLY])
    app = make_app(imported_store, personas)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(HistoryScreen())
        await settle(pilot)
        table = app.screen.query_one("#run-table", DataTable)
        sources = sorted(str(table.get_row_at(row)[SOURCE_COLUMN]) for row in range(table.row_count))

        app.screen.query_one("#history-filter", Input).value = "!imported"
        await pilot.pause(0.3)
        native_count = table.row_count
        app.screen.query_one("#history-filter", Input).value = "imported"
        await pilot.pause(0.3)

        assert sources == ["here"] + ["imported"] * len(SAMPLE_FILES)
        assert native_count == 1
        assert table.row_count == len(SAMPLE_FILES)


async def test_history_shows_and_filters_decoding(imported_store, personas):
    await run_to_end(imported_store, personas, config_for(turns=2), [TENNIS_REPLY])
    app = make_app(imported_store, personas)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(HistoryScreen())
        await settle(pilot)
        table = app.screen.query_one("#run-table", DataTable)
        decoding_column = COLUMN_KEYS.index("decoding")
        labels = {str(table.get_row_at(row)[decoding_column]) for row in range(table.row_count)}

        app.screen.query_one("#history-filter", Input).value = "greedy"
        await pilot.pause(0.3)
        greedy_count = table.row_count

        assert {"nucleus", "greedy", "best_of_5 a1 b0.5 g0"} <= labels
        assert greedy_count == sum("greedy" in path.name for path in SAMPLE_FILES)


async def test_replay_imported_best_of_n(imported_store, personas):
    run_id = imported_run_id(imported_store, BEST_OF_N_SAMPLE)
    app = make_app(imported_store, personas)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(ReplayScreen(run_id))
        await pilot.pause()
        await pilot.press("right")
        await pilot.pause()
        replay = app.screen
        facts = replay.query_one("#replay-facts").render().plain
        tables = list(replay.query(CandidateTable))
        lines = rendered_lines(tables[0])
        kept_rows = [line.split() for line in lines if "✓ kept" in line]

        assert replay.query_one("#replay-imported").display
        assert f"imported from {BEST_OF_N_SAMPLE}" in facts
        assert "decoding best_of_5 a1 b0.5 g0" in facts
        assert len(tables) == 20
        assert tables[0].turn == 2
        assert len(kept_rows) == 1
        assert kept_rows[0][0] == "0"
        assert any("not stored in the published log" in line for line in lines)


# Chat failures and imported runs


async def test_backend_error_keeps_conversation(store, personas):
    user_prompt = personas[LETTER_Z].system_prompt

    def reply(messages, sampling):
        if messages[0]["content"] == user_prompt:
            raise BackendError("scripted endpoint refused the request")
        return TENNIS_REPLY

    app = make_app(store, personas, ScriptedBackend(reply_function=reply), start_config=config_for(turns=6))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        views = turn_views(app)

        assert isinstance(app.screen, ChatScreen)
        assert app.screen.query_one(StatusLine).state == "failed"
        assert sum("scripted endpoint refused" in message for message in notifications(app)) == 1
        assert views[1].display
        assert views[2].body.text.plain == TENNIS_REPLY
        assert views[2].badge.label == "1.00"
        assert app.screen.check_action("resume", ())
        assert views[3].body.text.plain == "[no reply, not stored]"


async def test_chat_refuses_imported_run(store, personas):
    config = replace(config_for(), backend="imported")
    app = make_app(store, personas, start_config=config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)

        assert app.screen.query_one(StatusLine).state == "failed"
        assert any("imported log" in message for message in notifications(app))
        assert not app.screen.check_action("resume", ())
        assert app.screen.worker is None
        assert store.summaries() == []


# Run form


async def test_picker_shows_key_presence(store, personas, monkeypatch):
    secret = "sk-test-do-not-show-4242"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        keys = app.screen.query_one("#key-status").render().plain
        screenshot = app.export_screenshot()

        assert "OPENAI_API_KEY set" in keys
        assert "REPLICATE_API_TOKEN not set" in keys
        assert secret not in keys
        assert secret not in screenshot


async def test_picker_model_resolution(store, personas):
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        model = app.screen.query_one("#model", Input)
        resolution = app.screen.query_one("#model-resolution")
        model.value = "llama2_chat_70B"
        await pilot.pause()
        alias = resolution.render().plain
        model.value = "no such model"
        await pilot.pause()
        unknown = resolution.render().plain

        assert "replicate" in alias
        assert "meta/llama-2-70b-chat" in alias
        assert "REPLICATE_API_TOKEN" in alias
        assert "unknown model 'no such model'" in unknown


async def test_picker_lists_aliases(store, personas):
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        help_text = app.screen.query_one("#model-help").render().plain

        assert all(alias in help_text for alias in MODEL_ALIASES)


async def test_picker_best_of_n_config(store, personas):
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        picker = app.screen
        hidden_before = not picker.query_one("#best-of-n-fields").display
        picker.query_one("#decoding", Select).value = "best_of_n"
        await pilot.pause()
        picker.query_one("#best-of-n", Input).value = "3"
        picker.query_one("#gamma", Input).value = "-0.01"
        picker.query_one("#fluency-gate", Checkbox).value = True
        picker.query_one("#model", Input).value = "openai:llama3.2"
        picker.query_one("#base-url", Input).value = "http://127.0.0.1:8000/v1"
        picker.query_one("#max-tokens", Input).value = "64"
        config = picker.build_config()

        assert hidden_before
        assert picker.query_one("#best-of-n-fields").display
        assert config.decoding == Decoding(strategy="best_of_n", best_of_n=3, alpha=1.0, beta=0.5, gamma=-0.01)
        assert config.fluency_gate is True
        assert config.base_url == "http://127.0.0.1:8000/v1"
        assert (config.backend, config.model) == ("openai", "llama3.2")
        assert config.sampling.max_tokens == 64


@pytest.mark.parametrize(
    ("field_values", "expected"),
    [
        ({"#decoding": "best_of_n", "#best-of-n": "0"}, "Best-of-n candidates (n): 0 is out of range"),
        ({"#decoding": "best_of_n", "#alpha": "strong"}, "Alpha (persona similarity weight): 'strong'"),
        ({"#base-url": "http://127.0.0.1:8000"}, "Base URL: a base URL applies to openai and replicate"),
        ({"#model": "gpt-4o-mini", "#base-url": "ftp://example"}, "Base URL: 'ftp://example' is not an http(s) URL"),
        ({"#max-tokens": "0"}, "Max tokens per reply: 0 is out of range"),
    ],
)
async def test_picker_rejects_invalid_field(store, personas, field_values, expected):
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        for selector, value in field_values.items():
            app.screen.query_one(selector).value = value
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()

        assert isinstance(app.screen, PickerScreen)
        assert any(message.startswith(expected) for message in notifications(app))


# Compare


async def test_compare_groups_by_model(store, personas):
    await run_to_end(store, personas, config_for(turns=4), [TENNIS_REPLY])
    await run_to_end(store, personas, replace(config_for(turns=4), model="other"), ["I collect stamps."])
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(HistoryScreen())
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        compare = app.screen
        by_model = [group.query_one(".compare-legend").render().plain for group in compare.query(".compare-group")]
        curves = list(compare.query(BandCurve))

        await pilot.press("g")
        await pilot.pause()
        by_decoding = [group.query_one(".compare-legend").render().plain for group in compare.query(".compare-group")]

        assert isinstance(compare, CompareScreen)
        assert [legend.split()[0] for legend in by_model] == ["demo", "other"]
        assert all("1 run, 1 with probe scores" in legend for legend in by_model)
        assert [curve.stability for curve in curves] == [{2: 1.0, 4: 1.0}, {2: 0.0, 4: 0.0}]
        assert len(by_decoding) == 1
        assert by_decoding[0].startswith("nucleus\n2 runs, 2 with probe scores")


async def test_compare_caps_runs(store, personas, monkeypatch):
    monkeypatch.setattr("tui.screens.compare.MAX_RUNS", 1)
    await run_to_end(store, personas, config_for(turns=2), [TENNIS_REPLY])
    await run_to_end(store, personas, replace(config_for(turns=2), seed=2), [TENNIS_REPLY])
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(CompareScreen(store.summaries()))
        await settle(pilot)
        facts = app.screen.query_one("#compare-facts").render().plain
        legend = app.screen.query_one(".compare-legend").render().plain

        assert "Only the first 1 of 2 runs" in facts
        assert "1 run, 1 with probe scores" in legend


async def test_compare_imported_without_scores(imported_store, personas):
    app = make_app(imported_store, personas)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(CompareScreen(imported_store.summaries()))
        await settle(pilot)

        assert len(app.screen.query(".compare-empty")) == 3
        assert len(app.screen.query(BandCurve)) == 0


def test_band_uses_standard_error():
    band = turn_band([0.4, 0.5, 0.6])
    half_width = 1.96 * 0.1 / 3 ** 0.5

    assert band.mean == pytest.approx(0.5)
    assert band.low == pytest.approx(0.5 - half_width)
    assert band.high == pytest.approx(0.5 + half_width)
    assert band.method == "±1.96·SE"


def test_band_range_below_three_runs():
    band = turn_band([0.2, 0.8])

    assert band.low == 0.2
    assert band.high == 0.8
    assert band.method == "min–max"


def test_band_clipped_to_unit_interval():
    band = turn_band([1.0, 1.0, 0.0])

    assert band.high == 1.0
    assert band.low >= 0.0


# Narrow terminals: DriftApp.HORIZONTAL_BREAKPOINTS rearranges the screens below 140 columns.

NARROW_SIZE = (80, 24)


def visible_lines(widget) -> list[str]:
    """Return the lines a mounted line-API widget (such as OptionList) shows now, as plain text."""
    return [widget.render_line(y).text for y in range(widget.size.height)]


async def test_chat_transcript_wide_at_80_columns(store, personas):
    app = make_app(store, personas, start_config=config_for())
    async with app.run_test(size=NARROW_SIZE) as pilot:
        await settle(pilot)
        transcript = app.screen.query_one("#transcript").region
        side = app.screen.query_one("#chat-side").region
        user_turn = turn_views(app)[3].region

        assert transcript.width >= 50
        assert user_turn.width >= 40
        assert side.y >= transcript.bottom
        assert app.screen.query_one(DriftCurve).region.height >= 4


async def test_replay_transcript_wide_at_80_columns(store, personas):
    run_id = await run_to_end(store, personas, config_for(), [TENNIS_REPLY])
    app = make_app(store, personas)
    async with app.run_test(size=NARROW_SIZE) as pilot:
        app.push_screen(ReplayScreen(run_id))
        await pilot.pause()
        transcript = app.screen.query_one("#replay-transcript").region
        side = app.screen.query_one("#replay-side").region

        assert transcript.width >= 50
        assert side.y >= transcript.bottom
        assert app.screen.query_one(DriftCurve).region.height >= 4


async def test_picker_shows_prompts_at_80_columns(store, personas):
    app = make_app(store, personas)
    async with app.run_test(size=NARROW_SIZE) as pilot:
        await pilot.pause()
        lines = visible_lines(app.screen.query_one("#persona-list", OptionList))
        tennis_line = next(line for line in lines if f" {TENNIS} " in line)
        preview = app.screen.query_one("#preview-column").region

        assert "You love playing tennis" in tennis_line
        assert personas[TENNIS].category not in tennis_line
        assert preview.width >= 30


async def test_picker_category_returns_when_widened(store, personas):
    app = make_app(store, personas)
    async with app.run_test(size=NARROW_SIZE) as pilot:
        await pilot.pause()
        await pilot.resize_terminal(*SIZE)
        await pilot.pause()
        await pilot.pause()
        lines = visible_lines(app.screen.query_one("#persona-list", OptionList))
        tennis_line = next(line for line in lines if f" {TENNIS} " in line)

        assert personas[TENNIS].category in tennis_line
        assert "You love playing tennis" in tennis_line


async def test_chat_side_panel_beside_at_160(store, personas):
    app = make_app(store, personas, start_config=config_for())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        transcript = app.screen.query_one("#transcript").region
        side = app.screen.query_one("#chat-side").region

        assert side.x >= transcript.right
        assert side.y == transcript.y
        assert side.width == 60
