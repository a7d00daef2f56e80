"""The drift curve: stability (0..1) against agent turn, drawn in braille dots.

Each agent turn with a score is a point, and consecutive scored turns are
joined by a line of braille dots (2 x 4 dots per cell). An agent turn without
a score breaks the line, and its axis label is dimmed. An optional cursor highlights
the column of one agent turn.

Component classes for the stylesheet: `drift-curve--line`, `drift-curve--point`,
`drift-curve--axis`, `drift-curve--cursor`, `drift-curve--missing`, and
`drift-curve--band` for the cells a subclass shades (see `band_cells`).
"""

from __future__ import annotations

from collections.abc import Callable

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

BRAILLE_BASE = 0x2800
# Bit of each dot in a braille cell, indexed by [row][column] inside the cell.
BRAILLE_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
POINT_MARK = "●"
Y_LABEL_WIDTH = 4


def draw_line(x0: int, y0: int, x1: int, y1: int) -> list[tuple[int, int]]:
    """Return the dots of a straight line between two dots (Bresenham)."""
    dots = []
    dx, dy = abs(x1 - x0), -abs(y1 - y0)
    step_x = 1 if x0 < x1 else -1
    step_y = 1 if y0 < y1 else -1
    error = dx + dy

    while True:
        dots.append((x0, y0))
        if x0 == x1 and y0 == y1:
            return dots
        doubled = 2 * error
        if doubled >= dy:
            error += dy
            x0 += step_x
        if doubled <= dx:
            error += dx
            y0 += step_y


class DriftCurve(Widget):
    """Stability per agent turn as a line chart, with an optional cursor."""

    COMPONENT_CLASSES = {
        "drift-curve--line",
        "drift-curve--point",
        "drift-curve--axis",
        "drift-curve--cursor",
        "drift-curve--missing",
        "drift-curve--band",
    }

    DEFAULT_CSS = """
    DriftCurve {
        height: 10;
        min-height: 4;
    }
    """

    cursor: reactive[int | None] = reactive(None)
    """The conversation turn (an agent turn) to highlight, or None."""

    def __init__(self, turns: int = 8, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.turns = turns
        self.stability: dict[int, float | None] = {}

    def set_stability(self, turn: int, stability: float | None) -> None:
        """Set the stability of agent turn `turn` (None: probed but not scored)."""
        self.stability[turn] = stability
        self.refresh()

    def set_all(self, stability: dict[int, float | None], turns: int | None = None) -> None:
        """Replace every point; `turns` widens the x axis to that many conversation turns."""
        self.stability = dict(stability)
        if turns is not None:
            self.turns = turns
        self.refresh()

    def agent_turns(self) -> list[int]:
        """Return the agent turns on the x axis: 2, 4, ... up to the run's length."""
        last = max([self.turns, *self.stability])
        return list(range(2, last + 1, 2))

    def render(self) -> Text:
        width, height = self.content_size
        plot_rows = height - 1
        plot_columns = width - Y_LABEL_WIDTH - 1
        if plot_rows < 2 or plot_columns < 2:
            return Text("")

        agent_turns = self.agent_turns()
        dot_width, dot_height = plot_columns * 2, plot_rows * 4
        x_of = self._x_positions(agent_turns, dot_width)

        def y_of(stability: float) -> int:
            return round((1.0 - min(1.0, max(0.0, stability))) * (dot_height - 1))

        # Braille bits per cell, and the cells that hold a point mark.
        cells = [[0] * plot_columns for _ in range(plot_rows)]
        points: set[tuple[int, int]] = set()

        def set_dot(x: int, y: int) -> None:
            cells[y // 4][x // 2] |= BRAILLE_BITS[y % 4][x % 2]

        previous: tuple[int, int] | None = None
        for turn in agent_turns:
            stability = self.stability.get(turn)
            if stability is None:
                previous = None
                continue
            dot = (x_of[turn], y_of(stability))
            if previous is not None:
                for x, y in draw_line(*previous, *dot):
                    set_dot(x, y)
            points.add((dot[1] // 4, dot[0] // 2))
            previous = dot

        band = self.band_cells(agent_turns, x_of, y_of)
        return self._assemble(cells, points, band, agent_turns, x_of)

    def band_cells(
        self, agent_turns: list[int], x_of: dict[int, int], y_of: Callable[[float], int]
    ) -> set[tuple[int, int]]:
        """Return the (row, column) cells to shade behind the line; the drift curve shades none.

        `x_of` maps an agent turn to its dot column and `y_of` a stability to
        its dot row, with 2 x 4 dots per cell.
        """
        return set()

    def _x_positions(self, agent_turns: list[int], dot_width: int) -> dict[int, int]:
        """Map each agent turn to a dot column, spread evenly over the plot width."""
        if len(agent_turns) == 1:
            return {agent_turns[0]: 0}
        last = len(agent_turns) - 1
        return {turn: round(index * (dot_width - 1) / last) for index, turn in enumerate(agent_turns)}

    def _assemble(
        self,
        cells: list[list[int]],
        points: set[tuple[int, int]],
        band: set[tuple[int, int]],
        agent_turns: list[int],
        x_of: dict[int, int],
    ) -> Text:
        line_style = self.get_component_rich_style("drift-curve--line")
        point_style = self.get_component_rich_style("drift-curve--point")
        axis_style = self.get_component_rich_style("drift-curve--axis")
        cursor_style = self.get_component_rich_style("drift-curve--cursor", partial=True)
        missing_style = self.get_component_rich_style("drift-curve--missing")
        # Only the background applies, blended over the widget's, so a translucent colour such as `$success 20%` works.
        band_style = Style(bgcolor=self.get_component_rich_style("drift-curve--band").bgcolor)

        plot_rows = len(cells)
        cursor_column = x_of[self.cursor] // 2 if self.cursor in x_of else None
        y_labels = {0: "1.0", plot_rows // 2: "0.5", plot_rows - 1: "0.0"}

        text = Text(no_wrap=True, overflow="crop")
        for row, bits_row in enumerate(cells):
            label = y_labels.get(row)
            text.append(f"{label or '':>{Y_LABEL_WIDTH - 1}} ", axis_style)
            text.append("┤" if label else "│", axis_style)

            for column, bits in enumerate(bits_row):
                if (row, column) in points:
                    character, style = POINT_MARK, point_style
                else:
                    character, style = chr(BRAILLE_BASE + bits), line_style
                if (row, column) in band:
                    style = style + band_style
                if column == cursor_column:
                    style = style + cursor_style
                text.append(character, style)
            text.append("\n")

        text.append(" " * (Y_LABEL_WIDTH - 1) + " └", axis_style)
        text.append_text(self._x_axis(agent_turns, x_of, len(cells[0]), axis_style, missing_style, cursor_style))
        return text

    def _x_axis(
        self,
        agent_turns: list[int],
        x_of: dict[int, int],
        plot_columns: int,
        axis_style: Style,
        missing_style: Style,
        cursor_style: Style,
    ) -> Text:
        """Return the x-axis row: turn numbers under their columns where they fit."""
        slots: list[tuple[str, Style]] = [(" ", axis_style)] * plot_columns
        next_free = 0

        for turn in agent_turns:
            label = str(turn)
            start = min(x_of[turn] // 2, plot_columns - len(label))
            if start < next_free and turn != self.cursor:
                continue

            style = missing_style if self.stability.get(turn) is None else axis_style
            if turn == self.cursor:
                style = style + cursor_style
            for offset, character in enumerate(label):
                slots[start + offset] = (character, style)
            next_free = start + len(label) + 1

        row = Text()
        for character, style in slots:
            row.append(character, style)
        return row
