"""Save SVG screenshots of the screens, on the scripted backend and the sample logs, into docs/.

    /work/venv/bin/python docs/make_screenshots.py

The runs go to a temporary data folder, and no chat model is loaded. The
best_of_n run loads the all-MiniLM-L6-v2 embedding model to rank its
candidates (about 10 s the first time). The scripted agent mentions tennis
in fewer probe answers as the chat grows, so the tennis persona (index 2)
drifts from 1.0 to 0.0. Runs of "scripted:model-b" drift later than runs
of "scripted:model-a", so Compare has two models and three decodings.
The published sample logs in tests/data/selfchat are imported too.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from pathlib import Path

from engine.backends.scripted import ScriptedBackend
from engine.config import Decoding, RunConfig, Sampling
from engine.personas import load_personas
from store import RunStore
from store.importer import import_logs
from tui.app import DriftApp
from tui.screens.compare import CompareScreen
from tui.screens.history import HistoryScreen
from tui.screens.replay import ReplayScreen
from tui.widgets.run_form import RunForm

DOCS = Path(__file__).resolve().parent
SAMPLES = DOCS.parent / "tests" / "data" / "selfchat"
BEST_OF_N_SAMPLE = "anthropic_claude-3.5-haiku_agent_0_user_5_turn_20_bestof5_p0.9_t0.7_seed_42.pkl"
SIZE = (160, 48)
TENNIS = 2

# Probe samples (in call order) that mention tennis, per agent turn.
TENNIS_SAMPLES = {2: 2, 4: 2, 6: 1, 8: 1, 10: 0}
SLOW_DRIFT_SAMPLES = {2: 2, 4: 2, 6: 2, 8: 1, 10: 1}

CHAT_REPLIES = itertools.cycle(
    [
        "Honestly, nothing beats a morning on the tennis court before work.",
        "Fair point. I like a schedule where the commute is a walk, no car involved.",
        "Some say offices help teams bond; for me a shared lunch does more than a meeting.",
        "Maybe the answer is a mix: a few office days and a few days at home.",
    ]
)


def drifting_reply(probe_question: str, tennis_samples: dict[int, int]):
    """Return a reply function whose probe answers mention tennis less and less."""
    samples_seen: dict[int, int] = {}

    def reply(messages, sampling):
        if messages[-1]["content"] != probe_question:
            # Best-of-n candidates get distinct seeds, so they get distinct replies.
            replies = list(itertools.islice(CHAT_REPLIES, (sampling.seed or 0) % 4 + 1))
            return replies[-1]

        turn = len(messages) - 2
        sample = samples_seen.get(turn, 0)
        samples_seen[turn] = sample + 1
        if sample < tennis_samples.get(turn, 0):
            return "My hobby is tennis, I play every Saturday."
        return "These days I mostly read and go hiking."

    return reply


def config(agent: int, user: int, turns: int, seed: int = 1, model: str = "model-a",
           decoding: Decoding | None = None) -> RunConfig:
    return RunConfig(
        backend="scripted", model=model, agent=agent, user=user, topic=7, seed=seed, turns=turns, runs=2,
        sampling=Sampling(max_tokens=120), decoding=decoding or Decoding(),
    )


async def run_to_end(app: DriftApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()


async def save_screens(folder: Path) -> None:
    personas = load_personas()
    store = RunStore(folder)
    probe_question = personas[TENNIS].probe_question

    def backend_factory(run_config: RunConfig) -> ScriptedBackend:
        samples = SLOW_DRIFT_SAMPLES if run_config.model == "model-b" else TENNIS_SAMPLES
        return ScriptedBackend(run_config.model, reply_function=drifting_reply(probe_question, samples))

    import_logs([SAMPLES], store)

    # Earlier runs, so that History lists more than one and Compare has groups with bands.
    earlier = [config(agent, user, turns) for agent, user, turns in ((9, 4, 6), (5, 17, 4), (3, 2, 8))]
    for seed in (2, 3, 4):
        earlier.append(config(TENNIS, 5, 10, seed=seed))
        earlier.append(config(TENNIS, 5, 10, seed=seed, model="model-b"))
        earlier.append(config(TENNIS, 5, 10, seed=seed, decoding=Decoding(strategy="greedy")))
    earlier.append(config(TENNIS, 5, 6, seed=5, model="model-b", decoding=Decoding(strategy="best_of_n", best_of_n=3)))
    for run_config in earlier:
        await run_to_end(DriftApp(start_config=run_config, store=store, personas=personas,
                                  backend_factory=backend_factory))

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
        form = app.screen.query_one(RunForm)
        form.query_one("#model").value = "llama2_chat_70B"
        form.query_one("#decoding").value = "best_of_n"
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
        await pilot.press("escape")

        best_of_n_id = earlier[-1].resolve().run_id()
        app.push_screen(ReplayScreen(best_of_n_id))
        await pilot.pause()
        for _ in range(3):
            await pilot.press("right")
        await pilot.pause()
        app.save_screenshot("replay-best-of-n.svg", str(DOCS))
        await pilot.press("escape")

        imported_id = next(
            summary["run_id"] for summary in store.summaries()
            if store.load_run(summary["run_id"]).metadata.get("source", {}).get("file") == BEST_OF_N_SAMPLE
        )
        app.push_screen(ReplayScreen(imported_id))
        await pilot.pause()
        await pilot.press("right", "right")
        await pilot.pause()
        app.save_screenshot("replay-imported.svg", str(DOCS))
        await pilot.press("escape")

        history = app.screen
        assert isinstance(history, HistoryScreen)
        app.push_screen(CompareScreen(history.visible_summaries()))
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.save_screenshot("compare.svg", str(DOCS))
        await pilot.press("g")
        await pilot.pause()
        app.save_screenshot("compare-decoding.svg", str(DOCS))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="model-drift-screens-") as folder:
        asyncio.run(save_screens(Path(folder)))
    for name in ("live-chat", "picker", "history", "replay", "replay-best-of-n", "replay-imported", "compare",
                 "compare-decoding"):
        print(DOCS / f"{name}.svg")


if __name__ == "__main__":
    main()
