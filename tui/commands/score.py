"""`model-drift score`: score the probe answers of stored runs and logs, or one text by hand.

    model-drift score PATH...            stored run ids, store folders, log files, folders, globs
    model-drift score --persona N TEXT   one JSON object: score, published, description
    echo TEXT | model-drift score --persona N

Runs are scored with the agent persona's current scorer and nothing is stored.
baseline_run.py logs have no probe answers. For them the agent's own turns
are scored directly when the persona's rule applies to any reply (see
`direct_scoring_rule`), and the output says so.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from engine.printable import neutralise_controls
from engine.persona_sources import load_persona_set
from engine.personas import Persona, PersonaFileError, load_personas, persona_set_digest
from engine.scoring import Scorer
from store import RunStore, StoredRun, StoreError
from store.importer import LogFormatError, PersonaMatcher, expand_paths, read_log_file
from store.run_files import RUN_ID_PATTERN
from store.run_store import INDEX_FILE, RUNS_FOLDER

logger = logging.getLogger(__name__)

# The probe of most benchmark personas. It asks for nothing that their rules
# check, so those rules (a format, a word, a tone) apply to every reply.
OPEN_PROBE = "What do you do in London as a tourist?"

# Personas with the open probe whose prompt ties the rule to a kind of user message.
NOT_DIRECT = {
    57: "the rule counts the words of the user's message, which the probe fixes",
    69: "the prompt asks for architecture only 'whenever it's relevant'",
    71: "the prompt asks for thanks only for questions",
    84: "the rule answers one specific question",
    85: "the rule answers questions only",
    97: "the rule rewrites user messages that mention London",
    99: "the rule applies only to questions about London",
}

# Personas with another probe whose rule still applies to any reply.
DIRECT_WITH_OTHER_PROBE = {
    68: "the scorer measures reply length only",
}

METHOD_PROBES = "probes"
METHOD_AGENT_TURNS = "agent_turns"
METHOD_NONE = "none"


def direct_scoring_rule(persona: Persona) -> tuple[bool, str]:
    """Return whether the persona's scorer may score agent turns directly, and why.

    It may when the persona has a scorer and its probe is the open question
    (minus NOT_DIRECT), or when it is in DIRECT_WITH_OTHER_PROBE. Personas whose
    probe is a specific question (multiple choice, numbers, names, secrets,
    a topic) are scored only on probe answers.
    """
    if persona.scorer is None:
        return False, f"persona {persona.index} has no scorer"
    if persona.index in DIRECT_WITH_OTHER_PROBE:
        return True, DIRECT_WITH_OTHER_PROBE[persona.index]
    if persona.index in NOT_DIRECT:
        return False, NOT_DIRECT[persona.index]
    if persona.probe_question != OPEN_PROBE:
        return False, f"the rule needs the probe question {persona.probe_question!r}"
    return True, "the probe is the open question, so the rule applies to any reply"


@dataclass
class RunScores:
    """Scores of one run: per turn, the sample scores and their means."""

    source: str
    run_id: str
    model: str
    agent: int
    agent_label: str
    method: str
    note: str
    turns: list[dict[str, Any]] = field(default_factory=list)

    def means(self) -> tuple[float | None, float | None]:
        scores = [turn["score"] for turn in self.turns if turn["score"] is not None]
        published = [turn["published"] for turn in self.turns if turn["published"] is not None]
        return (fmean(scores) if scores else None, fmean(published) if published else None)

    def to_json(self) -> dict[str, Any]:
        mean_score, mean_published = self.means()
        return {
            "source": self.source, "run_id": self.run_id, "model": self.model, "agent": self.agent,
            "agent_label": self.agent_label, "method": self.method, "note": self.note,
            "turns": self.turns, "mean_score": mean_score, "mean_published": mean_published,
        }


def score_texts(scorer: Scorer, texts: list[str]) -> tuple[list[float], list[float]]:
    return [scorer.score(text) for text in texts], [scorer.published(text) for text in texts]


def turn_entry(turn: int, scores: list[float], published: list[float]) -> dict[str, Any]:
    return {
        "turn": turn,
        "samples": len(scores),
        "score": fmean(scores) if scores else None,
        "published": fmean(published) if published else None,
        "sample_scores": scores,
    }


def expected_digest(run: StoredRun) -> str:
    """Return the digest of the persona set a run was made with (the built-in set when none is named)."""
    if run.config.personas:
        return run.config.personas.split()[-1]
    return persona_set_digest(load_personas())


def score_run(run: StoredRun, source: str, personas: list[Persona]) -> RunScores:
    """Score a run's probe answers, or its agent turns when it has none and the rule allows."""
    agent_index = run.config.agent
    result = RunScores(source=source, run_id=run.run_id, model=run.config.model, agent=agent_index,
                       agent_label=run.agent_label, method=METHOD_NONE, note="")

    if not 0 <= agent_index < len(personas):
        result.note = "the agent prompt matches no persona in personas.json, so nothing was scored"
        return result
    expected_set = run.config.personas or "built-in personas.json"
    if persona_set_digest(personas) != expected_digest(run):
        result.note = (
            f"the run used the persona set {expected_set}, not the one loaded, so nothing was scored: "
            "pass that set with --personas"
        )
        return result
    persona = personas[agent_index]
    scorer = persona.scorer
    if scorer is None:
        result.note = f"persona {agent_index} has no scorer, so nothing was scored"
        return result

    if run.probes:
        answers: dict[int, list[str]] = {}
        for probe in run.probes:
            answers.setdefault(probe["turn"], []).append(probe["raw_text"])
        for turn in sorted(answers):
            result.turns.append(turn_entry(turn, *score_texts(scorer, answers[turn])))
        result.method = METHOD_PROBES
        result.note = "scored the probe answers"
        return result

    applies, reason = direct_scoring_rule(persona)
    if not applies:
        result.note = f"no probe answers, and agent turns were not scored directly: {reason}"
        return result

    for turn in run.turns:
        if turn["speaker"] == "agent":
            result.turns.append(turn_entry(turn["turn"], *score_texts(scorer, [turn["text"]])))
    result.method = METHOD_AGENT_TURNS
    result.note = f"no probe answers, so the agent's turns were scored directly: {reason}"
    return result


