"""Save SVG screenshots of the four screens, on the scripted backend, into docs/.

    /work/venv/bin/python docs/make_screenshots.py

The runs go to a temporary data folder; no model is loaded. The scripted
agent mentions tennis in fewer probe answers as the chat grows, so the
tennis persona (index 2) drifts from 1.0 to 0.0.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from pathlib import Path

from engine.backends.scripted import ScriptedBackend
from engine.config import RunConfig, Sampling
from engine.personas import load_personas
from store import RunStore
from tui.app import DriftApp
from tui.screens.history import HistoryScreen
from tui.screens.replay import ReplayScreen

DOCS = Path(__file__).resolve().parent
SIZE = (160, 48)
TENNIS = 2

# Probe samples (in call order) that mention tennis, per agent turn.
TENNIS_SAMPLES = {2: 2, 4: 2, 6: 1, 8: 1, 10: 0}

CHAT_REPLIES = itertools.cycle(
    [
        "Honestly, nothing beats a morning on the tennis court before work.",
        "Fair point. I like a schedule where the commute is a walk, no car involved.",
        "Some say offices help teams bond; for me a shared lunch does more than a meeting.",
        "Maybe the answer is a mix: a few office days and a few days at home.",
    ]
)


def drifting_reply(probe_question: str):
    """Return a reply function whose probe answers mention tennis less and less."""
    samples_seen: dict[int, int] = {}

    def reply(messages, sampling):
        if messages[-1]["content"] != probe_question:
            return next(CHAT_REPLIES)

        turn = len(messages) - 2
        sample = samples_seen.get(turn, 0)
        samples_seen[turn] = sample + 1
        if sample < TENNIS_SAMPLES.get(turn, 0):
            return "My hobby is tennis, I play every Saturday."
        return "These days I mostly read and go hiking."

    return reply


def config(agent: int, user: int, turns: int, seed: int = 1) -> RunConfig:
    return RunConfig(
        backend="scripted", model="demo", agent=agent, user=user, topic=7, seed=seed, turns=turns, runs=2,
        sampling=Sampling(max_tokens=120),
    )


async def save_screens(folder: Path) -> None:
    personas = load_personas()
    store = RunStore(folder)
    probe_question = personas[TENNIS].probe_question

    def backend_factory(run_config: RunConfig) -> ScriptedBackend:
        return ScriptedBackend(reply_function=drifting_reply(probe_question))

    # Earlier runs, so that History lists more than one.
    for agent, user, turns in ((9, 4, 6), (5, 17, 4), (3, 2, 8)):
        app = DriftApp(start_config=config(agent, user, turns), store=store, personas=personas,
                       backend_factory=backend_factory)
        async with app.run_test(size=SIZE) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()

    app = DriftApp(start_config=config(TENNIS, 5, 10), store=store, personas=personas,
                   backend_factory=backend_factory)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        run_id = app.screen.run_id
        app.save_screenshot("live-chat.svg", str(DOCS))

        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("down", "down")
        await pilot.pause()
        app.save_screenshot("picker.svg", str(DOCS))

        app.push_screen(HistoryScreen())
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.save_screenshot("history.svg", str(DOCS))

        app.push_screen(ReplayScreen(run_id))
        await pilot.pause()
        for _ in range(5):
            await pilot.press("right")
        await pilot.pause()
        app.save_screenshot("replay.svg", str(DOCS))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="model-drift-screens-") as folder:
        asyncio.run(save_screens(Path(folder)))
    for name in ("live-chat", "picker", "history", "replay"):
        print(DOCS / f"{name}.svg")


if __name__ == "__main__":
    main()
