"""The preview of one persona: system prompt, probe question and scoring rule."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from engine.personas import Persona
from tui.widgets.literal_text import literal_text


def persona_summary(persona: Persona) -> Text:
    """Return the persona's fields as labelled paragraphs, shown literally."""
    text = Text()

    def section(title: str, body: str) -> None:
        if text.plain:
            text.append("\n\n")
        text.append(f"{title}\n", "bold")
        text.append_text(literal_text(body))

    text.append_text(literal_text(persona.label, "bold"))
    text.append(f"\ncategory {persona.category} · index {persona.index}")
    section("System prompt", persona.system_prompt)
    section("Probe question", persona.probe_question)
    section("Scoring rule", persona.score_rule)

    scorer = persona.scorer
    section("Scorer", f"{scorer.kind}: {scorer.description}" if scorer is not None else "not scored")
    return text


class PersonaPreview(Widget):
    """Shows the highlighted persona, or a hint when none is highlighted."""

    DEFAULT_CSS = """
    PersonaPreview {
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.persona: Persona | None = None

    def show(self, persona: Persona | None) -> None:
        """Preview `persona`, or the hint when None."""
        self.persona = persona
        self.refresh(layout=True)

    def render(self) -> Text:
        if self.persona is None:
            return Text("No persona matches the search.", style="italic")
        return persona_summary(self.persona)
