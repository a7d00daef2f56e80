"""The live chat: a self-chat streaming turn by turn, with stability badges and the drift curve.

The engine runs in an async Textual worker on the app's event loop (the local
backend moves inference to its own thread). Its listener only wraps each
engine event in a message, so the screen renders events in order between
frames. Stopping cancels the worker: the engine records the run as stopped
and completed turns stay stored, so the same configuration resumes later.
A failure, such as a BackendError mid-run, is shown as a notification and
the turns on screen stay. Imported runs never start or resume, because the
"imported" backend has no model to call.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState

from engine.backends import BackendError
from engine.config import RunConfig
from engine.embeddings import EmbeddingsUnavailable
from engine.events import (
    ProbeScored,
    RunEvent,
    RunFailed,
    RunFinished,
    RunStarted,
    RunStopped,
    TokenReceived,
    TurnFinished,
    TurnStarted,
)
from engine.personas import PersonaFileError
from engine.printable import neutralise_controls
from engine.selfchat import turn_stability
from store import StoredRun, StoreError
from store.importer import IMPORTED_BACKEND
from tui.session import PreparedRun, prepare_run
from tui.widgets.drift_curve import DriftCurve
from tui.widgets.literal_text import literal_text
from tui.widgets.probe_answers import ProbeAnswers
from tui.widgets.status_line import StatusLine
from tui.widgets.turn_view import TurnView

if TYPE_CHECKING:
    from tui.app import DriftApp

logger = logging.getLogger(__name__)

START_ERRORS = (ValueError, PersonaFileError, BackendError, StoreError, EmbeddingsUnavailable)


class RunEventReceived(Message):
    """Carries one engine event from the run's listener to the chat screen."""

    def __init__(self, event: RunEvent) -> None:
        super().__init__()
        self.event = event


