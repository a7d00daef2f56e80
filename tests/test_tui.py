"""Pilot tests of the TUI screens on a temporary store and the scripted backend."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList, Select

from engine.backends.base import Message
from engine.backends.scripted import ScriptedBackend
from engine.config import RunConfig, Sampling
from engine.personas import Persona, load_personas
from store import RunStore
from tui.app import DriftApp
from tui.screens.chat import ChatScreen
from tui.screens.history import HistoryScreen, LiteralCell
from tui.screens.picker import PickerScreen
from tui.screens.replay import ReplayScreen
from tui.widgets.drift_curve import DriftCurve
from tui.widgets.literal_text import neutralise_controls
from tui.widgets.status_line import StatusLine
from tui.widgets.turn_view import TurnView

SIZE = (160, 48)
TENNIS = 2
LETTER_Z = 5
TENNIS_REPLY = "I play tennis every weekend, tennis is my favourite hobby."
HOSTILE_REPLY = "Look: [bold]loud[/] and [red]x[/red] then \x1b[31mred\x1b[0m text."


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
        assert str(table.get_row(run_id)[6]) == "1.000"


async def test_history_filter_and_sort(store, personas):
    await run_to_end(store, personas, config_for(turns=2), [TENNIS_REPLY])
    await run_to_end(store, personas, config_for(agent=LETTER_Z, user=TENNIS, turns=2), ["I collect stamps."])
    app = make_app(store, personas)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(HistoryScreen())
        await settle(pilot)
        table = app.screen.query_one("#run-table", DataTable)

        await pilot.press("s")
        ascending = [str(table.get_row_at(row)[6]) for row in range(table.row_count)]
        await pilot.press("s")
        descending = [str(table.get_row_at(row)[6]) for row in range(table.row_count)]

        app.screen.query_one("#history-filter", Input).value = "tennis"
        await pilot.pause(0.3)
        filtered_count = table.row_count
        app.screen.query_one("#history-filter", Input).value = "no-such-run"
        await pilot.pause(0.3)

        assert ascending == ["0.000", "1.000"]
        assert descending == ["1.000", "0.000"]
        assert filtered_count == 2
        assert table.row_count == 0


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
