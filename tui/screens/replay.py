"""Replay: step through a stored run turn by turn, with probe answers and a curve cursor.

The transcript shows turns up to the current one. The side panel shows the
probe answers of the latest agent turn at or before the current turn, and the
drift curve's cursor marks that agent turn.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from engine.personas import PersonaFileError
from store import StoredRun, StoreError
from tui.widgets.drift_curve import DriftCurve
from tui.widgets.literal_text import literal_text
from tui.widgets.probe_answers import ProbeAnswers
from tui.widgets.turn_view import TurnView

if TYPE_CHECKING:
    from tui.app import DriftApp

logger = logging.getLogger(__name__)


class ReplayScreen(Screen[None]):
    """Replays one stored run."""

    BINDINGS = [
        Binding("right,l,j", "step(1)", "Next turn", priority=True),
        Binding("left,h,k", "step(-1)", "Previous turn", priority=True),
        Binding("home,g", "jump('first')", "First", priority=True),
        Binding("end,G", "jump('last')", "Last", priority=True),
        Binding("escape", "leave", "Back"),
    ]

    current_turn: reactive[int] = reactive(0, init=False)
    """The last turn shown; turns after it are hidden."""

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.run: StoredRun | None = None
        self.views: list[TurnView] = []

    @property
    def drift_app(self) -> DriftApp:
        return cast("DriftApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="replay-facts")
        with Horizontal(id="replay-body"):
            yield VerticalScroll(id="replay-transcript", can_focus=False)
            with Vertical(id="replay-side"):
                yield Static("Drift: stability per agent turn", classes="side-title")
                yield DriftCurve(id="replay-curve")
                yield Static(id="replay-position")
                with VerticalScroll(id="probe-panel", can_focus=False):
                    yield ProbeAnswers(id="probe-answers")
        yield Footer()

    def on_mount(self) -> None:
        try:
            self.run = self.drift_app.store.load_run(self.run_id)
        except StoreError as error:
            logger.error("cannot open run %s for replay: %s", self.run_id, error)
            self.notify(str(error), title="Run not opened", severity="error", timeout=15, markup=False)
            self.query_one("#replay-facts", Static).update(literal_text(f"Run {self.run_id} could not be opened."))
            return

        run = self.run
        self.query_one(ProbeAnswers).probe_question = self.probe_question(run)
        self.show_facts(run)

        stability = run.stability()
        self.query_one(DriftCurve).set_all(stability, turns=run.config.turns)
        self.views = [self.turn_view(turn, stability) for turn in run.turns]
        self.query_one("#replay-transcript", VerticalScroll).mount_all(self.views)
        self.current_turn = 1 if self.views else 0

    def probe_question(self, run: StoredRun) -> str:
        """Return the agent persona's probe question, matched by system prompt text."""
        try:
            personas = self.drift_app.personas()
        except PersonaFileError as error:
            logger.warning("probe question unknown for run %s: %s", run.run_id, error)
            return ""
        for persona in personas:
            if persona.system_prompt == run.agent_prompt:
                return persona.probe_question
        return ""

    def show_facts(self, run: StoredRun) -> None:
        config = run.config
        facts = Text()
        facts.append("Agent ", "bold")
        facts.append_text(literal_text(run.agent_label or f"#{config.agent}"))
        facts.append("   User ", "bold")
        facts.append_text(literal_text(run.user_label or f"#{config.user}"))
        facts.append(f"\nrun {run.run_id} · {run.status} · model ")
        facts.append_text(literal_text(f"{config.backend}:{config.model}"))
        facts.append(f" · topic {config.topic} · seed {config.seed} · {config.runs} probe runs · created {run.created_at[:16].replace('T', ' ')} UTC")
        self.query_one("#replay-facts", Static).update(facts)

    def turn_view(self, turn: dict, stability: dict[int, float | None]) -> TurnView:
        assert self.run is not None
        speaker = turn["speaker"]
        label = {"agent": self.run.agent_label, "user": self.run.user_label}.get(speaker, "")
        view = TurnView(turn["turn"], speaker, label, turn["raw_text"])
        view.display = False

        if view.badge is not None:
            if turn["turn"] in stability and self.probes_of(turn["turn"]):
                view.badge.show_stability(stability[turn["turn"]])
            else:
                view.badge.show_no_probes()
        return view

    def probes_of(self, turn: int) -> list[dict]:
        assert self.run is not None
        return [probe for probe in self.run.probes if probe["turn"] == turn]

    def watch_current_turn(self, current_turn: int) -> None:
        """Show turns up to `current_turn`, and the probes and cursor of its agent turn."""
        for view in self.views:
            view.display = view.turn <= current_turn
            view.set_class(view.turn == current_turn, "-current")

        agent_turns = [view.turn for view in self.views if view.speaker == "agent" and view.turn <= current_turn]
        agent_turn = agent_turns[-1] if agent_turns else None
        self.query_one(DriftCurve).cursor = agent_turn
        self.query_one(ProbeAnswers).show(agent_turn, self.probes_of(agent_turn) if agent_turn else [])

        last = self.views[-1].turn if self.views else 0
        self.query_one("#replay-position", Static).update(f"Turn {current_turn} of {last}")

        current = next((view for view in self.views if view.turn == current_turn), None)
        if current is not None:
            self.call_after_refresh(current.scroll_visible, top=True, animate=False)

    def action_step(self, delta: int) -> None:
        """Move to the next (1) or previous (-1) stored turn."""
        turns = [view.turn for view in self.views]
        if not turns:
            return
        position = turns.index(self.current_turn) if self.current_turn in turns else 0
        self.current_turn = turns[max(0, min(len(turns) - 1, position + delta))]

    def action_jump(self, where: str) -> None:
        """Move to the first or the last stored turn."""
        if self.views:
            self.current_turn = self.views[0 if where == "first" else -1].turn

    def action_leave(self) -> None:
        self.app.pop_screen()
