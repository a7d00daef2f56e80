"""Model and persona text made safe to show: literal, with control characters visible.

Model output may contain Rich markup (`[bold]`) or terminal escape sequences
(`\\x1b[31m`). Building a `rich.text.Text` directly never parses markup, and
`neutralise_controls` replaces every control character except newline and tab
with a visible placeholder, so nothing a model writes reaches the terminal
as a command.
"""

from __future__ import annotations

from rich.text import Text

from engine.printable import neutralise_controls

__all__ = ["literal_text", "neutralise_controls"]

def literal_text(text: str, style: str = "") -> Text:
    """Return `text` as a Rich Text shown exactly as written, never as markup."""
    return Text(neutralise_controls(text), style=style)
