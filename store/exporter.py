"""Export stored runs: select them with filters, then write one of several formats.

Formats (writers in `store.export_formats`):
    jsonl     one run a line with everything stored: the lossless format,
              which `model-drift import` restores exactly
    csv       tidy table, one row per probe answer
    parquet   the same rows as csv
    dataset   a Hugging Face `datasets.Dataset` saved with `save_to_disk`,
              of probe rows or of runs
    markdown  one transcript per run, `<run_id>.md` in a folder
    pickle    the published layouts for old notebooks: run.py's for native
              and run.py runs, baseline_run.py's for imported baseline runs
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from store.errors import StoreError
from store.importer import JSONL_FORMAT, JSONL_VERSION
from store.records import StoredRun, run_header
from store.run_store import RunStore

logger = logging.getLogger(__name__)

FORMATS = ("jsonl", "csv", "parquet", "dataset", "markdown", "pickle")
DATASET_ROWS = ("probes", "runs")

# Columns of the tidy probe table, in order.
PROBE_COLUMNS = (
    "run_id", "model", "backend", "agent", "user", "topic", "seed", "turn", "sample",
    "score", "published", "answer", "decoding", "imported", "created_at",
)


@dataclass(frozen=True)
class RunFilter:
    """Export filters. A field left None matches every run.

    `since` and `until` are inclusive dates compared with the run's creation
    date in UTC (for an imported log, the modification date of its file).
    """

    model: str | None = None
    persona: int | None = None
    since: date | None = None
    until: date | None = None
    decoding: str | None = None

    def matches_summary(self, summary: dict[str, Any]) -> bool:
        """Apply the filters that the index summary can decide, before a run file is read."""
        if self.model is not None and summary.get("model") != self.model:
            return False
        if self.persona is not None and summary.get("agent") != self.persona:
            return False

        created = created_date(summary.get("created_at", ""))
        if self.since is not None and (created is None or created < self.since):
            return False
        if self.until is not None and (created is None or created > self.until):
            return False
        return True

    def matches_run(self, run: StoredRun) -> bool:
        return self.decoding is None or decoding_name(run) == self.decoding


@dataclass
class ExportResult:
    """Counts of exported runs and rows, and the files or folders written."""

    runs: int
    rows: int
    paths: list[Path]
    # Runs left out because their files could not be read: (run id, error message).
    skipped: list[tuple[str, str]] = field(default_factory=list)


def created_date(timestamp: str) -> date | None:
    try:
        return datetime.fromisoformat(timestamp).date()
    except (TypeError, ValueError):
        return None


def decoding_name(run: StoredRun) -> str:
    """Return the run's decoding strategy: greedy, nucleus, best_of_n, or another stored name.

    Imported baseline logs store their strategy. A native run samples with
    temperature and top_p, which is nucleus sampling unless the temperature is 0.
    """
    strategy = run.metadata.get("decoding", {}).get("strategy")
    if isinstance(strategy, str) and strategy:
        return strategy
    if run.config.decoding.strategy != "nucleus":
        return run.config.decoding.strategy
    return "greedy" if run.config.sampling.temperature == 0 else "nucleus"


def select_runs(
    store: RunStore, run_filter: RunFilter, skipped: list[tuple[str, str]] | None = None
) -> Iterator[StoredRun]:
    """Yield the stored runs that match `run_filter`, oldest first.

    A run file that cannot be read is logged, added to `skipped` and left
    out, so one damaged file does not stop an export.
    """
    summaries = [summary for summary in store.summaries() if run_filter.matches_summary(summary)]
    summaries.sort(key=lambda summary: (summary.get("created_at", ""), summary.get("run_id", "")))

    for summary in summaries:
        try:
            run = store.load_run(summary["run_id"])
        except StoreError as error:
            logger.warning("left run %s out of the export: %s", summary.get("run_id"), error)
            if skipped is not None:
                skipped.append((str(summary.get("run_id")), str(error)))
            continue
        if run_filter.matches_run(run):
            yield run


def run_to_json(run: StoredRun) -> dict[str, Any]:
    """Return the JSONL record of a run: a format marker, the run header, turns and probes."""
    return {
        "format": JSONL_FORMAT,
        "version": JSONL_VERSION,
        **run_header(run),
        "turns": run.turns,
        "probes": run.probes,
    }


def probe_rows(run: StoredRun) -> list[dict[str, Any]]:
    """Return one tidy row per stored probe answer of `run`, with the columns PROBE_COLUMNS."""
    decoding = decoding_name(run)
    config = run.config

    return [
        {
            "run_id": run.run_id,
            "model": config.model,
            "backend": config.backend,
            "agent": config.agent,
            "user": config.user,
            "topic": config.topic,
            "seed": config.seed,
            "turn": probe["turn"],
            "sample": probe["sample"],
            "score": probe.get("score"),
            "published": probe.get("published"),
            "answer": probe.get("raw_text", ""),
            "decoding": decoding,
            "imported": run.imported,
            "created_at": run.created_at,
        }
        for probe in run.probes
    ]


def export_runs(
    store: RunStore,
    output_format: str,
    output: Path | str,
    run_filter: RunFilter | None = None,
    *,
    dataset_rows: str = "probes",
    overwrite: bool = False,
) -> ExportResult:
    """Write the runs matching `run_filter` to `output` in `output_format`.

    Raises ValueError for an unknown format or row kind, and FileExistsError
    when `output` exists (a non-empty folder for folder formats) and
    `overwrite` is False.
    """
    from store import export_formats

    if output_format not in FORMATS:
        raise ValueError(f"unknown export format {output_format!r}: use one of {', '.join(FORMATS)}")
    if dataset_rows not in DATASET_ROWS:
        raise ValueError(f"unknown dataset rows {dataset_rows!r}: use one of {', '.join(DATASET_ROWS)}")

    output_path = Path(output)
    export_formats.check_output(output_path, output_format, overwrite=overwrite)

    skipped: list[tuple[str, str]] = []
    runs = select_runs(store, run_filter or RunFilter(), skipped)
    writer = export_formats.WRITERS[output_format]
    if output_format == "dataset":
        result = writer(runs, output_path, rows=dataset_rows)
    else:
        result = writer(runs, output_path)
    result.skipped = skipped

    logger.info("exported %d runs (%d rows) as %s to %s", result.runs, result.rows, output_format, output_path)
    return result
