"""`model-drift export`: write stored runs as JSONL, CSV, Parquet, a dataset, Markdown or pickles."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date

from engine.printable import neutralise_controls
from store import RunStore, StoreError
from store.exporter import DATASET_ROWS, FORMATS, RunFilter, export_runs

logger = logging.getLogger(__name__)


def iso_date(text: str) -> date:
    """Parse a YYYY-MM-DD date for argparse."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date {text!r}: use YYYY-MM-DD") from None


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export stored runs (jsonl, csv, parquet, dataset, markdown, pickle)",
        description="Export stored runs. jsonl is lossless and `model-drift import` restores it "
        "exactly. csv and parquet have one row per probe answer. dataset saves a Hugging Face "
        "dataset with save_to_disk. markdown writes one transcript per run into a folder. "
        "pickle writes the published run.py / baseline_run.py layouts into a folder.",
    )
    parser.add_argument("--format", required=True, choices=FORMATS, dest="output_format",
                        help="output format")
    parser.add_argument("--output", required=True, metavar="PATH",
                        help="output file for jsonl, csv and parquet ('-' writes jsonl or csv to standard output), "
                        "or folder for dataset, markdown and pickle")
    parser.add_argument("--rows", choices=DATASET_ROWS, default="probes",
                        help="with --format dataset: one row per probe answer or per run (default: probes)")
    parser.add_argument("--model", default=None, help="export only runs of this model name")
    parser.add_argument("--persona", type=int, default=None, metavar="N",
                        help="export only runs whose agent persona index is N")
    parser.add_argument("--since", type=iso_date, default=None, metavar="YYYY-MM-DD",
                        help="export only runs created on or after this date (UTC)")
    parser.add_argument("--until", type=iso_date, default=None, metavar="YYYY-MM-DD",
                        help="export only runs created on or before this date (UTC)")
    parser.add_argument("--decoding", default=None,
                        help="export only runs with this decoding strategy: greedy, nucleus or best_of_n")
    parser.add_argument("--force", action="store_true", help="replace an existing output file or folder")
    parser.add_argument("--store", default=None, metavar="FOLDER",
                        help="data folder to export from (default: $SELFCHAT_DIR or ./selfchat)")
    parser.set_defaults(handler=run_export)


def run_export(arguments: argparse.Namespace) -> int:
    """Export the runs selected by the filter flags and return the process exit code."""
    run_filter = RunFilter(
        model=arguments.model,
        persona=arguments.persona,
        since=arguments.since,
        until=arguments.until,
        decoding=arguments.decoding,
    )

    if arguments.output_format == "dataset":
        import datasets

        # The bar of save_to_disk would mix with this command's output.
        datasets.disable_progress_bars()

    try:
        result = export_runs(
            RunStore(arguments.store),
            arguments.output_format,
            arguments.output,
            run_filter,
            dataset_rows=arguments.rows,
            overwrite=arguments.force,
        )
    except FileExistsError as error:
        print(neutralise_controls(f"model-drift export: {error}"), file=sys.stderr)
        return 2
    except (StoreError, OSError, ValueError) as error:
        logger.error("export to %s failed: %s", arguments.output, error)
        print(neutralise_controls(f"model-drift export: export to {arguments.output} failed: {error}"), file=sys.stderr)
        return 1

    # Keep standard output clean when the export itself goes there.
    report = sys.stderr if arguments.output == "-" else sys.stdout
    print(f"exported {result.runs} runs ({result.rows} rows) as {arguments.output_format} to {arguments.output}",
          file=report)
    for run_id, error in result.skipped:
        print(neutralise_controls(f"model-drift export: left out run {run_id}: {error}"), file=sys.stderr)
    if result.skipped:
        print(f"{len(result.skipped)} damaged runs were left out; move their files aside or restore them.",
              file=sys.stderr)
        return 1
    if result.runs == 0:
        print("No stored run matches the filters. Check --model, --persona, --since, --until and --decoding.",
              file=sys.stderr)
    return 0