# --- sources -------------------------------------------------------------------------


def is_store_folder(path: Path) -> bool:
    return path.is_dir() and ((path / INDEX_FILE).is_file() or (path / RUNS_FOLDER).is_dir())


def runs_of_store(folder: Path | None) -> list[StoredRun]:
    store = RunStore(folder)
    return [store.load_run(summary["run_id"]) for summary in store.summaries()]


def collect_runs(
    arguments: list[str], personas: list[Persona], store_folder: str | None,
) -> tuple[list[tuple[str, StoredRun]], list[tuple[str, str]]]:
    """Resolve each argument to runs: a store folder, a stored run id, or log files.

    Returns (source, run) pairs and (argument, error) pairs for what failed.
    """
    matcher = PersonaMatcher(personas)
    runs: list[tuple[str, StoredRun]] = []
    failed: list[tuple[str, str]] = []
    default_store: RunStore | None = None

    for argument in arguments:
        path = Path(argument).expanduser()
        try:
            if is_store_folder(path):
                runs.extend((f"{argument} run {run.run_id}", run) for run in runs_of_store(path))
                continue

            if not path.exists() and RUN_ID_PATTERN.fullmatch(argument):
                default_store = default_store or RunStore(store_folder)
                if default_store.files.exists(argument):
                    runs.append((f"run {argument}", default_store.load_run(argument)))
                    continue

            files, missing = expand_paths([argument])
            failed.extend(missing)
            for file in files:
                try:
                    parsed = read_log_file(file, matcher)
                except (LogFormatError, ValueError, OSError) as error:
                    failed.append((str(file), str(error)))
                    continue
                failed.extend((str(file), line_error) for line_error in parsed.line_errors)
                runs.extend((str(file), run) for run in parsed.runs)
        except StoreError as error:
            failed.append((argument, str(error)))

    return runs, failed


# --- output --------------------------------------------------------------------------


def format_score(value: float | None) -> str:
    return "not scored" if value is None else f"{value:.3f}"


