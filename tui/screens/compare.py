"""Compare: mean stability per agent turn over the runs that History shows, grouped by model or decoding.

Each group gets a curve of its mean stability per agent turn and a band
around it. Where 3 or more runs have a score at a turn, the band is mean ±
1.96 standard errors. Where fewer do, it spans their minimum to maximum. The band is a normal
approximation of a 95% confidence interval, clipped to [0, 1], and with a
handful of runs it is only a rough guide.

The screen gets the summaries from History and then reads each run file for
its probe scores and decoding, because the index stores only the mean and
last stability. So it reads at most MAX_RUNS runs and says so on screen
when the filter shows more.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field
from statistics import fmean, stdev
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from store import StoreError
from store.records import decoding_label
from tui.widgets.band_curve import BandCurve
from tui.widgets.literal_text import literal_text

if TYPE_CHECKING:
    from store import RunStore
    from tui.app import DriftApp

logger = logging.getLogger(__name__)

# Each run file is read whole. Reading one of 21 turns and 20 probe answers
# took about 0.1 ms from a warm page cache on a 2-core VM.
# NOTE: the cap is a guess that bounds the wait on a cold disk or a network
# folder, where every file read costs far more. It was not measured there.
MAX_RUNS = 300

# Below this many scored runs at a turn, the band is the range instead of the standard error.
MIN_RUNS_FOR_SE = 3
Z_95 = 1.96

GROUPINGS = ("model", "decoding")


@dataclass(frozen=True)
class RunCurve:
    """One run's group keys (model, backend, decoding) and its stability per agent turn."""

    run_id: str
    model: str
    backend: str
    decoding: str
    stability: dict[int, float | None]


@dataclass(frozen=True)
class TurnBand:
    """The mean stability at one agent turn over `runs` scored runs, with the band's bounds."""

    mean: float
    low: float
    high: float
    runs: int

    @property
    def method(self) -> str:
        return "±1.96·SE" if self.runs >= MIN_RUNS_FOR_SE else "min–max"


@dataclass
class GroupCurve:
    """One group of runs: its name, how many runs it has and how many carry probe scores, and its bands."""

    name: str
    runs: int = 0
    scored_runs: int = 0
    backends: set[str] = field(default_factory=set)
    bands: dict[int, TurnBand] = field(default_factory=dict)


def turn_band(values: list[float]) -> TurnBand:
    """Return the mean of `values` with mean ± 1.96·SE, or min–max for fewer than 3 values; bounds in [0, 1]."""
    mean = fmean(values)
    if len(values) < MIN_RUNS_FOR_SE:
        return TurnBand(mean, min(values), max(values), len(values))

    half_width = Z_95 * stdev(values) / math.sqrt(len(values))
    return TurnBand(mean, max(0.0, mean - half_width), min(1.0, mean + half_width), len(values))


def group_key(curve: RunCurve, grouping: str) -> str:
    return curve.model if grouping == "model" else curve.decoding


def group_curves(curves: list[RunCurve], grouping: str) -> list[GroupCurve]:
    """Group the runs by model or decoding and compute the band at every agent turn; groups sorted by name."""
    groups: dict[str, GroupCurve] = {}
    scores: dict[str, dict[int, list[float]]] = {}

    for curve in curves:
        name = group_key(curve, grouping)
        group = groups.setdefault(name, GroupCurve(name))
        group.runs += 1
        group.backends.add(curve.backend)

        scored = {turn: value for turn, value in curve.stability.items() if value is not None}
        if scored:
            group.scored_runs += 1
        for turn, value in scored.items():
            scores.setdefault(name, {}).setdefault(turn, []).append(value)

    for name, group in groups.items():
        group.bands = {turn: turn_band(values) for turn, values in sorted(scores.get(name, {}).items())}
    return sorted(groups.values(), key=lambda group: group.name.lower())


def read_curves(store: RunStore, summaries: list[dict[str, Any]]) -> tuple[list[RunCurve], list[str]]:
    """Read the stability and decoding of each run; return the curves and the ids of runs not read.

    Blocking (one file read per run), so the screen calls it off the event loop.
    """
    curves: list[RunCurve] = []
    unread: list[str] = []
    for summary in summaries:
        run_id = str(summary.get("run_id", ""))
        try:
            run = store.load_run(run_id)
        except StoreError as error:
            logger.warning("left run %s out of the comparison: %s", run_id, error)
            unread.append(run_id)
            continue
        curves.append(RunCurve(run_id, run.config.model, run.config.backend, decoding_label(run), run.stability()))
    return curves, unread


def group_legend(group: GroupCurve, grouping: str) -> Text:
    """Return the group's name, its run counts and the mean stability at its first and last scored turns."""
    legend = Text()
    legend.append_text(literal_text(group.name, "bold"))
    if grouping == "model":
        legend.append(f" ({', '.join(sorted(group.backends))})")

    runs = "1 run" if group.runs == 1 else f"{group.runs} runs"
    legend.append(f"\n{runs}, {group.scored_runs} with probe scores")
    if group.bands:
        turns = list(group.bands)
        first, last = group.bands[turns[0]], group.bands[turns[-1]]
        legend.append(f" · turn {turns[0]}: {first.mean:.2f} → turn {turns[-1]}: {last.mean:.2f}")
    return legend


