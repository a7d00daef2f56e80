"""`model-drift run`: a self-chat without the TUI, with a progress display.

The run is stored in the same log the TUI reads; at the end a table shows
stability per agent turn. Ctrl+C stops the run and keeps its stored turns.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from engine.backends import BackendError
from engine.config import RunConfig
from engine.embeddings import EmbeddingsUnavailable
from engine.events import ProbeScored, RunEvent, TurnFinished
from engine.personas import Persona, PersonaFileError
from engine.printable import neutralise_controls
from engine.selfchat import turn_stability
from store import RunStore, StoreError
from tui.session import prepare_run

logger = logging.getLogger(__name__)


def stability_table(probe_scores: dict[int, list[float | None]], title: str) -> Table:
    """Return a table of stability per agent turn, with each sample's score."""
    table = Table(title=title)
    table.add_column("agent turn", justify="right")
    table.add_column("stability", justify="right")
    table.add_column("probe scores")

    for turn in sorted(probe_scores):
        scores = probe_scores[turn]
        stability = turn_stability(scores)
        shown = "not scored" if stability is None else f"{stability:.3f}"
        samples = ", ".join("not scored" if score is None else f"{score:.3f}" for score in scores)
        table.add_row(str(turn), shown, samples)
    return table


def run_headless(
    config: RunConfig,
    log_path: Path | None,
    console: Console | None = None,
    personas: list[Persona] | None = None,
) -> int:
    """Run `config` to completion in the terminal; return the process exit code.

    `personas` is the persona set that `config.personas` names; None loads the built-in personas.json.
    """
    console = console or Console()
    store = RunStore()

    probe_total = (config.turns // 2) * config.runs
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    turns_task = progress.add_task("turns", total=config.turns)
    probes_task = progress.add_task("probes", total=probe_total)
    probe_scores: dict[int, list[float | None]] = {}

    def show(event: RunEvent) -> None:
        if isinstance(event, TurnFinished):
            progress.update(turns_task, completed=event.turn)
        elif isinstance(event, ProbeScored):
            probe_scores.setdefault(event.turn, []).append(event.score)
            progress.advance(probes_task)

    try:
        prepared = prepare_run(config, store, listeners=[show], personas=personas)
    except (ValueError, PersonaFileError, BackendError, StoreError, EmbeddingsUnavailable) as error:
        console.print(Text(neutralise_controls(f"model-drift: {error}"), style="red"))
        return 2

    chat = prepared.chat
    for turn, scores in prepared.chat.probe_scores.items():
        probe_scores[turn] = list(scores)
    progress.update(turns_task, completed=len(chat.history))
    progress.update(probes_task, completed=sum(len(scores) for scores in probe_scores.values()))

    console.print(Text(neutralise_controls(f"run {chat.run_id}: agent {prepared.agent.label} / user {prepared.user.label}")))
    console.print(Text(f"starter: {chat.starter}"))
    exit_code = 0
    with progress:
        try:
            asyncio.run(chat.run())
        except KeyboardInterrupt:
            console.print(Text("stopped; completed turns are stored and resume on the next run", style="yellow"))
            exit_code = 130
        except Exception as error:
            details = f" (details in {log_path})" if log_path is not None else ""
            console.print(Text(neutralise_controls(f"run failed: {error}{details}"), style="red"))
            exit_code = 1

    title = f"stability per agent turn, {config.model}, run {chat.run_id}"
    console.print(stability_table(probe_scores, neutralise_controls(title)))
    return exit_code
