"""The best-of-n candidates of one turn: which candidate was kept and the scores that ranked them.

A best_of_n turn stores every sampled candidate with the components of its
ranking score (alpha * persona similarity + beta * context similarity +
gamma * length). The table lists them in sampling order and marks the kept
one. Candidate text is shown literally when the run stored it. Imported
baseline_run.py logs store scores only, so the widget shows a note in place of the text.

Component classes for the stylesheet: `candidate-table--kept` (the kept
candidate's row and text) and `candidate-table--note` (remarks under the table).
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from tui.widgets.literal_text import literal_text

KEPT_MARK = "✓ kept"
TEXT_NOT_STORED = "Candidate text is not stored in the published log."


def format_number(value: Any, digits: int = 3) -> str:
    """Return a score or similarity with `digits` decimals, or '–' when it is missing or not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "–"
    return f"{value:.{digits}f}"


def format_length(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "–"
    return f"{value:g}"


def highest_scoring_index(candidates: list[dict[str, Any]]) -> int | None:
    """Return the index of the highest-scoring candidate (the earliest on a tie), or None without scores."""
    scored = [candidate for candidate in candidates if isinstance(candidate.get("score"), (int, float))]
    if not scored:
        return None
    best = max(scored, key=lambda candidate: (candidate["score"], -candidate.get("index", 0)))
    return best.get("index")


class CandidateTable(Widget):
    """The candidates of one best_of_n turn, with the kept one marked."""

    COMPONENT_CLASSES = {"candidate-table--kept", "candidate-table--note"}

    DEFAULT_CSS = """
    CandidateTable {
        height: auto;
    }
    """

    def __init__(self, turn: dict[str, Any], weights: str = "", *, classes: str | None = None) -> None:
        super().__init__(id=f"candidates-{turn['turn']}", classes=classes)
        self.turn = turn["turn"]
        self.candidates: list[dict[str, Any]] = list(turn.get("candidates") or [])
        self.selected_index = turn.get("selected_index")
        self.weights = weights

    def render(self) -> RenderableType:
        kept_style = self.get_component_rich_style("candidate-table--kept")
        note_style = self.get_component_rich_style("candidate-table--note")

        title = Text(f"Best of {len(self.candidates)} candidates for turn {self.turn}", "bold")
        if self.weights:
            title.append(f" · ranked by {self.weights}")

        table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, expand=False)
        table.add_column("#", justify="right")
        table.add_column("score", justify="right")
        table.add_column("persona sim", justify="right")
        table.add_column("context sim", justify="right")
        table.add_column("length", justify="right")
        table.add_column("")
        for candidate in self.candidates:
            kept = candidate.get("index") == self.selected_index
            table.add_row(
                str(candidate.get("index", "?")),
                format_number(candidate.get("score")),
                format_number(candidate.get("persona_similarity")),
                format_number(candidate.get("context_similarity")),
                format_length(candidate.get("candidate_length")),
                KEPT_MARK if kept else "",
                style=kept_style if kept else None,
            )

        parts: list[RenderableType] = [title, table]
        best = highest_scoring_index(self.candidates)
        if self.selected_index is not None and best is not None and best != self.selected_index:
            parts.append(
                Text(f"The log kept candidate {self.selected_index}, but candidate {best} has the highest score.",
                     note_style)
            )
        parts.append(self._texts(kept_style, note_style))
        return Group(*parts)

    def _texts(self, kept_style: Style, note_style: Style) -> Text:
        """Return each candidate's text, or the note that the log did not store them."""
        if not any(isinstance(candidate.get("text"), str) for candidate in self.candidates):
            return Text(TEXT_NOT_STORED, note_style)

        text = Text()
        for candidate in self.candidates:
            kept = candidate.get("index") == self.selected_index
            if text.plain:
                text.append("\n")
            text.append(f"{candidate.get('index', '?')}{' (kept)' if kept else ''}: ", "bold")
            body = candidate.get("text")
            if isinstance(body, str):
                shown = literal_text(body)
                if kept:
                    shown.stylize(kept_style)
                text.append_text(shown)
            else:
                text.append("text not stored", note_style)
        return text