def band_numbers(group: GroupCurve) -> Text:
    """Return one entry per agent turn: mean, band bounds, band method and the number of scored runs."""
    entries = [
        f"t{turn} {band.mean:.2f} [{band.low:.2f}, {band.high:.2f}] {band.method} n={band.runs}"
        for turn, band in group.bands.items()
    ]
    return Text(" · ".join(entries))


class CompareScreen(Screen[None]):
    """Mean stability per agent turn with a band, one panel per model or decoding."""

    BINDINGS = [
        Binding("g", "switch_grouping", "Group by decoding/model"),
        Binding("escape", "leave", "Back"),
    ]

    def __init__(self, summaries: list[dict[str, Any]], filter_text: str = "") -> None:
        super().__init__()
        self.summaries = summaries
        self.filter_text = filter_text
        self.grouping = GROUPINGS[0]
        self.curves: list[RunCurve] = []
        self.unread: list[str] = []
        self.loaded = False

    @property
    def drift_app(self) -> DriftApp:
        return cast("DriftApp", self.app)

    @property
    def read_summaries(self) -> list[dict[str, Any]]:
        """The summaries of the runs this screen reads: the first MAX_RUNS in History's order."""
        return self.summaries[:MAX_RUNS]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="compare-facts")
        with VerticalScroll(id="compare-body"):
            yield Grid(id="compare-groups")
        yield Footer()

    def on_mount(self) -> None:
        self.show_facts()
        self.load_curves()

    @work(group="compare", exclusive=True, exit_on_error=False)
    async def load_curves(self) -> None:
        """Read the runs' probe scores off the event loop, then draw the groups."""
        self.curves, self.unread = await asyncio.to_thread(read_curves, self.drift_app.store, self.read_summaries)
        self.loaded = True
        if self.unread:
            self.notify(
                f"{len(self.unread)} runs could not be read and are left out, e.g. {self.unread[0]}. "
                "The log file in the data folder names the error.",
                title="Runs left out",
                severity="warning",
                markup=False,
            )
        await self.show_groups()

    def show_facts(self) -> None:
        read = len(self.read_summaries)
        facts = Text()
        facts.append("Mean stability per agent turn", "bold")
        facts.append(f" over {read} runs")
        if self.filter_text.strip():
            facts.append(" matching the filter ")
            facts.append_text(literal_text(repr(self.filter_text.strip())))
        facts.append(f" · grouped by {self.grouping}")
        if len(self.summaries) > MAX_RUNS:
            facts.append(
                f"\nOnly the first {MAX_RUNS} of {len(self.summaries)} runs in History's order are read, "
                "because each run file is read whole. Narrow the filter to compare the others.",
                "bold",
            )
        facts.append(
            f"\nBand: mean ± 1.96·SE where {MIN_RUNS_FOR_SE} or more runs have a score at a turn, "
            "min–max where fewer."
        )
        if not self.loaded:
            facts.append(" Reading runs…")
        self.query_one("#compare-facts", Static).update(facts)

    async def show_groups(self) -> None:
        """Replace the group panels with the groups of the current grouping."""
        self.show_facts()
        groups = group_curves(self.curves, self.grouping)
        # Groups without a curve go last; every curve shares the x axis up to the last scored turn.
        groups.sort(key=lambda group: not group.bands)
        last_turn = max((turn for group in groups for turn in group.bands), default=2)

        grid = self.query_one("#compare-groups", Grid)
        await grid.remove_children()
        await grid.mount_all(self.group_panel(group, last_turn) for group in groups)

    def group_panel(self, group: GroupCurve, last_turn: int) -> Vertical:
        children: list[Static | BandCurve] = [Static(group_legend(group, self.grouping), classes="compare-legend")]
        if group.bands:
            curve = BandCurve(classes="compare-curve")
            curve.set_bands(
                {turn: band.mean for turn, band in group.bands.items()},
                {turn: (band.low, band.high) for turn, band in group.bands.items()},
                turns=last_turn,
            )
            children.append(curve)
            children.append(Static(band_numbers(group), classes="compare-numbers"))
        else:
            children.append(
                Static(
                    "No probe scores in these runs, so there is no curve. "
                    "Imported baseline_run.py logs store no probe answers.",
                    classes="compare-empty",
                )
            )
        return Vertical(*children, classes="compare-group")

    async def action_switch_grouping(self) -> None:
        """Switch between grouping by model and by decoding."""
        self.grouping = GROUPINGS[(GROUPINGS.index(self.grouping) + 1) % len(GROUPINGS)]
        if self.loaded:
            await self.show_groups()
        else:
            self.show_facts()

    def action_leave(self) -> None:
        self.app.pop_screen()
