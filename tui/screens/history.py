"""History: every stored run in a table, sortable and filterable; Enter opens Replay, c opens Compare.

The list is built from `RunStore.summaries()` only, so opening it reads the
index and no whole run, except the run file of a run still marked running.
The source column marks runs imported from published logs. The filter
matches the word "imported" on those runs and "here" on runs made in the
app, and a word starting with "!" excludes the runs that match it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from rich.console import Console, ConsoleOptions, JustifyMethod, RenderResult
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input, Static

from store import StoreError
from tui.screens.compare import CompareScreen
from tui.screens.replay import ReplayScreen
from tui.widgets.literal_text import neutralise_controls

if TYPE_CHECKING:
    from tui.app import DriftApp

logger = logging.getLogger(__name__)

FILTER_DELAY_SECONDS = 0.15
MISSING = "–"
MAX_COLUMN_WIDTH = 28

# Rows added before the first draw, then per step. DataTable spends roughly
# 0.1 ms per row: 10,000 rows took 1.1 to 1.4 s on a 2-core VM
# (benchmarks/bench_history.py).
FIRST_STEP_ROWS = 200
STEP_ROWS = 5000
STEP_PAUSE_SECONDS = 0.005

# Sorting and filtering cover every stored run, but the table shows at most
# this many of the results, so the screen is complete well within a second.
MAX_TABLE_ROWS = 2000


class LiteralCell:
    """A table cell shown literally, formatted only when the table draws it.

    It has no `__rich_measure__`, so DataTable does not measure it when rows
    are added, which is most of the cost of adding 10,000 rows. The columns
    get fixed widths from the text lengths instead (see `column_widths`).
    """

    __slots__ = ("value", "justify")

    def __init__(self, value: str, justify: JustifyMethod = "left") -> None:
        self.value = value
        self.justify = justify

    def __str__(self) -> str:
        return self.value

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text(neutralise_controls(self.value), justify=self.justify, no_wrap=True, overflow="ellipsis", end="")


def format_stability(value: float | None) -> LiteralCell:
    return LiteralCell(MISSING if value is None else f"{value:.3f}", justify="right")


def format_date(created_at: str) -> str:
    """Return an ISO 8601 time as 'YYYY-MM-DD HH:MM' (as stored, in UTC)."""
    return created_at[:16].replace("T", " ")


def stability_key(value: float | None) -> float:
    """Sort runs without a stability below every scored run."""
    return -1.0 if value is None else value


@dataclass(frozen=True)
class Column:
    """A column of the run table: its key, title, sort key and sort binding."""

    key: str
    title: str
    sort_key: Callable[[dict[str, Any]], Any]
    sort_binding: str | None


COLUMNS = (
    Column("created_at", "date (UTC)", lambda summary: summary.get("created_at", ""), "d"),
    Column("status", "status", lambda summary: summary.get("status", ""), "x"),
    Column("model", "model", lambda summary: summary.get("model", "").lower(), "m"),
    Column("agent", "agent persona", lambda summary: summary.get("agent", -1), "a"),
    Column("user", "user persona", lambda summary: summary.get("user", -1), "u"),
    Column("source", "source", lambda summary: bool(summary.get("imported")), "i"),
    Column("decoding", "decoding", lambda summary: str(summary.get("decoding") or ""), "e"),
    Column("turns", "turns", lambda summary: (summary.get("completed_turns", 0), summary.get("turns", 0)), "t"),
    Column("mean_stability", "mean", lambda summary: stability_key(summary.get("mean_stability")), "s"),
    Column("last_stability", "last", lambda summary: stability_key(summary.get("last_stability")), "l"),
    Column("run_id", "run id", lambda summary: summary.get("run_id", ""), None),
)
COLUMNS_BY_KEY = {column.key: column for column in COLUMNS}
SORT_KEYS_HELP = ", ".join(f"{column.sort_binding} {column.title}" for column in COLUMNS if column.sort_binding)


def run_source(summary: dict[str, Any]) -> str:
    """Return 'imported' for a run imported from a published log, 'here' for a run made in the app."""
    return "imported" if summary.get("imported") else "here"


def summary_matches(summary: dict[str, Any], words: list[str]) -> bool:
    """Return True when every word occurs in the run's model, personas, status, source or id.

    A word starting with "!" must not occur: "!imported" keeps the runs made here.
    """
    haystack = " ".join(
        str(summary.get(key, ""))
        for key in ("model", "backend", "agent_label", "user_label", "status", "run_id", "agent", "user", "decoding")
    ).lower()
    haystack = f"{haystack} {run_source(summary)}"

    for word in words:
        excluded = word.startswith("!") and len(word) > 1
        if excluded and word[1:] in haystack:
            return False
        if not excluded and word not in haystack:
            return False
    return True


def table_row(summary: dict[str, Any]) -> tuple[LiteralCell, ...]:
    """Return the cells of one run, in COLUMNS order; text from the store is shown literally."""
    return (
        LiteralCell(format_date(summary.get("created_at", ""))),
        LiteralCell(str(summary.get("status", ""))),
        LiteralCell(f"{summary.get('backend', '')}:{summary.get('model', '')}"),
        LiteralCell(summary.get("agent_label") or f"#{summary.get('agent', '?')}"),
        LiteralCell(summary.get("user_label") or f"#{summary.get('user', '?')}"),
        LiteralCell(run_source(summary)),
        LiteralCell(str(summary.get("decoding") or MISSING)),
        LiteralCell(f"{summary.get('completed_turns', 0)}/{summary.get('turns', 0)}", justify="right"),
        format_stability(summary.get("mean_stability")),
        format_stability(summary.get("last_stability")),
        LiteralCell(str(summary.get("run_id", ""))),
    )


def column_widths(rows: list[tuple[LiteralCell, ...]]) -> list[int]:
    """Return each column's width: its longest text or title, at most MAX_COLUMN_WIDTH."""
    widths = [len(column.title) for column in COLUMNS]
    for row in rows:
        for position, cell in enumerate(row):
            if len(cell.value) > widths[position]:
                widths[position] = len(cell.value)
    return [min(width, MAX_COLUMN_WIDTH) for width in widths]


