"""Writers of the export formats. `store.exporter` selects the runs and calls them.

File formats (jsonl, csv, parquet) are written to a temporary file in the
same folder and renamed, so an interrupted export leaves no partial file.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import pickle
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from engine.printable import neutralise_controls
from engine.protocol import fold_reply
from store.exporter import PROBE_COLUMNS, ExportResult, decoding_name, probe_rows, run_to_json
from store.importer import BASELINE_LAYOUT, RUN_PY_LAYOUT
from store.records import StoredRun

logger = logging.getLogger(__name__)

FOLDER_FORMATS = ("dataset", "markdown", "pickle")

# Column types of the probe table in Parquet and in the dataset.
PROBE_TYPES = {
    "run_id": "string", "model": "string", "backend": "string", "agent": "int64", "user": "int64",
    "topic": "int64", "seed": "int64", "turn": "int64", "sample": "int64", "score": "float64",
    "published": "float64", "answer": "string", "decoding": "string", "imported": "bool",
    "created_at": "string",
}

# Turn-record keys that baseline_run.py keeps in `turn_stats`. The rest of a
# turn's extra keys came from `best_of_n_logs`.
TURN_STATS_KEYS = ("prompt_tokens_est", "response_tokens_est", "latency_sec")
BEST_OF_N_KEYS = ("selected_index", "candidates")


def check_output(path: Path, output_format: str, *, overwrite: bool) -> None:
    """Raise FileExistsError when writing `path` would replace data and `overwrite` is False."""
    if overwrite:
        return
    if output_format in FOLDER_FORMATS:
        if path.is_file() or (path.is_dir() and any(path.iterdir())):
            raise FileExistsError(f"{path} exists and is not an empty folder: choose another --output or pass --force")
    elif path.exists() and str(path) != "-":
        raise FileExistsError(f"{path} exists: choose another --output or pass --force")


@contextmanager
def replaced_atomically(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Yield a temporary file next to `path` that replaces `path` when the block ends without error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)

    try:
        encoding = None if "b" in mode else "utf-8"
        newline = "" if "b" not in mode else None
        with os.fdopen(descriptor, mode, encoding=encoding, newline=newline) as handle:
            yield handle
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


@contextmanager
def text_output(path: Path) -> Iterator[IO[str]]:
    """Yield standard output for the path "-", otherwise an atomically replaced text file."""
    if str(path) == "-":
        import sys

        yield sys.stdout
        return
    with replaced_atomically(path) as handle:
        yield handle


# --- tables -----------------------------------------------------------------------


def write_jsonl(runs: Iterable[StoredRun], path: Path) -> ExportResult:
    count = 0
    with text_output(path) as handle:
        for run in runs:
            handle.write(json.dumps(run_to_json(run), ensure_ascii=False))
            handle.write("\n")
            count += 1
    return ExportResult(runs=count, rows=count, paths=[path])


def write_csv(runs: Iterable[StoredRun], path: Path) -> ExportResult:
    run_count = 0
    row_count = 0
    with text_output(path) as handle:
        writer = csv.DictWriter(handle, fieldnames=PROBE_COLUMNS)
        writer.writeheader()
        for run in runs:
            rows = probe_rows(run)
            writer.writerows(rows)
            run_count += 1
            row_count += len(rows)
    return ExportResult(runs=run_count, rows=row_count, paths=[path])


def collect_probe_rows(runs: Iterable[StoredRun]) -> tuple[int, list[dict[str, Any]]]:
    run_count = 0
    rows: list[dict[str, Any]] = []
    for run in runs:
        rows.extend(probe_rows(run))
        run_count += 1
    return run_count, rows


def probe_table(rows: list[dict[str, Any]]) -> Any:
    """Return the probe rows as a pyarrow Table with fixed column types, also when empty."""
    import pyarrow as pa

    schema = pa.schema([(name, pa.type_for_alias(PROBE_TYPES[name])) for name in PROBE_COLUMNS])
    return pa.Table.from_pylist(rows, schema=schema)


def write_parquet(runs: Iterable[StoredRun], path: Path) -> ExportResult:
    import pyarrow.parquet as parquet

    run_count, rows = collect_probe_rows(runs)
    table = probe_table(rows)
    with replaced_atomically(path, "wb") as handle:
        parquet.write_table(table, handle)
    return ExportResult(runs=run_count, rows=len(rows), paths=[path])


# --- Hugging Face dataset -------------------------------------------------------------


def run_row(run: StoredRun) -> dict[str, Any]:
    """Return one dataset row per run: the main facts as columns, and the full JSONL record."""
    stability = run.stability()
    return {
        "run_id": run.run_id,
        "model": run.config.model,
        "backend": run.config.backend,
        "agent": run.config.agent,
        "user": run.config.user,
        "agent_prompt": run.agent_prompt,
        "user_prompt": run.user_prompt,
        "topic": run.config.topic,
        "starter": run.starter,
        "seed": run.config.seed,
        "turns": run.config.turns,
        "status": run.status,
        "decoding": decoding_name(run),
        "imported": run.imported,
        "created_at": run.created_at,
        "texts": [turn["text"] for turn in run.turns],
        "speakers": [turn["speaker"] for turn in run.turns],
        "stability_turns": list(stability),
        "stability": list(stability.values()),
        "mean_stability": run.mean_stability(),
        # Turns and metadata differ in keys between native and imported runs,
        # so the whole run is kept as JSON text rather than as nested columns.
        "record": json.dumps(run_to_json(run), ensure_ascii=False),
    }


def write_dataset(runs: Iterable[StoredRun], path: Path, *, rows: str = "probes") -> ExportResult:
    import datasets

    if rows == "probes":
        run_count, records = collect_probe_rows(runs)
        features = datasets.Features({name: datasets.Value(PROBE_TYPES[name]) for name in PROBE_COLUMNS})
    else:
        records = [run_row(run) for run in runs]
        run_count = len(records)
        features = run_features()

    # Columns built from the features, so that an export of no rows still has them all.
    columns = {name: [record[name] for record in records] for name in features}
    dataset = datasets.Dataset.from_dict(columns, features=features)

    if path.exists():
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    dataset.save_to_disk(str(path))
    return ExportResult(runs=run_count, rows=len(records), paths=[path])


def run_features() -> Any:
    import datasets

    text = datasets.Value("string")
    integer = datasets.Value("int64")
    return datasets.Features({
        "run_id": text, "model": text, "backend": text, "agent": integer, "user": integer,
        "agent_prompt": text, "user_prompt": text, "topic": integer, "starter": text, "seed": integer,
        "turns": integer, "status": text, "decoding": text, "imported": datasets.Value("bool"),
        "created_at": text, "texts": datasets.Sequence(text), "speakers": datasets.Sequence(text),
        "stability_turns": datasets.Sequence(integer), "stability": datasets.Sequence(datasets.Value("float64")),
        "mean_stability": datasets.Value("float64"), "record": text,
    })


# --- Markdown ---------------------------------------------------------------------------


def markdown_transcript(run: StoredRun) -> str:
    """Return a Markdown transcript: run facts, then each turn's text as stored, with probe answers.

    Control characters become visible placeholders, so viewing the file in a
    terminal cannot run escape sequences from model text; JSONL keeps the
    text exactly.
    """
    stability = run.stability()
    probes_by_turn: dict[int, list[dict[str, Any]]] = {}
    for probe in run.probes:
        probes_by_turn.setdefault(probe["turn"], []).append(probe)

    lines = [
        f"# Run {run.run_id}",
        "",
        f"- model: {run.config.model} ({run.config.backend})",
        f"- agent: {run.agent_label}",
        f"- user: {run.user_label}",
        f"- topic {run.config.topic}, seed {run.config.seed}, decoding {decoding_name(run)}",
        f"- status: {run.status}, created {run.created_at}" + (", imported" if run.imported else ""),
        "",
    ]

    for turn in run.turns:
        number = turn["turn"]
        heading = f"## Turn {number}: {turn['speaker']}"
        if number in stability:
            value = stability[number]
            heading += " (stability " + ("not scored" if value is None else f"{value:.3f}") + ")"
        lines += [heading, "", turn["raw_text"], ""]

        for probe in probes_by_turn.get(number, []):
            score = "not scored" if probe.get("score") is None else f"{probe['score']:.3f}"
            lines += [f"### Probe answer {probe['sample']} (score {score})", "", probe["raw_text"], ""]

    return neutralise_controls("\n".join(lines))


def write_markdown(runs: Iterable[StoredRun], path: Path) -> ExportResult:
    path.mkdir(parents=True, exist_ok=True)
    paths = []
    for run in runs:
        target = path / f"{run.run_id}.md"
        with replaced_atomically(target) as handle:
            handle.write(markdown_transcript(run))
        paths.append(target)
    return ExportResult(runs=len(paths), rows=len(paths), paths=paths)


# --- published pickle layouts ------------------------------------------------------------


def run_py_log(run: StoredRun) -> dict[str, Any]:
    """Return a run in run.py's layout: probe answers folded as run.py stores them."""
    probe_table_by_turn: defaultdict[int, list[str]] = defaultdict(list)
    for probe in sorted(run.probes, key=lambda probe: (probe["turn"], probe["sample"])):
        probe_table_by_turn[probe["turn"]].append(fold_reply(probe["raw_text"]))

    return {
        "topic": run.starter,
        "history": [turn["text"] for turn in run.turns],
        "probed_history_per_turn": probe_table_by_turn,
        "seed": run.config.seed,
        "persona": run.agent_prompt,
        "user": run.user_prompt,
    }


