"""`model-drift import PATH...`: add published pickles and our JSONL export to the log.

Exit codes: 0 when every file was imported or already stored, 1 when any
file or pattern failed (the others are still imported), 2 for invalid personas.json.
"""

from __future__ import annotations

import argparse
import logging
import sys

from engine.printable import neutralise_controls
from engine.personas import PersonaFileError, load_personas
from store import RunStore, StoreError
from store.importer import import_logs

logger = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import",
        help="import run.py / baseline_run.py pickles and JSONL exports into the log",
        description="Import published self-chat logs (run.py and baseline_run.py pickles) and "
        "`model-drift export --format jsonl` files. Pickles are read with an unpickler that "
        "allows only dicts, lists and defaultdict(list). Importing a file twice adds nothing.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="log file, folder (searched recursively for .pkl and .jsonl) or glob pattern")
    parser.add_argument("--model", default=None,
                        help="model name for run.py logs, whose model otherwise comes from the file name")
    parser.add_argument("--store", default=None, metavar="FOLDER",
                        help="data folder to import into (default: $SELFCHAT_DIR or ./selfchat)")
    parser.set_defaults(handler=run_import)


def run_import(arguments: argparse.Namespace) -> int:
    """Import the logs that `arguments.paths` name and print what happened to each."""
    try:
        personas = load_personas()
        store = RunStore(arguments.store)
        report = import_logs(arguments.paths, store, personas, model_override=arguments.model)
    except PersonaFileError as error:
        logger.error("import stopped: %s", error)
        print(neutralise_controls(f"model-drift import: {error}"), file=sys.stderr)
        return 2
    except StoreError as error:
        logger.error("import stopped: %s", error)
        print(neutralise_controls(f"model-drift import: {error}"), file=sys.stderr)
        return 1
    except OSError as error:
        logger.error("import stopped: %s", error)
        print(neutralise_controls(f"model-drift import: cannot write the store: {error}; "
                                  "set SELFCHAT_DIR (or --store) to a writable folder"), file=sys.stderr)
        return 1

    for name, run_id in report.added:
        print(neutralise_controls(f"added run {run_id} from {name}"))
    for name, reason in report.failed:
        print(neutralise_controls(f"model-drift import: skipped {name}: {reason}"), file=sys.stderr)

    print(f"{len(report.added)} runs added, {len(report.unchanged)} already stored, "
          f"{len(report.failed)} failed, in {store.root}")
    if report.failed:
        print("Fix or remove the files listed above and import them again. The other runs are stored.",
              file=sys.stderr)
    return 0 if report.ok else 1
