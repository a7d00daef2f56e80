"""The probe answers of one agent turn, each with its score, shown literally."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from engine.selfchat import turn_stability
from tui.widgets.literal_text import literal_text


def format_score(score: float | None) -> str:
    return "not scored" if score is None else f"{score:.2f}"


class ProbeAnswers(Widget):
    """Lists the sampled probe answers after one agent turn, with scores and stability."""

    DEFAULT_CSS = """
    ProbeAnswers {
        height: auto;
    }
    """

    def __init__(self, probe_question: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.probe_question = probe_question
        self.turn: int | None = None
        self.probes: list[dict] = []

    def show(self, turn: int | None, probes: list[dict]) -> None:
        """Show the probe records of agent turn `turn` (None: no agent turn yet)."""
        self.turn = turn
        self.probes = probes
        self.refresh(layout=True)

    def render(self) -> Text:
        if self.turn is None:
            return Text("No agent turn yet: the probes follow each agent turn.", style="italic")

        scores = [probe["score"] for probe in self.probes]
        stability = turn_stability(scores) if scores else None
        text = Text.assemble((f"Probes after turn {self.turn}", "bold"))
        text.append(f" · stability {format_score(stability)}" if scores else " · no probe answers")
        if self.probe_question:
            text.append("\nQ: ", "bold")
            text.append_text(literal_text(self.probe_question))

        for probe in self.probes:
            published = probe.get("published")
            text.append(f"\n\nsample {probe['sample'] + 1} · score {format_score(probe['score'])}", "bold")
            if published is not None and published != probe["score"]:
                text.append(f" (published judge {published:.2f})")
            text.append("\n")
            text.append_text(literal_text(probe["raw_text"]))
        return text
