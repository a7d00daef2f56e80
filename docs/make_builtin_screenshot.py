"""Save docs/live-chat-builtin.svg: a live chat on the built-in SmolLM2-135M-Instruct model.

    python docs/make_builtin_screenshot.py

The agent must write in capital letters (persona 9) and the user model speaks
French (persona 98), so the agent's drift towards French shows within a few
turns. The run uses a temporary data folder and takes about a minute on 2 cores.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from engine.config import RunConfig, Sampling
from engine.personas import load_personas
from store import RunStore
from tui.app import DriftApp

DOCS = Path(__file__).resolve().parent
CONFIG = RunConfig(backend="local", agent=9, user=98, topic=8, seed=1, turns=8, runs=1,
                   sampling=Sampling(max_tokens=60))


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="model-drift-shot-") as folder:
        app = DriftApp(start_config=CONFIG, store=RunStore(folder), personas=load_personas())
        async with app.run_test(size=(160, 48)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause(0.5)
            app.save_screenshot("live-chat-builtin.svg", str(DOCS))
    print(DOCS / "live-chat-builtin.svg")


if __name__ == "__main__":
    asyncio.run(main())
