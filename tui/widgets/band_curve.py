"""A drift curve with a band: the mean stability per agent turn over several runs, and its spread.

The mean line and points are drawn as in `DriftCurve` (braille dots). The
band is shaded behind them, cell by cell, between its lower and upper
bound, and it is linearly interpolated between consecutive agent turns that
both have a band. The band's colour comes from the `drift-curve--band`
component class.
"""

from __future__ import annotations

from collections.abc import Callable

from tui.widgets.drift_curve import DriftCurve


class BandCurve(DriftCurve):
    """Mean stability per agent turn with a band from `low` to `high` at each turn."""

    def __init__(self, turns: int = 8, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(turns, id=id, classes=classes)
        self.bands: dict[int, tuple[float, float]] = {}

    def set_bands(self, means: dict[int, float | None], bands: dict[int, tuple[float, float]], turns: int) -> None:
        """Replace the mean line and the band (lower, upper) of each agent turn."""
        self.bands = dict(bands)
        self.set_all(means, turns=turns)

    def band_cells(
        self, agent_turns: list[int], x_of: dict[int, int], y_of: Callable[[float], int]
    ) -> set[tuple[int, int]]:
        """Return the cells between each turn's bounds, joined across neighbouring turns that both have a band."""
        cells: set[tuple[int, int]] = set()

        def shade(x: int, low: float, high: float) -> None:
            top, bottom = y_of(high) // 4, y_of(low) // 4
            for row in range(top, bottom + 1):
                cells.add((row, x // 2))

        previous: int | None = None
        for turn in agent_turns:
            band = self.bands.get(turn)
            if band is None:
                previous = None
                continue

            shade(x_of[turn], *band)
            if previous is not None:
                start, end = x_of[previous], x_of[turn]
                (low_start, high_start), (low_end, high_end) = self.bands[previous], band
                for x in range(start + 1, end):
                    fraction = (x - start) / (end - start)
                    shade(
                        x,
                        low_start + (low_end - low_start) * fraction,
                        high_start + (high_end - high_start) * fraction,
                    )
            previous = turn
        return cells
