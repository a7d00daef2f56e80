"""The Model Drift Textual app: picker, live chat, history, replay and compare screens.

`DriftApp` keeps only what the screens share (the run store, the personas,
an optional backend factory) and opens the first screen. Everything a screen
shows lives in its own module under `tui/screens`.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App
from textual.binding import Binding

from engine.backends import Backend
from engine.config import RunConfig
from engine.personas import Persona, load_personas
from store import RunStore
from tui.screens.chat import ChatScreen
from tui.screens.picker import PickerScreen

BackendFactory = Callable[[RunConfig], Backend]


class DriftApp(App[None]):
    """Watch whether a chatbot keeps to its system prompt as a conversation grows.

    `start_config` opens the live chat directly (the `model-drift chat` command);
    leaving it shows the persona picker. `store`, `personas` and
    `backend_factory` replace the defaults, for tests and demos.
    """

    CSS_PATH = "app.tcss"
    TITLE = "Model Drift"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]
    # Textual sets one of these classes on a screen from the terminal width each time the
    # screen is resized. app.tcss keys its narrower layouts on them, so from 140 columns
    # every screen keeps the wide layout.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-medium"), (140, "-wide")]

    def __init__(
        self,
        start_config: RunConfig | None = None,
        store: RunStore | None = None,
        personas: list[Persona] | None = None,
        backend_factory: BackendFactory | None = None,
    ) -> None:
        super().__init__()
        self.start_config = start_config
        self.backend_factory = backend_factory
        self._store = store
        self._personas = personas

    @property
    def store(self) -> RunStore:
        """The run store, opened in the data folder (SELFCHAT_DIR) on first use."""
        if self._store is None:
            self._store = RunStore()
        return self._store

    def personas(self) -> list[Persona]:
        """Return the 100 benchmark personas, loaded on first use; PersonaFileError when invalid."""
        if self._personas is None:
            self._personas = load_personas()
        return self._personas

    def create_backend(self, config: RunConfig) -> Backend | None:
        """Return the injected backend for `config`, or None to let the run create its own."""
        return self.backend_factory(config) if self.backend_factory is not None else None

    def on_mount(self) -> None:
        self.push_screen(PickerScreen())
        if self.start_config is not None:
            self.push_screen(ChatScreen(self.start_config))