class HistoryScreen(Screen[None]):
    """Lists stored runs; sort by clicking a header or with the column's key."""

    BINDINGS = [
        *(
            Binding(column.sort_binding, f"sort('{column.key}')", f"Sort {column.title}", show=False)
            for column in COLUMNS
            if column.sort_binding
        ),
        Binding("slash", "focus_filter", "Filter"),
        Binding("c", "compare", "Compare"),
        Binding("r", "reload", "Reload"),
        Binding("escape", "leave", "Back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.summaries: list[dict[str, Any]] = []
        self.sort_column = "created_at"
        self.sort_reverse = True
        self.filter_timer: Timer | None = None

    @property
    def drift_app(self) -> DriftApp:
        return cast("DriftApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(
            placeholder="Filter by model, persona, status, decoding, source (imported, here) or run id; !word excludes",
            id="history-filter",
        )
        yield DataTable(id="run-table", cursor_type="row", zebra_stripes=True)
        yield Static("Loading runs…", id="history-count")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#run-table", DataTable).focus()
        self.load_summaries()

    @work(group="history", exclusive=True, exit_on_error=False)
    async def load_summaries(self) -> None:
        """Read the run summaries off the event loop, then fill the table."""
        try:
            self.summaries = await asyncio.to_thread(self.drift_app.store.summaries)
        except (StoreError, OSError, ValueError) as error:
            logger.error("cannot list stored runs: %s", error)
            self.notify(neutralise_controls(str(error)), title="History not loaded", severity="error", timeout=15, markup=False)
            self.summaries = []
        self.fill_table()

    def visible_summaries(self) -> list[dict[str, Any]]:
        """Return the summaries matching the filter, in the chosen order."""
        words = self.query_one("#history-filter", Input).value.lower().split()
        visible = [summary for summary in self.summaries if summary_matches(summary, words)] if words else list(self.summaries)
        visible.sort(key=COLUMNS_BY_KEY[self.sort_column].sort_key, reverse=self.sort_reverse)
        return visible

    @work(group="history-fill", exclusive=True, exit_on_error=False)
    async def fill_table(self) -> None:
        """Refill the table from the filter and sort order, in steps.

        The first step adds a screenful of rows, so the newest runs show at
        once; between steps the screen draws and handles keys. A new sort or
        filter cancels a fill still in progress and starts over.
        """
        table = self.query_one("#run-table", DataTable)
        matching = self.visible_summaries()
        visible = matching[:MAX_TABLE_ROWS]
        rows = [table_row(summary) for summary in visible]

        table.clear(columns=True)
        for column, width in zip(COLUMNS, column_widths(rows)):
            table.add_column(column.title, key=column.key, width=width)

        start, step = 0, FIRST_STEP_ROWS
        while start < len(rows):
            for summary, row in zip(visible[start : start + step], rows[start : start + step]):
                table.add_row(*row, key=summary["run_id"])
            start += step
            step = STEP_ROWS
            self.show_count(start, len(visible), len(matching))
            await asyncio.sleep(STEP_PAUSE_SECONDS)
        self.show_count(len(visible), len(visible), len(matching))

    def show_count(self, added: int, visible: int, matching: int) -> None:
        order = "descending" if self.sort_reverse else "ascending"
        sorted_by = COLUMNS_BY_KEY[self.sort_column].title
        if added < visible:
            counts = f"loading: {added} of {visible} runs shown"
        elif visible < matching:
            counts = (
                f"first {visible} of {matching} matching runs shown ({len(self.summaries)} stored); "
                "filter or sort to reach the others"
            )
        else:
            counts = f"{visible} of {len(self.summaries)} runs"
        self.query_one("#history-count", Static).update(
            f"{counts} · sorted by {sorted_by}, {order} · Enter opens the replay · c compares the runs shown"
            f" · sort keys: {SORT_KEYS_HELP}"
        )

    @on(Input.Changed, "#history-filter")
    def filter_changed(self) -> None:
        """Refill the table shortly after the last keystroke, not on every one."""
        if self.filter_timer is not None:
            self.filter_timer.stop()
        self.filter_timer = self.set_timer(FILTER_DELAY_SECONDS, self.fill_table)

    @on(Input.Submitted, "#history-filter")
    def filter_submitted(self) -> None:
        self.query_one("#run-table", DataTable).focus()

    def action_sort(self, column_key: str) -> None:
        """Sort by `column_key`; choosing the sorted column again reverses the order."""
        if column_key == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column = column_key
            self.sort_reverse = False
        self.fill_table()

    @on(DataTable.HeaderSelected, "#run-table")
    def header_selected(self, event: DataTable.HeaderSelected) -> None:
        self.action_sort(str(event.column_key.value))

    @on(DataTable.RowSelected, "#run-table")
    def row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.app.push_screen(ReplayScreen(event.row_key.value))

    def action_focus_filter(self) -> None:
        self.query_one("#history-filter", Input).focus()

    def action_compare(self) -> None:
        """Compare the stability curves of the runs the filter shows."""
        visible = self.visible_summaries()
        if not visible:
            self.notify("No run matches the filter, so there is nothing to compare. Clear the filter.",
                        severity="warning")
            return
        self.app.push_screen(CompareScreen(visible, self.query_one("#history-filter", Input).value))

    def action_reload(self) -> None:
        self.load_summaries()

    def action_leave(self) -> None:
        self.app.pop_screen()
