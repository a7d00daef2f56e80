"""A badge with the stability of one agent turn, coloured from red (0) to green (1).

The colour comes from the stylesheet: the badge carries one of the classes
`-level-0` (stability below 0.2) to `-level-4` (0.8 and above), or `-pending`
while the turn's probes are sampled, or `-not-scored` when the agent persona
has no scorer.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

LEVELS = 5
LEVEL_CLASSES = tuple(f"-level-{level}" for level in range(LEVELS))
STATE_CLASSES = ("-pending", "-not-scored", *LEVEL_CLASSES)


def stability_level(stability: float) -> int:
    """Return the colour band 0..4 of a stability in [0, 1]."""
    return min(LEVELS - 1, max(0, int(stability * LEVELS)))


class StabilityBadge(Widget):
    """The stability of one agent turn: "…" while probing, then the mean probe score."""

    DEFAULT_CSS = """
    StabilityBadge {
        width: auto;
        height: 1;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.label = "…"
        self.stability: float | None = None
        self.set_class(True, "-pending")

    def show_pending(self, scored_samples: int = 0, samples: int = 0) -> None:
        """Show that probes are running, with how many samples are scored so far."""
        self.label = f"… {scored_samples}/{samples}" if samples else "…"
        self.stability = None
        self._set_state("-pending")

    def show_stability(self, stability: float | None) -> None:
        """Show the mean probe score, or "not scored" when the persona has no scorer."""
        self.stability = stability
        if stability is None:
            self.label = "not scored"
            self._set_state("-not-scored")
        else:
            self.label = f"{stability:.2f}"
            self._set_state(LEVEL_CLASSES[stability_level(stability)])

    def show_no_probes(self) -> None:
        """Show that no probe answer is stored for the turn (a stopped or imported run)."""
        self.stability = None
        self.label = "no probes"
        self._set_state("-not-scored")

    def _set_state(self, state_class: str) -> None:
        self.remove_class(*STATE_CLASSES)
        self.add_class(state_class)
        self.refresh(layout=True)

    def render(self) -> Text:
        return Text(self.label)
