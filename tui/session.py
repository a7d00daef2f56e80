"""Start or resume a run: the glue between the engine, the store and a display.

Used by the TUI and the headless command alike; no Textual import here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from engine.backends import Backend, create_backend, environment_base_url
from engine.backends.resilience import resilient
from engine.config import RunConfig, persona_set_digest_of
from engine.embeddings import ensure_available
from engine.persona_sources import persona_set_identity
from engine.personas import Persona, load_personas
from engine.selfchat import Listener, ResumeState, SelfChat
from engine.starters import STARTERS
from store import RunStore, StoredRun


@dataclass
class PreparedRun:
    """A run ready to start: the chat, its stored state and the personas."""

    chat: SelfChat
    stored: StoredRun
    agent: Persona
    user: Persona


def resume_state(stored: StoredRun) -> ResumeState:
    """Return the history and probe scores of the contiguous stored turns."""
    history: list[str] = []
    for expected, turn in enumerate(stored.turns, start=1):
        if turn["turn"] != expected:
            break
        history.append(turn["text"])

    probe_scores: dict[int, list[float | None]] = {}
    for probe in stored.probes:
        if probe["turn"] <= len(history):
            probe_scores.setdefault(probe["turn"], []).append(probe["score"])
    return ResumeState(history=history, probe_scores=probe_scores)


def backend_options(config: RunConfig) -> dict:
    """Return the connection options of `config` that are set, for create_backend()."""
    options = {"base_url": config.base_url, "timeout": config.timeout}
    return {name: value for name, value in options.items() if value is not None}


def open_backend(config: RunConfig, backend: Backend | None = None) -> Backend:
    """Create (or take) the run's backend, wrapped for retries, and check its key.

    Blocking: the key check is one request to the endpoint. Raises
    AuthenticationFailed naming the variable to set when the key is missing
    or rejected, and BackendError when the endpoint cannot be reached.
    """
    if backend is None:
        backend = create_backend(config.backend, config.model, **backend_options(config))
    backend = resilient(backend)
    backend.check_access()
    return backend


def match_persona_set(config: RunConfig, personas: list[Persona]) -> RunConfig:
    """Return `config` with `personas` set to the identity of the set the run uses.

    A config without a set (the picker's) takes the identity of `personas`, so
    a run on a custom set never shares an id with a built-in run. Raises
    ValueError when the config names another set, for example when a run
    stored with a custom set is resumed with the built-in personas.
    """
    identity = persona_set_identity(personas)
    if config.personas is None:
        return replace(config, personas=identity)
    if identity is None or persona_set_digest_of(identity) != persona_set_digest_of(config.personas):
        loaded = identity or "the built-in personas.json"
        raise ValueError(f"the run uses the persona set {config.personas}, but the loaded set is {loaded}: "
                         f"pass that set with --personas")
    return config


def prepare_run(
    config: RunConfig,
    store: RunStore,
    listeners: list[Listener],
    personas: list[Persona] | None = None,
    backend: Backend | None = None,
) -> PreparedRun:
    """Validate and resolve `config`, check the backend's key, open (or resume) its stored run, build the chat.

    Raises ValueError for an invalid configuration before any model call, and
    BackendError (AuthenticationFailed for a missing or rejected key) before
    the run is stored. Blocking, so the TUI calls it off the event loop.
    """
    personas = personas if personas is not None else load_personas()
    if config.base_url is None:
        # The endpoint is part of the run's identity, also when a variable sets it.
        config = replace(config, base_url=environment_base_url(config.backend))
    config = match_persona_set(config, personas)
    config.validate(len(personas))
    config = config.resolve(len(personas))
    if config.decoding.strategy == "best_of_n":
        ensure_available()

    backend = open_backend(config, backend)

    agent = personas[config.agent]
    user = personas[config.user]
    starter = STARTERS[config.topic]
    store.claim_run(config.run_id())
    stored = store.open_run(
        config,
        agent_prompt=agent.system_prompt,
        user_prompt=user.system_prompt,
        agent_label=agent.label,
        user_label=user.label,
        starter=starter,
    )

    chat = SelfChat(
        config,
        backend,
        agent,
        user,
        starter,
        listeners=[store.record, *listeners],
        resume=resume_state(stored),
    )
    return PreparedRun(chat=chat, stored=stored, agent=agent, user=user)
