"""Benchmark `model-drift import` of many logs and `export` of many runs.

Not a test. Run from the repository root:

    PYTHONPATH=. python benchmarks/bench_import_export.py [--logs 1000]

Generates logs in a temporary folder from the samples in tests/data/selfchat,
each with its own seed, so that every log is a distinct run: half keep the
baseline_run.py layout, half are rewritten in run.py's layout with two probe
answers per agent turn (the agent's own replies), so that the Parquet export
has probe rows and the import scores them. Then it times, on a fresh data folder:
    import of all logs (safe unpickling, persona matching, scoring, storing),
    a second import of the same logs (all already stored),
    export of all runs to Parquet, and to JSONL.
"""

from __future__ import annotations

import argparse
import collections
import os
import pickle
import tempfile
import time
from pathlib import Path

from store import RunStore, safe_pickle
from store.exporter import export_runs
from store.importer import import_logs

SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "data" / "selfchat"


def run_py_version(log: dict) -> dict:
    """Rewrite a baseline log in run.py's layout, with the agent replies as probe answers."""
    history = log["history"]
    probes = collections.defaultdict(list)
    for turn in range(2, len(history) + 1, 2):
        probes[turn] += [history[turn - 1], history[turn - 1].upper()]
    return {"topic": log["topic"], "history": history, "probed_history_per_turn": probes,
            "seed": log["seed"], "persona": log["persona"], "user": log["user"]}


def generate_logs(folder: Path, count: int) -> None:
    """Write `count` logs, cycling over the samples and giving each a new seed."""
    samples = [(path, safe_pickle.load_file(path)) for path in sorted(SAMPLES.glob("*.pkl"))]

    for number in range(count):
        path, log = samples[number % len(samples)]
        seed = 1000 + number
        if number % 2 == 0:
            varied = {**log, "seed": seed, "config": {**log["config"], "seed": seed}}
            name = path.name.rsplit("_seed_", 1)[0] + f"_seed_{seed}.pkl"
        else:
            varied = run_py_version({**log, "seed": seed})
            model = log["model_name"].replace("/", "_")
            name = f"{model}_agent_{log['persona_id']}_user_{log['user_id']}_turn_{len(log['history'])}_{seed}.pkl"
        (folder / name).write_bytes(pickle.dumps(varied, protocol=pickle.HIGHEST_PROTOCOL))


def timed(label: str, function) -> object:
    start = time.perf_counter()
    result = function()
    elapsed = time.perf_counter() - start
    print(f"{label:<40} {elapsed:8.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=1000, help="number of logs to generate (default 1000)")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        logs = root / "logs"
        logs.mkdir()
        generate_logs(logs, arguments.logs)
        size = sum(path.stat().st_size for path in logs.iterdir())
        print(f"{arguments.logs} logs, {size / 1e6:.1f} MB, on {os.cpu_count()} CPUs")

        store = RunStore(root / "store")
        report = timed(f"import {arguments.logs} logs", lambda: import_logs([logs], store))
        print(f"  added {len(report.added)}, failed {len(report.failed)}")
        report = timed(f"import again (all stored)", lambda: import_logs([logs], store))
        print(f"  added {len(report.added)}, unchanged {len(report.unchanged)}")

        result = timed(f"export {arguments.logs} runs to Parquet", lambda: export_runs(store, "parquet", root / "probes.parquet"))
        print(f"  {result.runs} runs, {result.rows} probe rows")
        result = timed(f"export {arguments.logs} runs to JSONL", lambda: export_runs(store, "jsonl", root / "runs.jsonl"))
        print(f"  {result.runs} runs, {(root / 'runs.jsonl').stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
