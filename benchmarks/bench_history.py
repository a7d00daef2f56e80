"""Time to open the History screen with 10,000 stored runs (goal: under 1 s).

    /work/venv/bin/python benchmarks/bench_history.py [--runs 10000] [--repeat 3]

The runs are synthetic summaries written straight into the index of a
temporary data folder. History reads only the index (`summaries()`), so no
run file is needed to draw the list.

It prints two times from pushing the screen: until its first rows are in the
table (the screen is usable), and until every row is. The app runs headless
(Textual Pilot), so drawing to a real terminal is not included. It also
prints the time `summaries()` takes.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

from textual.widgets import DataTable

from engine.personas import load_personas
from store import RunStore
from tui.app import DriftApp
from tui.screens.history import FIRST_STEP_ROWS, HistoryScreen, MAX_TABLE_ROWS

STATUSES = ("finished", "finished", "finished", "stopped", "failed")
MODELS = (("local", "smollm2-135m-instruct"), ("scripted", "demo"), ("openai", "gpt-4o-mini"))


def synthetic_summaries(count: int, seed: int = 0) -> list[dict]:
    """Return `count` summaries shaped like `StoredRun.summary()`, with varied values."""
    rng = random.Random(seed)
    personas = load_personas()
    summaries = []

    for number in range(count):
        agent, user = rng.sample(personas, 2)
        backend, model = rng.choice(MODELS)
        turns = rng.choice((8, 8, 16, 20))
        status = rng.choice(STATUSES)
        completed = turns if status == "finished" else rng.randrange(1, turns)
        mean = round(rng.random(), 3) if completed >= 2 else None
        created = f"2025-{1 + number % 12:02d}-{1 + number % 28:02d}T{number % 24:02d}:{number % 60:02d}:00.000+00:00"
        summaries.append(
            {
                "run_id": f"{number:016x}",
                "created_at": created,
                "updated_at": created,
                "status": status,
                "backend": backend,
                "model": model,
                "agent": agent.index,
                "user": user.index,
                "agent_label": agent.label,
                "user_label": user.label,
                "topic": rng.randrange(45),
                "seed": rng.randrange(100),
                "turns": turns,
                "completed_turns": completed,
                "mean_stability": mean,
                "last_stability": None if mean is None else round(rng.random(), 3),
                "imported": False,
                "error": "RuntimeError: synthetic" if status == "failed" else None,
            }
        )
    return summaries


async def time_open_history(store: RunStore, expected_rows: int) -> tuple[float, float]:
    """Return the seconds from pushing the History screen to its first rows, and to its complete table."""
    app = DriftApp(store=store, personas=load_personas())
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        started = time.perf_counter()

        screen = HistoryScreen()
        app.push_screen(screen)
        while not screen.is_mounted or screen.query_one("#run-table", DataTable).row_count < min(
            FIRST_STEP_ROWS, expected_rows
        ):
            await asyncio.sleep(0.001)
        table = screen.query_one("#run-table", DataTable)
        first_rows = time.perf_counter() - started

        await app.workers.wait_for_complete()
        await pilot.pause()
        all_rows = time.perf_counter() - started

        if table.row_count != expected_rows:
            raise RuntimeError(f"History shows {table.row_count} rows, expected {expected_rows}")
    return first_rows, all_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="stored runs to list (default 10000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed openings (default 3)")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="model-drift-bench-") as folder:
        store = RunStore(Path(folder))
        store.index.replace_all(synthetic_summaries(arguments.runs))

        started = time.perf_counter()
        summaries = store.summaries()
        read_seconds = time.perf_counter() - started

        shown = min(len(summaries), MAX_TABLE_ROWS)
        openings = [asyncio.run(time_open_history(store, shown)) for _ in range(arguments.repeat)]

    first = statistics.median(seconds for seconds, _ in openings)
    full = statistics.median(seconds for _, seconds in openings)
    print(f"runs listed:                  {len(summaries)}")
    print(f"read summaries():             {read_seconds * 1000:.0f} ms")
    print(f"History, first {FIRST_STEP_ROWS} rows shown: {first * 1000:.0f} ms (median of {arguments.repeat})")
    print(f"History, complete ({shown} rows, sort and filter over all): {full * 1000:.0f} ms (median of {arguments.repeat})")
    print("goal:                         under 1000 ms")


if __name__ == "__main__":
    main()
