"""The live chat's status line: run state, run id, model, turn, token rate, elapsed time.

The state is also set as a CSS class (`-running`, `-finished`, `-stopped`,
`-failed`, `-starting`) so the stylesheet can colour it.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.reactive import reactive
from textual.timer import Timer
from textual.widget import Widget

from tui.widgets.literal_text import literal_text

STATES = ("starting", "running", "finished", "stopped", "failed")


def format_elapsed(seconds: float) -> str:
    """Return seconds as M:SS, or H:MM:SS from one hour on."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class StatusLine(Widget):
    """One line of run facts, with the elapsed time ticking while the run is active."""

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
    }
    """

    state: reactive[str] = reactive("starting")
    run_id: reactive[str] = reactive("")
    model: reactive[str] = reactive("")
    turn: reactive[int] = reactive(0)
    turns: reactive[int] = reactive(0)
    tokens_per_second: reactive[float | None] = reactive(None)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._started: float | None = None
        self._ended: float | None = None
        self._ticker: Timer | None = None

    def on_mount(self) -> None:
        self._ticker = self.set_interval(1.0, self.refresh, pause=True)
        self.watch_state(self.state)

    def start_clock(self) -> None:
        """Start (or restart) the elapsed-time clock."""
        self._started = time.monotonic()
        self._ended = None
        if self._ticker is not None:
            self._ticker.resume()

    def stop_clock(self) -> None:
        """Freeze the elapsed time."""
        if self._started is not None and self._ended is None:
            self._ended = time.monotonic()
        if self._ticker is not None:
            self._ticker.pause()
        self.refresh()

    def elapsed(self) -> float:
        """Return the seconds since `start_clock`, frozen by `stop_clock`."""
        if self._started is None:
            return 0.0
        return (self._ended or time.monotonic()) - self._started

    def watch_state(self, state: str) -> None:
        self.remove_class(*(f"-{name}" for name in STATES))
        self.add_class(f"-{state}")

    def render(self) -> Text:
        rate = "– tok/s" if self.tokens_per_second is None else f"{self.tokens_per_second:.1f} tok/s"
        text = Text.assemble(
            (f" {self.state} ", "bold"),
            f" turn {self.turn}/{self.turns}",
            f" · {rate}",
            f" · {format_elapsed(self.elapsed())}",
            " · run ",
        )
        text.append_text(literal_text(self.run_id or "–"))
        text.append(" · model ")
        text.append_text(literal_text(self.model))
        return text