def print_scores(console: Console, result: RunScores) -> None:
    """Print a run's source, identity, per-turn table and how it was scored."""
    console.print(Text(result.source, style="bold"))
    console.print(Text(f"run {result.run_id}, model {result.model}, agent {result.agent_label}"))
    if result.turns:
        console.print(scores_table(result))
    console.print(Text(result.note, style="green" if result.turns else "yellow"))
    console.print()


def scores_table(result: RunScores) -> Table:
    table = Table()
    table.add_column("turn", justify="right")
    table.add_column("samples", justify="right")
    table.add_column("score", justify="right")
    table.add_column("published", justify="right")

    for turn in result.turns:
        table.add_row(str(turn["turn"]), str(turn["samples"]), format_score(turn["score"]),
                      format_score(turn["published"]))

    mean_score, mean_published = result.means()
    if result.turns:
        table.add_section()
        table.add_row("mean", "", format_score(mean_score), format_score(mean_published))
    return table


# --- the command ----------------------------------------------------------------------


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "score",
        help="score stored runs or log files per turn, or one text with --persona N",
        description="Score the probe answers of stored runs (run ids or store folders) or of log "
        "files (pickles, JSONL exports, folders, globs) with the agent persona's scorer. "
        "baseline_run.py logs have no probe answers: their agent turns are scored directly "
        "when the persona's rule applies to any reply. With --persona N, score TEXT (or "
        "standard input) and print score, published and the scorer's description as JSON.",
    )
    parser.add_argument("inputs", nargs="*", metavar="PATH_OR_TEXT",
                        help="run ids, store folders, log files, folders or globs, or with --persona the text to score")
    parser.add_argument("--persona", type=int, default=None, metavar="N",
                        help="score TEXT with persona N's scorer (0..99 in the built-in set) instead of scoring runs")
    parser.add_argument("--personas", default=None, metavar="SOURCE",
                        help="score with a custom persona set (a .json, .jsonl or .csv file, a saved dataset "
                        "folder or a cached dataset name) instead of the built-in personas.json")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--store", default=None, metavar="FOLDER",
                        help="data folder where run ids are looked up (default: $SELFCHAT_DIR or ./selfchat)")
    parser.set_defaults(handler=run_score)


def run_score(arguments: argparse.Namespace) -> int:
    """Score one text (--persona) or the runs that the arguments name, and return the exit code."""
    try:
        personas = load_persona_set(arguments.personas).personas
    except PersonaFileError as error:
        logger.error("score stopped: %s", error)
        print(neutralise_controls(f"model-drift score: {error}"), file=sys.stderr)
        return 2

    if arguments.persona is not None:
        return score_one_text(arguments, personas)

    if not arguments.inputs:
        print("model-drift score: give run ids, store folders or log files, "
              "or --persona N TEXT to score one text", file=sys.stderr)
        return 2

    runs, failed = collect_runs(arguments.inputs, personas, arguments.store)
    results = [score_run(run, source, personas) for source, run in runs]

    if arguments.json:
        print(json.dumps({"runs": [result.to_json() for result in results],
                          "failed": [{"source": name, "error": error} for name, error in failed]},
                         ensure_ascii=False, indent=2))
    else:
        console = Console()
        for result in results:
            print_scores(console, result)

    for name, error in failed:
        logger.warning("score skipped %s: %s", name, error)
        print(neutralise_controls(f"model-drift score: skipped {name}: {error}"), file=sys.stderr)
    return 1 if failed else 0


def score_one_text(arguments: argparse.Namespace, personas: list[Persona]) -> int:
    index = arguments.persona
    if not 0 <= index < len(personas):
        print(f"model-drift score: unknown persona index {index}: use 0..{len(personas) - 1}", file=sys.stderr)
        return 2

    persona = personas[index]
    if persona.scorer is None:
        print(f"model-drift score: persona {index} has no scorer (its 'scorer' is null): "
              f"pick another persona", file=sys.stderr)
        return 2

    if arguments.inputs:
        text = " ".join(arguments.inputs)
    else:
        # The line break that ends piped input (echo, a file) is not part of the text.
        text = sys.stdin.read().removesuffix("\n").removesuffix("\r")
    print(json.dumps({
        "persona": index,
        "score": persona.scorer.score(text),
        "published": persona.scorer.published(text),
        "description": persona.scorer.description,
    }, ensure_ascii=False))
    return 0