class ChatScreen(Screen[None]):
    """Runs one self-chat and shows it live."""

    BINDINGS = [
        Binding("s", "stop", "Stop"),
        Binding("r", "resume", "Resume"),
        Binding("escape", "leave", "Back"),
        Binding("end", "follow", "Follow", show=False),
    ]

    def __init__(self, config: RunConfig) -> None:
        super().__init__()
        self.config = config
        self.run_id = ""
        self.agent_label = ""
        self.user_label = ""
        self.views: dict[int, TurnView] = {}
        self.probe_scores: dict[int, list[float | None]] = {}
        self.probe_records: dict[int, list[dict]] = {}
        self.streaming_turn: int | None = None
        self.turn_started_at = 0.0
        self.turn_fragments = 0
        self.failure_shown = False
        self.worker: Worker[None] | None = None
        self.imported = config.backend == IMPORTED_BACKEND

    @property
    def drift_app(self) -> DriftApp:
        return cast("DriftApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="chat-body"):
            yield VerticalScroll(id="transcript")
            # Beside the transcript. app.tcss narrows it below 140 columns and moves it under the transcript below 100.
            with Vertical(id="chat-side"):
                yield Static(id="run-facts")
                with Vertical(classes="curve-box"):
                    yield Static("Drift: stability per agent turn", classes="side-title")
                    yield DriftCurve(self.config.turns, id="drift-curve")
                with VerticalScroll(id="probe-panel", can_focus=False):
                    yield ProbeAnswers(id="probe-answers")
        yield StatusLine(id="status")
        yield Footer()

    def on_mount(self) -> None:
        status = self.query_one(StatusLine)
        status.model = f"{self.config.backend}:{self.config.model}"
        status.turns = self.config.turns
        self.start_run()

    @property
    def running(self) -> bool:
        return self.worker is not None and self.worker.is_running

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show Stop while a run is active, and Resume after a stop or a failure of a run made here."""
        if action == "stop":
            return self.running
        if action == "resume":
            resumable = self.query_one(StatusLine).state in ("stopped", "failed")
            return resumable and not self.running and not self.imported
        return True

    # The run worker.

    def start_run(self) -> None:
        if self.imported:
            self.show_imported_refusal()
            return
        self.failure_shown = False
        self.query_one(StatusLine).state = "starting"
        self.worker = self.run_chat()
        self.refresh_bindings()

    @work(group="run", exclusive=True, exit_on_error=False)
    async def run_chat(self) -> None:
        """Prepare the run off the event loop, show what is stored, then run the engine."""
        try:
            prepared = await asyncio.to_thread(self.prepare)
        except START_ERRORS as error:
            logger.error("cannot start run %s: %s", self.config, error)
            self.show_failure(f"The run did not start: {error}")
            return

        self.show_stored(prepared)
        if prepared.stored.imported:
            self.imported = True
            self.show_imported_refusal()
            return
        try:
            await prepared.chat.run()
        except Exception:
            # SelfChat.run has logged the error and emitted RunFailed, which
            # the screen shows; re-raising would only mark the worker failed.
            return

    def prepare(self) -> PreparedRun:
        app = self.drift_app
        return prepare_run(
            self.config,
            app.store,
            listeners=[lambda event: self.post_message(RunEventReceived(event))],
            personas=app.personas(),
            backend=app.create_backend(self.config),
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.refresh_bindings()
        if event.state == WorkerState.ERROR and not self.failure_shown:
            logger.error("run %s: worker failed: %r", self.run_id or self.config.run_id(), event.worker.error)
            self.show_failure(f"The run failed: {event.worker.error}")

    def show_imported_refusal(self) -> None:
        self.show_failure(
            f"Run {self.run_id or self.config.run_id()} is an imported log: the 'imported' backend has no model "
            "to call, so it cannot run or resume. Replay it from History, or start a new run from the picker.",
            title="Imported run",
        )
        self.refresh_bindings()

    def show_failure(self, message: str, title: str = "Run failed") -> None:
        self.failure_shown = True
        status = self.query_one(StatusLine)
        status.state = "failed"
        status.stop_clock()
        self.cut_off_streaming_turn()
        self.notify(neutralise_controls(message), title=title, severity="error", timeout=15, markup=False)

    # Rendering stored turns and engine events.

    def show_stored(self, prepared: PreparedRun) -> None:
        """Show the turns and probe scores already stored for this configuration."""
        stored: StoredRun = prepared.stored
        self.run_id = stored.run_id
        self.agent_label = prepared.agent.label
        self.user_label = prepared.user.label
        self.config = prepared.chat.config
        self.show_run_facts(prepared)

        status = self.query_one(StatusLine)
        status.run_id = stored.run_id
        status.turn = stored.completed_turns()

        for turn in stored.turns:
            if turn["turn"] not in self.views:
                self.add_turn(turn["turn"], turn["speaker"], turn["raw_text"])

        self.probe_scores = {}
        self.probe_records = {}
        for probe in stored.probes:
            self.probe_scores.setdefault(probe["turn"], []).append(probe["score"])
            self.probe_records.setdefault(probe["turn"], []).append(probe)
        for turn, view in self.views.items():
            if view.speaker == "agent":
                self.show_probe_progress(turn)

        self.query_one(ProbeAnswers).probe_question = prepared.agent.probe_question
        agent_turns = [turn for turn, view in self.views.items() if view.speaker == "agent"]
        if agent_turns:
            self.show_probe_answers(max(agent_turns))

    def show_run_facts(self, prepared: PreparedRun) -> None:
        config = prepared.chat.config
        facts = Text()
        facts.append("Agent  ", "bold")
        facts.append_text(literal_text(prepared.agent.label))
        facts.append("\nUser   ", "bold")
        facts.append_text(literal_text(prepared.user.label))
        facts.append(f"\nTopic {config.topic} · seed {config.seed} · {config.turns} turns · {config.runs} probe runs")
        self.query_one("#run-facts", Static).update(facts)

    def add_turn(self, turn: int, speaker: str, text: str = "") -> TurnView:
        label = {"agent": self.agent_label, "user": self.user_label}.get(speaker, "")
        view = TurnView(turn, speaker, label, text)
        self.views[turn] = view
        self.query_one("#transcript", VerticalScroll).mount(view)
        self.call_after_refresh(self.follow_when_full)
        return view

    def follow_when_full(self) -> None:
        """Start following the newest turn once the transcript overflows.

        Anchoring an emptier transcript would push its turns to the bottom.
        """
        transcript = self.query_one("#transcript", VerticalScroll)
        if not transcript.is_anchored and transcript.max_scroll_y > 0:
            transcript.anchor()

    @on(RunEventReceived)
    def event_received(self, message: RunEventReceived) -> None:
        event = message.event
        status = self.query_one(StatusLine)
        if isinstance(event, (RunStarted, RunFinished, RunStopped, RunFailed)):
            self.call_after_refresh(self.refresh_bindings)

        if isinstance(event, TokenReceived):
            self.token_received(event, status)
        elif isinstance(event, TurnStarted):
            view = self.add_turn(event.turn, event.speaker)
            view.add_class("-streaming")
            self.streaming_turn = event.turn
            self.turn_started_at = time.monotonic()
            self.turn_fragments = 0
            status.turn = event.turn
        elif isinstance(event, TurnFinished):
            self.turn_finished(event, status)
        elif isinstance(event, ProbeScored):
            self.probe_scores.setdefault(event.turn, []).append(event.score)
            self.probe_records.setdefault(event.turn, []).append(
                {"turn": event.turn, "sample": event.sample, "raw_text": event.raw_text,
                 "score": event.score, "published": event.published}
            )
            self.show_probe_progress(event.turn)
            self.show_probe_answers(event.turn)
        elif isinstance(event, RunStarted):
            status.run_id = event.run_id
            status.state = "running"
            status.start_clock()
        elif isinstance(event, RunFinished):
            status.state = "finished"
            status.stop_clock()
            self.notify(f"Run {event.run_id} finished.", title="Run finished")
        elif isinstance(event, RunStopped):
            status.state = "stopped"
            status.stop_clock()
            self.cut_off_streaming_turn()
            self.notify(
                f"Stopped after {event.completed_turns} turns. They are stored; press r to resume.",
                title="Run stopped",
            )
        elif isinstance(event, RunFailed):
            self.show_failure(f"The run failed after {event.completed_turns} turns: {event.error}")

    def token_received(self, event: TokenReceived, status: StatusLine) -> None:
        view = self.views.get(event.turn)
        if view is None:
            return
        view.append(event.text)

        self.turn_fragments += 1
        seconds = time.monotonic() - self.turn_started_at
        if seconds > 0:
            status.tokens_per_second = self.turn_fragments / seconds

    def turn_finished(self, event: TurnFinished, status: StatusLine) -> None:
        view = self.views.get(event.turn)
        if view is None:
            view = self.add_turn(event.turn, event.speaker, event.raw_text)
        else:
            view.finish(event.raw_text)

        self.streaming_turn = None
        status.turn = event.turn
        if event.seconds > 0 and event.completion_tokens:
            status.tokens_per_second = event.completion_tokens / event.seconds
        if event.speaker == "agent":
            self.probe_scores.setdefault(event.turn, [])
            self.show_probe_progress(event.turn)
            self.show_probe_answers(event.turn)

    def show_probe_progress(self, turn: int) -> None:
        """Update the badge of agent turn `turn`, and the curve once all samples are scored."""
        view = self.views.get(turn)
        if view is None or view.badge is None:
            return

        scores = self.probe_scores.get(turn, [])
        if len(scores) < self.config.runs:
            view.badge.show_pending(len(scores), self.config.runs)
            return

        stability = turn_stability(scores)
        view.badge.show_stability(stability)
        self.query_one(DriftCurve).set_stability(turn, stability)

    def show_probe_answers(self, turn: int) -> None:
        """Show the probe answers of agent turn `turn` in the side panel."""
        self.query_one(ProbeAnswers).show(turn, self.probe_records.get(turn, []))

    def cut_off_streaming_turn(self) -> None:
        """Mark the turn that was streaming as cut off; the engine did not store it."""
        if self.streaming_turn is None:
            return
        view = self.views.pop(self.streaming_turn, None)
        if view is not None:
            view.mark_incomplete()
        self.streaming_turn = None

    # Actions.

    def action_stop(self) -> None:
        """Cancel the run; completed turns stay stored."""
        if self.worker is not None and self.worker.is_running:
            self.worker.cancel()

    async def action_resume(self) -> None:
        """Continue a stopped or failed run from its stored turns; imported runs never resume."""
        if self.running or self.imported:
            return
        for view in self.query(".-incomplete"):
            await view.remove()
        self.start_run()

    def action_leave(self) -> None:
        """Stop the run if it is active and go back to the previous screen."""
        self.action_stop()
        self.app.pop_screen()

    def action_follow(self) -> None:
        """Scroll to the newest turn and keep following it."""
        transcript = self.query_one("#transcript", VerticalScroll)
        transcript.scroll_end(animate=False)
        transcript.anchor()
