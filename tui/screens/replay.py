"""Replay: step through a stored run turn by turn, with probe answers and a curve cursor.

The transcript shows turns up to the current one; a best_of_n turn is
followed by the table of its candidates. The side panel shows the probe
answers of the latest agent turn at or before the current turn, and the
drift curve's cursor marks that agent turn. The header names the run's
decoding, the agent persona's scorer, and whether the run was imported.
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

from engine.printable import neutralise_controls
from engine.personas import Persona, PersonaFileError
from store import StoredRun, StoreError
from store.records import decoding_label, run_decoding
from tui.widgets.candidate_table import CandidateTable
from tui.widgets.drift_curve import DriftCurve
from tui.widgets.literal_text import literal_text
from tui.widgets.probe_answers import ProbeAnswers
from tui.widgets.turn_view import TurnView

if TYPE_CHECKING:
    from tui.app import DriftApp

logger = logging.getLogger(__name__)


def ranking_weights(run: StoredRun) -> str:
    """Return the best-of-n ranking formula with the run's weights, or '' when they are unknown."""
    decoding = run_decoding(run)
    if decoding is None:
        return ""
    return f"{decoding.alpha:g}·persona sim + {decoding.beta:g}·context sim + {decoding.gamma:g}·length"


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
        self.agent: Persona | None = None
        self.views: list[TurnView] = []
        self.candidate_tables: list[CandidateTable] = []

    @property
    def drift_app(self) -> DriftApp:
        return cast("DriftApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="replay-header"):
            yield Static(id="replay-facts")
            yield Static("imported log", id="replay-imported")
        with Horizontal(id="replay-body"):
            yield VerticalScroll(id="replay-transcript", can_focus=False)
            # Beside the transcript. app.tcss narrows it below 140 columns and moves it under the transcript below 100.
            with Vertical(id="replay-side"):
                with Vertical(classes="curve-box"):
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
            self.notify(neutralise_controls(str(error)), title="Run not opened", severity="error", timeout=15, markup=False)
            self.query_one("#replay-facts", Static).update(literal_text(f"Run {self.run_id} could not be opened."))
            return

        run = self.run
        self.agent = self.agent_persona(run)
        self.query_one(ProbeAnswers).probe_question = self.agent.probe_question if self.agent else ""
        self.show_facts(run)

        stability = run.stability()
        self.query_one(DriftCurve).set_all(stability, turns=run.config.turns)
        self.views = [self.turn_view(turn, stability) for turn in run.turns]

        weights = ranking_weights(run)
        transcript: list[TurnView | CandidateTable] = []
        for view, turn in zip(self.views, run.turns):
            transcript.append(view)
            if turn.get("candidates"):
                table = CandidateTable(turn, weights, classes=f"-{view.speaker}")
                table.display = False
                self.candidate_tables.append(table)
                transcript.append(table)
        self.query_one("#replay-transcript", VerticalScroll).mount_all(transcript)
        self.current_turn = 1 if self.views else 0

    def agent_persona(self, run: StoredRun) -> Persona | None:
        """Return the agent persona, matched by system prompt text, or None when it is not in personas.json."""
        try:
            personas = self.drift_app.personas()
        except PersonaFileError as error:
            logger.warning("agent persona unknown for run %s: %s", run.run_id, error)
            return None
        for persona in personas:
            if persona.system_prompt == run.agent_prompt:
                return persona
        return None

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

        facts.append("\ndecoding ", "bold")
        facts.append_text(literal_text(decoding_label(run)))
        facts.append(f" · fluency gate {'on' if config.fluency_gate else 'off'}")
        facts.append(" · scorer ", "bold")
        scorer = self.agent.scorer if self.agent is not None else None
        if self.agent is None:
            facts.append("unknown: the agent prompt is not in personas.json")
        elif scorer is None:
            facts.append("none: this persona is not scored")
        else:
            facts.append_text(literal_text(f"{scorer.kind}: {scorer.description}"))

        source = run.metadata.get("source")
        if run.imported:
            facts.append("\nimported from ", "bold")
            file_name = source.get("file") if isinstance(source, dict) else None
            facts.append_text(literal_text(str(file_name or "a published log")))
            if not run.probes:
                facts.append(" · no probe answers stored")

        self.query_one("#replay-facts", Static).update(facts)
        self.query_one("#replay-imported", Static).display = run.imported

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
        for table in self.candidate_tables:
            table.display = table.turn <= current_turn

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