def baseline_log(run: StoredRun) -> dict[str, Any]:
    """Return an imported baseline run in baseline_run.py's layout, from its stored turns and metadata."""
    published = run.metadata.get("published", {})
    turn_stats = []
    best_of_n_logs = []

    # Our turn t is baseline_run.py's turn t - 1 (it does not count the starter).
    for turn in run.turns:
        statistics = {key: turn[key] for key in TURN_STATS_KEYS if key in turn}
        if statistics:
            turn_stats.append({"turn": turn["turn"] - 1, **statistics})

        candidates = {key: turn[key] for key in BEST_OF_N_KEYS if key in turn}
        if candidates:
            best_of_n_logs.append({**candidates, "turn": turn["turn"] - 1})

    return {
        "topic": run.starter,
        "history": [turn["text"] for turn in run.turns],
        "seed": run.config.seed,
        "persona_id": published.get("persona_id"),
        "user_id": published.get("user_id"),
        "persona": run.agent_prompt,
        "user": run.user_prompt,
        "decoding_strategy": published.get("decoding_strategy"),
        "model_name": published.get("model_name", run.config.model),
        "config": published.get("config", {}),
        "turn_stats": turn_stats,
        "best_of_n_logs": best_of_n_logs,
        "summary": published.get("summary", {}),
    }


