"""The `model-drift` command: the TUI by default, `chat` and `run` subcommands.

    model-drift                      open the persona picker
    model-drift chat --agent A ...   start a live chat directly in the TUI
    model-drift run --agent A ...    run headless with a progress display
    model-drift baseline --decoding greedy|nucleus|best_of_n ...
                                     the same with a decoding baseline
    model-drift models               list model aliases, backends and which keys are set

Flags follow the published run.py: --model_name --agent --user --turns
--runs --seed --topic, where -1 draws a value with the seed.
"""

from __future__ import annotations

import argparse
import logging
import sys

from engine.printable import neutralise_controls
from engine.backends import backend_status
from engine.config import STRATEGIES, Decoding, RunConfig, Sampling
from engine.models import MODEL_ALIASES, resolve_model
from engine.persona_sources import PersonaSet, load_persona_set
from engine.settings import DataFolderError, configure_logging, writable_data_dir
from tui.commands import add_parsers as add_command_parsers

logger = logging.getLogger(__name__)


def add_run_arguments(parser: argparse.ArgumentParser, counts_replies: bool = False) -> None:
    """Add the published run.py flags and our sampling flags to `parser`.

    With `counts_replies`, --turns counts generated replies as baseline_run.py does.
    """
    parser.add_argument(
        "--model_name", "--model", dest="model_name", default="local",
        help="model: 'local' (built-in SmolLM2-135M-Instruct), a .gguf path, an alias such as "
        "llama2_chat_70B, a name containing 'gpt' (OpenAI), a Replicate id owner/name, or BACKEND:MODEL "
        "such as openai:llama3.2 (default: local); 'model-drift models' lists them",
    )
    parser.add_argument(
        "--agent", type=int, default=-1,
        help="agent persona index (0..99 in the built-in set); -1 draws one with the seed",
    )
    parser.add_argument(
        "--user", type=int, default=-1,
        help="user persona index (0..99 in the built-in set); -1 draws one with the seed",
    )
    add_personas_argument(parser)
    if counts_replies:
        parser.add_argument(
            "--turns", type=int, default=20, dest="replies", metavar="TURNS",
            help="generated replies, as baseline_run.py counts them; the history has one entry more, "
            "the starter (default %(default)s)",
        )
    else:
        parser.add_argument(
            "--turns", type=int, default=8, help="history length in entries, starter included (default %(default)s)"
        )
    parser.add_argument("--runs", type=int, default=2, help="probe samples after each agent turn (default 2)")
    parser.add_argument("--seed", type=int, default=1, help="seed for draws and sampling (default %(default)s)")
    parser.add_argument("--topic", type=int, default=-1, help="starter index 0..44; -1 draws one with the seed")
    parser.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (default %(default)s)")
    parser.add_argument("--top_p", type=float, default=0.9, help="nucleus sampling mass (default 0.9)")
    parser.add_argument("--max_tokens", type=int, default=400, help="maximum new tokens per reply (default 400)")

    parser.add_argument(
        "--base_url", default=None,
        help="base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 "
        "(default: OPENAI_BASE_URL, or OpenAI's; for replicate: REPLICATE_BASE_URL)",
    )
    parser.add_argument(
        "--timeout", type=float, default=None,
        help="seconds to wait for a connection or the next piece of a reply before the attempt "
        "fails and is retried (default 60; openai and replicate only)",
    )
    parser.add_argument(
        "--fluency_gate", action="store_true",
        help="multiply probe scores by the published 'fluent English' check (off for French personas)",
    )


def add_personas_argument(parser: argparse.ArgumentParser) -> None:
    """Add --personas, the custom persona set, to `parser`."""
    parser.add_argument(
        "--personas", default=None, metavar="SOURCE",
        help="custom persona set instead of the built-in personas.json: a .json list, a .jsonl file, a .csv "
        "file (columns system_prompt, probe_question, category, score_rule, scorer as JSON, optional index), "
        "a folder written by Dataset.save_to_disk, or a Hugging Face dataset name[:split] in the local cache",
    )


