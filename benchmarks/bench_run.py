"""Wall time of a headless run on the built-in model, and prefix reuse per probe.

Runs `model-drift run --agent 9 --user 98 --turns 8 --runs 2 --seed 1` in a
fresh temporary data folder, then reads the stored run and prints, for every
probe answer, the prompt length (the conversation so far plus the probe) and
the prompt tokens llama.cpp actually evaluated. With prefix reuse working, a
probe evaluates little more than its own tokens.

    python benchmarks/bench_run.py [extra model-drift run flags]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from store import RunStore

COMMAND = ["run", "--agent", "9", "--user", "98", "--turns", "8", "--runs", "2", "--seed", "1"]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        environment = dict(os.environ, SELFCHAT_DIR=folder)
        command = [sys.executable, "-m", "tui.cli", *COMMAND, *sys.argv[1:]]

        started = time.perf_counter()
        subprocess.run(command, env=environment, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - started

        store = RunStore(folder)
        summary = store.summaries()[0]
        run = store.load_run(summary["run_id"])

    print(f"wall time: {wall:.1f} s for {' '.join(COMMAND)} (model load included)")
    print("turn sample  prompt_tokens  evaluated  ratio")
    for probe in run.probes:
        prompt = probe["prompt_tokens"]
        evaluated = probe["prompt_tokens_evaluated"]
        print(f"{probe['turn']:>4} {probe['sample']:>6} {prompt:>14} {evaluated:>10} {evaluated / prompt:>6.2f}")

    turns = [turn for turn in run.turns if turn["speaker"] != "starter"]
    generated = sum(turn["completion_tokens"] for turn in turns)
    generated += sum(probe["completion_tokens"] for probe in run.probes)
    print(f"tokens generated: {generated}; stability per agent turn: {run.stability()}")


if __name__ == "__main__":
    main()
