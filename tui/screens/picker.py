"""The persona picker, the first screen: choose the agent and user personas and the run settings.

The list of 100 personas is filtered by a search text and a category; the
preview shows the highlighted persona. The run settings form
(`RunForm`) is checked when the chat starts, and an invalid setting is
reported in a notification naming the field and the fix.
"""

from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from engine.config import RunConfig
from engine.personas import Persona, PersonaFileError
from tui.screens.chat import ChatScreen
from tui.screens.history import HistoryScreen
from tui.widgets.literal_text import literal_text, neutralise_controls
from tui.widgets.persona_preview import PersonaPreview
from tui.widgets.run_form import RunForm

if TYPE_CHECKING:
    from tui.app import DriftApp

logger = logging.getLogger(__name__)

CATEGORIES = ("pattern", "multiple_choice", "persona", "memorization", "language")


def persona_matches(persona: Persona, search: str, category: str | None) -> bool:
    """Return True when `persona` is in `category` (None: any) and contains every search word."""
    if category is not None and persona.category != category:
        return False
    haystack = " ".join(
        (str(persona.index), persona.category, persona.label, persona.system_prompt, persona.probe_question)
    ).lower()
    return all(word in haystack for word in search.lower().split())


class PickerScreen(Screen[None]):
    """Choose two personas and the run settings, then start a live chat."""

    BINDINGS = [
        Binding("a", "use_as('agent')", "Use as agent"),
        Binding("u", "use_as('user')", "Use as user"),
        Binding("ctrl+r", "draw_pair", "Draw pair"),
        Binding("ctrl+s", "start", "Start chat"),
        Binding("ctrl+o", "open_history", "History"),
        Binding("slash", "focus_search", "Search", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.personas: list[Persona] = []
        self.agent: Persona | None = None
        self.user: Persona | None = None
        # Whether the list rows include the category, which they do only on the widest layout.
        self.list_shows_category = False

    @property
    def drift_app(self) -> DriftApp:
        return cast("DriftApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="picker-body"):
            # Side by side on a wide screen; app.tcss stacks the preview under the list when narrower.
            with Container(id="persona-pane"):
                with Vertical(id="persona-column"):
                    yield Input(placeholder="Search personas: words, index or category", id="search")
                    yield Select(
                        [(category.replace("_", " "), category) for category in CATEGORIES],
                        prompt="All categories",
                        id="category",
                    )
                    yield OptionList(id="persona-list")
                with VerticalScroll(id="preview-column"):
                    yield PersonaPreview(id="preview")
            with VerticalScroll(id="settings-column"):
                yield Static(id="agent-choice", classes="choice")
                yield Static(id="user-choice", classes="choice")
                with Horizontal(classes="button-row"):
                    yield Button("Use as agent (a)", id="use-agent")
                    yield Button("Use as user (u)", id="use-user")
                yield RunForm(id="run-form")
                with Horizontal(classes="button-row"):
                    yield Button("Start chat", id="start", variant="primary")
                    yield Button("Draw pair", id="draw-pair")
        yield Footer()

    def on_mount(self) -> None:
        try:
            self.personas = self.drift_app.personas()
        except PersonaFileError as error:
            logger.error("cannot load personas: %s", error)
            self.notify(neutralise_controls(str(error)), title="Personas not loaded", severity="error", markup=False)
        self.show_choices()
        self.refresh_list()
        self.query_one("#persona-list", OptionList).focus()

    # Filtering and preview.

    def visible_personas(self) -> list[Persona]:
        """Return the personas that match the search text and the category filter."""
        search = self.query_one("#search", Input).value
        selected = self.query_one("#category", Select).value
        category = selected if isinstance(selected, str) else None
        return [persona for persona in self.personas if persona_matches(persona, search, category)]

    def refresh_list(self) -> None:
        """Refill the persona list from the filters, keeping the highlight where possible."""
        option_list = self.query_one("#persona-list", OptionList)
        highlighted = self.highlighted_persona()
        visible = self.visible_personas()

        self.list_shows_category = self.has_class("-wide")
        option_list.clear_options()
        option_list.add_options(Option(self.option_prompt(persona), id=str(persona.index)) for persona in visible)

        if visible:
            indexes = [persona.index for persona in visible]
            keep = highlighted is not None and highlighted.index in indexes
            option_list.highlighted = indexes.index(highlighted.index) if keep else 0
        self.query_one(PersonaPreview).show(self.highlighted_persona())

    def on_resize(self) -> None:
        # Screen._on_resize sets the breakpoint class (see DriftApp) after this handler runs,
        # so the class is read after the next refresh.
        self.call_after_refresh(self.fit_list_to_width)

    def fit_list_to_width(self) -> None:
        """Refill the list when a change of breakpoint class adds or removes its category column."""
        if self.has_class("-wide") != self.list_shows_category:
            self.refresh_list()

    def option_prompt(self, persona: Persona) -> Text:
        roles = []
        if self.agent is not None and persona.index == self.agent.index:
            roles.append("A")
        if self.user is not None and persona.index == self.user.index:
            roles.append("U")

        prompt = Text(f"{''.join(roles):<2} {persona.index:>2} ", no_wrap=True, overflow="ellipsis")
        if self.list_shows_category:
            prompt.append(f"{persona.category:<15} ", "italic")
        prompt.append(neutralise_controls(persona.system_prompt.replace("\n", " ")))
        return prompt

    def highlighted_persona(self) -> Persona | None:
        option_list = self.query_one("#persona-list", OptionList)
        if option_list.highlighted is None or option_list.option_count == 0:
            return None
        option_id = option_list.get_option_at_index(option_list.highlighted).id
        return self.personas[int(option_id)] if option_id is not None else None

    @on(Input.Changed, "#search")
    @on(Select.Changed, "#category")
    def filters_changed(self) -> None:
        self.refresh_list()

    @on(OptionList.OptionHighlighted, "#persona-list")
    def persona_highlighted(self) -> None:
        self.query_one(PersonaPreview).show(self.highlighted_persona())

    @on(OptionList.OptionSelected, "#persona-list")
    def persona_selected(self) -> None:
        """Enter on a persona fills the agent first, then the user."""
        self.action_use_as("agent" if self.agent is None else "user")

    # Choosing personas.

    def action_use_as(self, role: str) -> None:
        """Use the highlighted persona as the agent or the user persona."""
        persona = self.highlighted_persona()
        if persona is None:
            self.notify("No persona is highlighted: clear the search or pick another category.", severity="warning")
            return
        setattr(self, role, persona)
        self.show_choices()
        self.refresh_list()

    @on(Button.Pressed, "#use-agent")
    def use_agent_pressed(self) -> None:
        self.action_use_as("agent")

    @on(Button.Pressed, "#use-user")
    def use_user_pressed(self) -> None:
        self.action_use_as("user")

    def show_choices(self) -> None:
        for role in ("agent", "user"):
            persona: Persona | None = getattr(self, role)
            text = Text(f"{role.capitalize():<6} ", "bold")
            if persona is None:
                text.append("drawn with the seed at start", "italic")
            else:
                text.append_text(literal_text(persona.label))
            self.query_one(f"#{role}-choice", Static).update(text)

    def action_draw_pair(self) -> None:
        """Draw two different personas at random (not from the seed) as agent and user."""
        if len(self.personas) < 2:
            self.notify("Drawing a pair needs at least two personas.", severity="error")
            return
        self.agent, self.user = random.sample(self.personas, 2)
        self.show_choices()
        self.refresh_list()

    @on(Button.Pressed, "#draw-pair")
    def draw_pair_pressed(self) -> None:
        self.action_draw_pair()

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    # Starting a run.

    def build_config(self) -> RunConfig:
        """Return the run configuration from the chosen personas and the form; ValueError naming the invalid field."""
        return self.query_one(RunForm).build_config(
            agent=self.agent.index if self.agent is not None else -1,
            user=self.user.index if self.user is not None else -1,
            persona_count=len(self.personas) or 100,
        )

    def action_start(self) -> None:
        """Start a live chat with the chosen personas and settings."""
        if not self.personas:
            self.notify("No personas are loaded, so no run can start.", severity="error")
            return
        try:
            config = self.build_config()
        except ValueError as error:
            self.notify(neutralise_controls(str(error)), title="Invalid setting", severity="error", markup=False)
            return
        self.app.push_screen(ChatScreen(config))

    @on(Button.Pressed, "#start")
    def start_pressed(self) -> None:
        self.action_start()

    @on(Input.Submitted, "#settings-column Input")
    def setting_submitted(self) -> None:
        self.action_start()

    def action_open_history(self) -> None:
        self.app.push_screen(HistoryScreen())
