"""One turn of the transcript: a header naming the speaker, and the turn's text.

Streaming appends each fragment to the turn's `Text`, and nothing is parsed
per token. Textual re-wraps the turn when it next draws, not once per token.
Model text is always literal (see `literal_text`).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Static

from tui.widgets.literal_text import literal_text, neutralise_controls
from tui.widgets.stability_badge import StabilityBadge

SPEAKER_TITLES = {"starter": "starter", "agent": "agent", "user": "user"}


class TurnBody(Widget):
    """The text of a turn, which grows fragment by fragment while it streams."""

    DEFAULT_CSS = """
    TurnBody {
        height: auto;
    }
    """

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.text = literal_text(text)

    def append(self, fragment: str) -> None:
        """Add a streamed fragment at the end, shown literally."""
        self.text.append(neutralise_controls(fragment))
        self.refresh(layout=True)

    def replace(self, text: str) -> None:
        """Show `text` instead of the streamed fragments (the stored raw text)."""
        self.text = literal_text(text)
        self.refresh(layout=True)

    def render(self) -> Text:
        return self.text


class TurnView(Widget):
    """A turn of a self-chat; agent turns carry a stability badge.

    CSS classes: `-starter`, `-agent` or `-user` for the speaker, `-streaming`
    while tokens arrive, `-incomplete` for a turn cut off by a stop or failure
    (such a turn is not stored).
    """

    DEFAULT_CSS = """
    TurnView {
        height: auto;
    }
    TurnView > .turn-header {
        height: 1;
    }
    """

    def __init__(self, turn: int, speaker: str, persona_label: str = "", text: str = "") -> None:
        super().__init__(classes=f"-{speaker}", id=f"turn-{turn}")
        self.turn = turn
        self.speaker = speaker
        self.persona_label = persona_label
        self.body = TurnBody(text)
        self.badge = StabilityBadge() if speaker == "agent" else None

    def compose(self) -> ComposeResult:
        title = Text.assemble((f"turn {self.turn} ", "bold"), SPEAKER_TITLES.get(self.speaker, self.speaker))
        if self.persona_label:
            title.append(" · ")
            title.append_text(literal_text(self.persona_label))

        with Horizontal(classes="turn-header"):
            yield Static(title, classes="turn-title")
            if self.badge is not None:
                yield self.badge
        yield self.body

    def append(self, fragment: str) -> None:
        """Add a streamed fragment to the turn's text."""
        self.body.append(fragment)

    def finish(self, raw_text: str) -> None:
        """Mark the turn complete and show its raw text as received."""
        self.remove_class("-streaming")
        self.body.replace(raw_text)

    def mark_incomplete(self) -> None:
        """Mark a turn that a stop or failure cut off; it was not stored."""
        self.remove_class("-streaming")
        self.add_class("-incomplete")
        if self.badge is not None:
            self.badge.display = False
        self.body.append(" [cut off, not stored]" if self.body.text.plain else "[no reply, not stored]")
