"""Headless subcommands of `model-drift`: import, export and score.

Each module has `add_parser(subparsers)`, which registers the subcommand and
sets its handler as the `handler` default. `main` calls `handler(arguments)`
and uses the returned exit code.
"""

from __future__ import annotations

import argparse

from tui.commands import export, import_logs, score

COMMAND_MODULES = (import_logs, export, score)


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Register the import, export and score subcommands on `subparsers`."""
    for module in COMMAND_MODULES:
        module.add_parser(subparsers)
