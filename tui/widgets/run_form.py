"""The run settings form of the persona picker: turns, probe runs, seed, topic, model, endpoint, decoding.

While the model name is typed, the form shows what it resolves to (backend
and model id, or the resolution error) and whether that backend's key
variable is set. It never reads or shows a key's value, only whether the
variable is set (`backend_status()`). The best-of-n fields show only when
the decoding is best_of_n. `build_config` checks every field and raises
ValueError naming the field, the value and the fix.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.suggester import SuggestFromList
from textual.widgets import Checkbox, Input, Label, Select, Static

from engine.backends import backend_names, backend_status
from engine.config import STRATEGIES, Decoding, RunConfig, Sampling
from engine.models import MODEL_ALIASES, resolve_model
from engine.starters import STARTERS
from tui.widgets.literal_text import literal_text

T = TypeVar("T")

# Backends that reach a server, so a base URL applies to them.
ENDPOINT_BACKENDS = ("openai", "replicate")

MODEL_SUGGESTIONS = ["local", "scripted:demo", *MODEL_ALIASES, "gpt-4o-mini", "openai:", "replicate:"]


@dataclass(frozen=True)
class IntegerField:
    """A whole-number setting: its input id, its name in messages, its bounds and an example."""

    input_id: str
    name: str
    minimum: int | None
    maximum: int | None
    example: str

    def parse(self, value: str) -> int:
        """Return the value as an int; ValueError with the field name, the value and the fix."""
        try:
            number = int(value.strip())
        except ValueError:
            raise ValueError(f"{self.name}: {value!r} is not a whole number. {self.accepted()}") from None

        too_small = self.minimum is not None and number < self.minimum
        too_large = self.maximum is not None and number > self.maximum
        if too_small or too_large:
            raise ValueError(f"{self.name}: {number} is out of range. {self.accepted()}")
        return number

    def accepted(self) -> str:
        if self.maximum is None:
            bounds = f"{self.minimum} or more" if self.minimum is not None else "any whole number"
        else:
            bounds = f"{self.minimum}..{self.maximum}"
        return f"Type {bounds}, e.g. {self.example}."


@dataclass(frozen=True)
class WeightField:
    """A best-of-n ranking weight: any finite number, negative included."""

    input_id: str
    name: str
    example: str

    def parse(self, value: str) -> float:
        """Return the value as a float; ValueError with the field name, the value and the fix."""
        try:
            number = float(value.strip())
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise ValueError(f"{self.name}: {value!r} is not a finite number. Type a number such as {self.example}.")
        return number


TURNS = IntegerField("turns", "Turns", 2, None, "8")
RUNS = IntegerField("runs", "Runs (probe samples)", 1, None, "2")
SEED = IntegerField("seed", "Seed", None, None, "1")
TOPIC = IntegerField("topic", "Topic", -1, len(STARTERS) - 1, "-1 to draw one with the seed")
MAX_TOKENS = IntegerField("max-tokens", "Max tokens per reply", 1, None, "400")
BEST_OF_N = IntegerField("best-of-n", "Best-of-n candidates (n)", 1, None, "5")
ALPHA = WeightField("alpha", "Alpha (persona similarity weight)", "1.0")
BETA = WeightField("beta", "Beta (context similarity weight)", "0.5")
GAMMA = WeightField("gamma", "Gamma (length weight)", "0.0")


def parse_model(value: str) -> tuple[str, str]:
    """Return (backend, model) for the model field; ValueError with the fix."""
    try:
        backend, model = resolve_model(value)
    except ValueError as error:
        raise ValueError(f"Model: {error}") from None

    if backend == "local" and model.lower().endswith(".gguf") and not Path(model).expanduser().is_file():
        raise ValueError(f"Model: GGUF file not found: {model}. Give the path of an existing .gguf file.")
    return backend, model


def parse_base_url(value: str, backend: str) -> str | None:
    """Return the base URL, or None when the field is empty; ValueError naming the field and the fix."""
    url = value.strip()
    if not url:
        return None
    if backend not in ENDPOINT_BACKENDS:
        raise ValueError(
            f"Base URL: a base URL applies to {' and '.join(ENDPOINT_BACKENDS)} models, not to {backend}. "
            "Clear the field, or choose a model on one of those backends, e.g. openai:MODEL."
        )

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"Base URL: {url!r} is not an http(s) URL. Type e.g. http://127.0.0.1:8000/v1.")
    if parts.username or parts.password:
        raise ValueError(
            "Base URL: the URL contains credentials. Remove them and set the backend's key variable instead."
        )
    return url


def key_presence() -> Text:
    """Return, per backend with a key variable, whether it is set and the base-URL variable when set."""
    text = Text()
    for status in backend_status():
        info = status.info
        if info.key_variable is None:
            continue
        if text.plain:
            text.append("\n")
        text.append(f"{info.name}: ", "bold")
        text.append(f"{info.key_variable} {'set' if status.key_set else 'not set'}")
        if status.base_url:
            text.append(f" · {info.base_url_variable} ")
            text.append_text(literal_text(status.base_url))
    return text


def model_resolution(value: str) -> Text:
    """Return what the model field resolves to, with that backend's key presence, or the error text."""
    try:
        backend, model = parse_model(value)
    except ValueError as error:
        return literal_text(str(error))

    text = Text("→ ")
    text.append(backend, "bold")
    text.append(" · ")
    text.append_text(literal_text(model))
    for status in backend_status():
        if status.info.name == backend and status.info.key_variable:
            text.append(f" · {status.info.key_variable} {'set' if status.key_set else 'not set'}")
    return text