def add_decoding_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the published baseline_run.py decoding flags, with its defaults, to `parser`."""
    parser.set_defaults(temperature=0.7, seed=42)
    parser.add_argument(
        "--decoding", choices=STRATEGIES, default="nucleus",
        help="greedy (temperature 0), nucleus (top_p and temperature) or best_of_n (default nucleus)",
    )
    parser.add_argument("--best_of_n", type=int, default=5, help="candidates per turn for best_of_n (default 5)")
    parser.add_argument("--alpha", type=float, default=1.0, help="best_of_n weight of persona similarity (default 1.0)")
    parser.add_argument("--beta", type=float, default=0.5, help="best_of_n weight of context similarity (default 0.5)")
    parser.add_argument("--gamma", type=float, default=0.0, help="best_of_n weight per word of length (default 0.0)")


def decoding_from_arguments(arguments: argparse.Namespace) -> Decoding:
    """Return the decoding settings of parsed flags; the default when no decoding flag exists."""
    if not hasattr(arguments, "decoding"):
        return Decoding()
    return Decoding(
        strategy=arguments.decoding,
        best_of_n=arguments.best_of_n,
        alpha=arguments.alpha,
        beta=arguments.beta,
        gamma=arguments.gamma,
    )


def config_from_arguments(arguments: argparse.Namespace, persona_set: PersonaSet | None = None) -> RunConfig:
    """Build a RunConfig from parsed flags; ValueError for an unknown model.

    The config names `persona_set`, or the set that --personas loads when none
    is given. PersonaFileError (a ValueError) for an invalid set.
    """
    backend, model = resolve_model(arguments.model_name)
    if persona_set is None and getattr(arguments, "personas", None) is not None:
        persona_set = load_persona_set(arguments.personas)
    return RunConfig(
        backend=backend,
        model=model,
        agent=arguments.agent,
        user=arguments.user,
        topic=arguments.topic,
        seed=arguments.seed,
        turns=arguments.replies + 1 if hasattr(arguments, "replies") else arguments.turns,
        runs=arguments.runs,
        fluency_gate=arguments.fluency_gate,
        decoding=decoding_from_arguments(arguments),
        sampling=Sampling(
            temperature=arguments.temperature,
            top_p=arguments.top_p,
            max_tokens=arguments.max_tokens,
        ),
        base_url=arguments.base_url,
        timeout=arguments.timeout,
        personas=persona_set.identity if persona_set is not None else None,
    )


def models_table() -> str:
    """Return the text of `model-drift models`: aliases, naming rules and backends with key presence."""
    lines = ["Aliases:"]
    width = max(len(alias) for alias in MODEL_ALIASES)
    for alias, (backend, model) in MODEL_ALIASES.items():
        lines.append(f"  {alias:<{width}}  {backend}:{model}")

    lines += [
        "",
        "Other names: 'local' or a .gguf path runs locally; a name containing 'gpt' goes to openai;",
        "owner/name goes to replicate; BACKEND:MODEL names the backend explicitly.",
        "",
        "Backends:",
    ]
    for status in backend_status():
        info = status.info
        if info.key_variable is None:
            key = "no key needed"
        else:
            key = f"{info.key_variable} {'set' if status.key_set else 'not set'}"
        line = f"  {info.name:<10} {info.description}; {key}"
        if info.base_url_variable:
            line += f"; {info.base_url_variable} {status.base_url or 'not set'}"
        lines.append(line)
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `model-drift` command."""
    parser = argparse.ArgumentParser(
        prog="model-drift",
        description="Watch whether a chatbot keeps to its system prompt as a conversation grows.",
    )
    commands = parser.add_subparsers(dest="command")

    chat = commands.add_parser("chat", help="start a live chat in the TUI")
    add_run_arguments(chat)

    run = commands.add_parser("run", help="run a self-chat headless and print stability per turn")
    add_run_arguments(run)

    baseline = commands.add_parser(
        "baseline", help="run a self-chat headless with a decoding baseline: greedy, nucleus or best_of_n"
    )
    add_run_arguments(baseline, counts_replies=True)
    add_decoding_arguments(baseline)

    commands.add_parser("models", help="list model aliases and backends, and which keys are set")
    add_command_parsers(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `model-drift` console command."""
    arguments = build_parser().parse_args(argv)
    if arguments.command == "models":
        print(models_table())
        return 0

    try:
        log_path = configure_logging()
    except OSError as error:
        # Commands that only read still work; those that store runs check the folder below.
        print(neutralise_controls(f"model-drift: no log file, the data folder is unusable: {error}"), file=sys.stderr)
        log_path = None
    logger.info("model-drift started: %s", arguments.command or "picker")
    if hasattr(arguments, "handler"):
        return arguments.handler(arguments)

    try:
        writable_data_dir()
    except DataFolderError as error:
        print(neutralise_controls(f"model-drift: {error}"), file=sys.stderr)
        return 2

    config = None
    personas = None
    if arguments.command in ("chat", "run", "baseline"):
        try:
            persona_set = load_persona_set(arguments.personas) if arguments.personas is not None else None
            config = config_from_arguments(arguments, persona_set)
        except ValueError as error:
            print(neutralise_controls(f"model-drift: {error}"), file=sys.stderr)
            return 2
        if persona_set is not None:
            personas = persona_set.personas

    if arguments.command in ("run", "baseline"):
        from tui.headless import run_headless

        return run_headless(config, log_path, personas=personas)

    from tui.app import DriftApp

    DriftApp(start_config=config, personas=personas).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