def pickle_file_name(run: StoredRun, layout: str) -> str:
    """Return the published file name of a run: the imported file's own name when it has one."""
    source_name = run.metadata.get("source", {}).get("file")
    if isinstance(source_name, str) and source_name.endswith(".pkl") and "/" not in source_name:
        return source_name

    # baseline_run.py replaces '/' in model ids with '_'. run.py writes such
    # models into subfolders, but the flat name keeps every export in one folder.
    model = run.config.model.replace("/", "_").replace("\\", "_")
    config = run.config
    if layout == BASELINE_LAYOUT:
        published = run.metadata.get("published", {})
        return (f"{model}_agent_{published.get('persona_id')}_user_{published.get('user_id')}"
                f"_turn_{config.turns - 1}_{published.get('decoding_strategy')}_seed_{config.seed}.pkl")
    return f"{model}_agent_{config.agent}_user_{config.user}_turn_{config.turns}.pkl"


def write_pickles(runs: Iterable[StoredRun], path: Path) -> ExportResult:
    path.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    used_names: set[str] = set()

    for run in runs:
        layout = run.metadata.get("source", {}).get("layout", RUN_PY_LAYOUT)
        log = baseline_log(run) if layout == BASELINE_LAYOUT else run_py_log(run)

        name = pickle_file_name(run, layout)
        if name in used_names:
            # run.py names carry no seed or run id, so two runs can share one.
            renamed = f"{name[:-len('.pkl')]}_run_{run.run_id}.pkl"
            logger.warning("two exported runs share the file name %s, so run %s was written as %s", name, run.run_id, renamed)
            name = renamed
        used_names.add(name)

        target = path / name
        with replaced_atomically(target, "wb") as handle:
            pickle.dump(log, handle, protocol=pickle.HIGHEST_PROTOCOL)
        written.append(target)

    return ExportResult(runs=len(written), rows=len(written), paths=written)


WRITERS: dict[str, Callable[..., ExportResult]] = {
    "jsonl": write_jsonl,
    "csv": write_csv,
    "parquet": write_parquet,
    "dataset": write_dataset,
    "markdown": write_markdown,
    "pickle": write_pickles,
}
