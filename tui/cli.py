"""The `model-drift` command: the TUI by default, `chat` and `run` subcommands.

    model-drift                      open the persona picker
    model-drift chat --agent A ...   start a live chat directly in the TUI
    model-drift run --agent A ...    run headless with a progress display

Flags follow the published run.py: --model_name --agent --user --turns
--runs --seed --topic, where -1 draws a value with the seed.
"""

from __future__ import annotations

import argparse
import logging
import sys

from engine.config import RunConfig, Sampling
from engine.models import resolve_model
from engine.settings import configure_logging

logger = logging.getLogger(__name__)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the published run.py flags and our sampling flags to `parser`."""
    parser.add_argument(
        "--model_name", "--model", dest="model_name", default="local",
        help="model: 'local' (built-in SmolLM2-135M-Instruct), a .gguf path, or BACKEND:MODEL "
        "such as scripted:demo (default: local)",
    )
    parser.add_argument("--agent", type=int, default=-1, help="agent persona index 0..99; -1 draws one with the seed")
    parser.add_argument("--user", type=int, default=-1, help="user persona index 0..99; -1 draws one with the seed")
    parser.add_argument("--turns", type=int, default=8, help="history length in entries, starter included (default 8)")
    parser.add_argument("--runs", type=int, default=2, help="probe samples after each agent turn (default 2)")
    parser.add_argument("--seed", type=int, default=1, help="seed for draws and sampling (default 1)")
    parser.add_argument("--topic", type=int, default=-1, help="starter index 0..44; -1 draws one with the seed")
    parser.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (default 1.0)")
    parser.add_argument("--top_p", type=float, default=0.9, help="nucleus sampling mass (default 0.9)")
    parser.add_argument("--max_tokens", type=int, default=400, help="maximum new tokens per reply (default 400)")
    parser.add_argument(
        "--fluency_gate", action="store_true",
        help="multiply probe scores by the published 'fluent English' check (off for French personas)",
    )


def config_from_arguments(arguments: argparse.Namespace) -> RunConfig:
    """Build a RunConfig from parsed flags; ValueError for an unknown model."""
    backend, model = resolve_model(arguments.model_name)
    return RunConfig(
        backend=backend,
        model=model,
        agent=arguments.agent,
        user=arguments.user,
        topic=arguments.topic,
        seed=arguments.seed,
        turns=arguments.turns,
        runs=arguments.runs,
        fluency_gate=arguments.fluency_gate,
        sampling=Sampling(
            temperature=arguments.temperature,
            top_p=arguments.top_p,
            max_tokens=arguments.max_tokens,
        ),
    )


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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `model-drift` console command."""
    arguments = build_parser().parse_args(argv)
    log_path = configure_logging()
    logger.info("model-drift started: %s", arguments.command or "picker")

    config = None
    if arguments.command in ("chat", "run"):
        try:
            config = config_from_arguments(arguments)
        except ValueError as error:
            print(f"model-drift: {error}", file=sys.stderr)
            return 2

    if arguments.command == "run":
        from tui.headless import run_headless

        return run_headless(config, log_path)

    from tui.app import DriftApp

    DriftApp(start_config=config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
