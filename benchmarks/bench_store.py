"""Benchmark the conversation log: turn append cost against stored-run count, and summaries().

Not a test. Run from the repository root:

    PYTHONPATH=. python benchmarks/bench_store.py [--runs 10000] [--appends 100]

Builds a small and a large data folder in a temporary directory (the large one
written in bulk, without fsync), then times `RunStore.record(TurnFinished)`
alternately on both, so disk noise hits both alike. Goals: append ratio
large/small <= 1.5; `summaries()` on the large folder under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from engine.config import RunConfig
from engine.events import ProbeScored, RunFinished, TurnFinished
from store import RunStore, StoredRun
from store.records import FINISHED, RUNNING, probe_record, run_header, starter_record, turn_record

SMALL_RUN_COUNT = 10
RUNNING_SHARE = 0.002  # Runs left "running" by a killed process; summaries() reads their files.
TURNS_PER_STORED_RUN = 8
REPLY = "Arr, the sea be wide and the wind be fair, matey. " * 6


def stored_run(seed: int, status: str) -> StoredRun:
    """Build a finished-looking run with turns and two probe answers per agent turn."""
    config = RunConfig(agent=seed % 100, user=(seed * 7) % 100, topic=seed % 45, seed=seed)
    run = StoredRun(
        run_id=config.run_id(),
        config=config,
        created_at=f"2025-01-01T00:00:{seed % 60:02d}.000+00:00",
        status=status,
        agent_prompt="You are a pirate. Always talk like one.",
        user_prompt="You are a patient teacher.",
        agent_label="pirate",
        user_label="teacher",
        starter="What do you think about the sea?",
    )
    run.turns.append(starter_record(run.starter))

    for turn in range(2, TURNS_PER_STORED_RUN + 1):
        speaker = "agent" if turn % 2 == 0 else "user"
        run.turns.append(turn_record(TurnFinished(run.run_id, turn, speaker, REPLY, REPLY, 100, 80, 1.5)))
        if speaker == "agent":
            for sample in range(2):
                probe = ProbeScored(run.run_id, turn, sample, REPLY, 0.5, 0.5, 120, 40, 1.0)
                run.probes.append(probe_record(probe))
    return run


def tinydb_table(documents: list[dict]) -> dict[str, dict]:
    return {str(doc_id): document for doc_id, document in enumerate(documents, start=1)}


def build_folder(root: Path, run_count: int) -> None:
    """Write `run_count` run files and their index in bulk, in RunStore's file layout."""
    store = RunStore(root)
    running_every = max(1, int(1 / RUNNING_SHARE))
    summaries = []

    for seed in range(run_count):
        status = RUNNING if seed % running_every == 0 else FINISHED
        run = stored_run(seed + 1_000_000, status)
        layout = {"run": tinydb_table([run_header(run)]), "turns": tinydb_table(run.turns),
                  "probes": tinydb_table(run.probes)}
        store.files.path_for(run.run_id).write_text(json.dumps(layout), encoding="utf-8")
        summaries.append(run.summary())

    store.index.replace_all(summaries)


def time_call(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def open_fresh_run(store: RunStore, seed: int) -> str:
    config = RunConfig(agent=1, user=2, topic=0, seed=seed)
    run = store.open_run(config, agent_prompt="a", user_prompt="u", agent_label="a", user_label="u",
                         starter="s")
    return run.run_id


def measure(run_count: int, appends: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench_store_") as temp:
        small_root, large_root = Path(temp) / "small", Path(temp) / "large"

        build_started = time.perf_counter()
        build_folder(small_root, SMALL_RUN_COUNT)
        build_folder(large_root, run_count)
        # Flush the bulk-written files now: a real store wrote them with fsync over time,
        # and their pending writeback would otherwise land in the timed fsyncs.
        os.sync()
        print(f"built folders with {SMALL_RUN_COUNT} and {run_count} runs "
              f"in {time.perf_counter() - build_started:.1f} s")

        small, large = RunStore(small_root), RunStore(large_root)
        open_small = time_call(lambda: open_fresh_run(small, 1))
        open_large = time_call(lambda: open_fresh_run(large, 1))
        small_id, large_id = open_fresh_run(small, 1), open_fresh_run(large, 1)

        # Alternate the two stores turn by turn, so drift in disk speed affects both alike.
        small_times, large_times = [], []
        for turn in range(2, appends + 2):
            speaker = "agent" if turn % 2 == 0 else "user"
            small_times.append(time_call(lambda: small.record(
                TurnFinished(small_id, turn, speaker, REPLY, REPLY, 100, 80, 1.5))))
            large_times.append(time_call(lambda: large.record(
                TurnFinished(large_id, turn, speaker, REPLY, REPLY, 100, 80, 1.5))))

        finish_large = time_call(lambda: large.record(RunFinished(large_id)))
        summaries_small = [time_call(small.summaries) for _ in range(5)]
        summaries_large = [time_call(large.summaries) for _ in range(5)]
        listed = len(large.summaries())

    small_median, large_median = statistics.median(small_times), statistics.median(large_times)
    ratio = large_median / small_median
    summaries_median = statistics.median(summaries_large)

    print(f"append one turn, median of {appends}: {small_median * 1000:.2f} ms with {SMALL_RUN_COUNT} runs, "
          f"{large_median * 1000:.2f} ms with {run_count} runs; ratio {ratio:.2f} (goal <= 1.5)")
    print(f"open_run (new run, index write): {open_small * 1000:.1f} ms with {SMALL_RUN_COUNT} runs, "
          f"{open_large * 1000:.1f} ms with {run_count} runs")
    print(f"RunFinished (run file + index write) with {run_count} runs: {finish_large * 1000:.1f} ms")
    print(f"summaries(), median of 5: {statistics.median(summaries_small) * 1000:.1f} ms with "
          f"{SMALL_RUN_COUNT} runs, {summaries_median * 1000:.1f} ms with {run_count} runs "
          f"({listed} listed, {RUNNING_SHARE:.1%} still running; goal < 1000 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="runs stored in the large folder")
    parser.add_argument("--appends", type=int, default=100, help="turns appended to time, per folder")
    arguments = parser.parse_args()
    measure(arguments.runs, arguments.appends)


if __name__ == "__main__":
    main()