class RunForm(Vertical):
    """The run settings fields; `build_config` turns them into a RunConfig."""

    DEFAULT_CSS = """
    RunForm {
        height: auto;
    }
    """

    def compose(self) -> ComposeResult:
        with Horizontal(classes="form-row"):
            with Vertical():
                yield Label("Turns (with starter)")
                yield Input("8", id="turns")
            with Vertical():
                yield Label("Probe runs per turn")
                yield Input("2", id="runs")
        with Horizontal(classes="form-row"):
            with Vertical():
                yield Label("Seed")
                yield Input("1", id="seed")
            with Vertical():
                yield Label(f"Topic (0..{len(STARTERS) - 1}, -1 draws)")
                yield Input("-1", id="topic")
        with Horizontal(classes="form-row"):
            with Vertical():
                yield Label("Max tokens per reply")
                yield Input("400", id=MAX_TOKENS.input_id)

        yield Label("Model")
        yield Input("local", id="model", suggester=SuggestFromList(MODEL_SUGGESTIONS, case_sensitive=True))
        yield Static(id="model-resolution")
        yield Static(
            f"aliases {', '.join(MODEL_ALIASES)} · a name with 'gpt' goes to openai · owner/name to replicate"
            f" · a .gguf path runs locally · prefixes {', '.join(f'{name}:' for name in backend_names())}",
            id="model-help",
        )
        yield Static(key_presence(), id="key-status")

        yield Label("Base URL (openai or replicate only, optional)")
        yield Input(placeholder="e.g. http://127.0.0.1:8000/v1", id="base-url")

        yield Label("Decoding")
        yield Select([(strategy, strategy) for strategy in STRATEGIES], value="nucleus", allow_blank=False,
                     id="decoding")
        with Horizontal(id="best-of-n-fields", classes="form-row"):
            for label, input_id, default in (("n", BEST_OF_N.input_id, "5"), ("alpha", ALPHA.input_id, "1.0"),
                                             ("beta", BETA.input_id, "0.5"), ("gamma", GAMMA.input_id, "0.0")):
                with Vertical():
                    yield Label(label)
                    yield Input(default, id=input_id)
        yield Checkbox("Fluency gate: scores × 'mostly English words'", id="fluency-gate")

    def on_mount(self) -> None:
        self.show_resolution()
        self.show_decoding_fields()

    @on(Input.Changed, "#model")
    def show_resolution(self) -> None:
        self.query_one("#model-resolution", Static).update(model_resolution(self.query_one("#model", Input).value))
        self.query_one("#key-status", Static).update(key_presence())

    @on(Select.Changed, "#decoding")
    def show_decoding_fields(self) -> None:
        self.query_one("#best-of-n-fields").display = self.strategy == "best_of_n"

    @property
    def strategy(self) -> str:
        value = self.query_one("#decoding", Select).value
        return value if isinstance(value, str) else "nucleus"

    def parse_field(self, input_id: str, parse: Callable[[str], T]) -> T:
        """Parse one input with `parse`; on ValueError mark the input invalid, focus it and re-raise."""
        field_input = self.query_one(f"#{input_id}", Input)
        try:
            value = parse(field_input.value)
        except ValueError:
            field_input.add_class("-invalid")
            field_input.focus()
            raise
        field_input.remove_class("-invalid")
        return value

    def build_config(self, agent: int, user: int, persona_count: int) -> RunConfig:
        """Return the run configuration from the fields; ValueError naming the invalid field."""
        values = {field.input_id: self.parse_field(field.input_id, field.parse) for field in (TURNS, RUNS, SEED, TOPIC, MAX_TOKENS)}
        backend, model = self.parse_field("model", parse_model)
        base_url = self.parse_field("base-url", lambda value: parse_base_url(value, backend))

        decoding = Decoding(strategy=self.strategy)
        if self.strategy == "best_of_n":
            decoding = Decoding(
                strategy="best_of_n",
                best_of_n=self.parse_field(BEST_OF_N.input_id, BEST_OF_N.parse),
                alpha=self.parse_field(ALPHA.input_id, ALPHA.parse),
                beta=self.parse_field(BETA.input_id, BETA.parse),
                gamma=self.parse_field(GAMMA.input_id, GAMMA.parse),
            )

        config = RunConfig(
            backend=backend,
            model=model,
            agent=agent,
            user=user,
            topic=values["topic"],
            seed=values["seed"],
            turns=values["turns"],
            runs=values["runs"],
            sampling=Sampling(max_tokens=values[MAX_TOKENS.input_id]),
            fluency_gate=self.query_one("#fluency-gate", Checkbox).value,
            decoding=decoding,
            base_url=base_url,
        )
        config.validate(persona_count)
        return config
