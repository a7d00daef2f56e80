"""Tests of the conversation log (store/) on temporary data folders."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from engine.config import RunConfig
from engine.events import (
    ProbeScored,
    RunFailed,
    RunFinished,
    RunStarted,
    RunStopped,
    TokenReceived,
    TurnFinished,
    TurnStarted,
)
from store import RunStore, StoredRun, StoreError

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG = RunConfig(agent=3, user=7, topic=2, seed=5, turns=6, runs=2)
STARTER = "What do you think about the sea?"


def open_run(store: RunStore, config: RunConfig = CONFIG) -> StoredRun:
    return store.open_run(
        config,
        agent_prompt="You are a pirate. Always talk like one.",
        user_prompt="You are a patient teacher.",
        agent_label="pirate",
        user_label="teacher",
        starter=STARTER,
    )


def turn_event(run_id: str, turn: int, text: str | None = None) -> TurnFinished:
    speaker = "agent" if turn % 2 == 0 else "user"
    text = text if text is not None else f"reply {turn}"
    return TurnFinished(
        run_id=run_id,
        turn=turn,
        speaker=speaker,
        raw_text=f"  {text}\n",
        text=text,
        prompt_tokens=10 * turn,
        completion_tokens=5,
        seconds=0.25,
        prompt_tokens_evaluated=3,
    )


def probe_event(run_id: str, turn: int, sample: int, score: float | None) -> ProbeScored:
    return ProbeScored(
        run_id=run_id,
        turn=turn,
        sample=sample,
        raw_text=f"Arr, answer {turn}.{sample}",
        score=score,
        published=score,
        prompt_tokens=20,
        completion_tokens=4,
        seconds=0.5,
    )


def record_turns(store: RunStore, run_id: str, turns: range) -> None:
    for turn in turns:
        store.record(turn_event(run_id, turn))


def summary_of(store: RunStore, run_id: str) -> dict:
    matches = [summary for summary in store.summaries() if summary["run_id"] == run_id]
    assert len(matches) == 1
    return matches[0]


def test_round_trip_turns_and_probes(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)
    record_turns(store, run.run_id, range(2, 5))
    store.record(probe_event(run.run_id, 2, 1, 0.5))
    store.record(probe_event(run.run_id, 2, 0, None))

    loaded = RunStore(tmp_path).load_run(run.run_id)

    assert loaded.config == CONFIG
    assert loaded.agent_prompt == "You are a pirate. Always talk like one."
    assert loaded.user_label == "teacher"
    assert [turn["turn"] for turn in loaded.turns] == [1, 2, 3, 4]
    assert [turn["speaker"] for turn in loaded.turns] == ["starter", "agent", "user", "agent"]
    assert loaded.turns[0]["text"] == STARTER
    assert loaded.turns[2]["raw_text"] == "  reply 3\n"
    assert loaded.turns[2]["text"] == "reply 3"
    assert loaded.turns[2]["prompt_tokens"] == 30
    assert loaded.turns[2]["prompt_tokens_evaluated"] == 3
    assert loaded.turns[2]["seconds"] == 0.25
    assert loaded.turns[2]["finished_at"]
    assert [(probe["turn"], probe["sample"]) for probe in loaded.probes] == [(2, 0), (2, 1)]
    assert loaded.probes[0]["score"] is None
    assert loaded.probes[1]["score"] == 0.5
    assert loaded.probes[1]["raw_text"] == "Arr, answer 2.1"


def test_open_run_writes_summary(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)

    summary = summary_of(store, run.run_id)

    assert summary["status"] == "running"
    assert summary["agent_label"] == "pirate"
    assert summary["turns"] == 6
    assert summary["completed_turns"] == 1
    assert summary["imported"] is False


def test_ignored_events_write_nothing(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)

    store.record(TurnStarted(run.run_id, 2, "agent"))
    store.record(TokenReceived(run.run_id, 2, "Arr"))

    assert store.load_run(run.run_id).completed_turns() == 1


def test_rerecorded_turn_replaces_stored(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)

    store.record(turn_event(run.run_id, 2, "first"))
    store.record(turn_event(run.run_id, 2, "second"))
    store.record(probe_event(run.run_id, 2, 0, 0.1))
    store.record(probe_event(run.run_id, 2, 0, 0.9))
    loaded = store.load_run(run.run_id)

    assert [turn["turn"] for turn in loaded.turns] == [1, 2]
    assert loaded.turns[1]["text"] == "second"
    assert len(loaded.probes) == 1
    assert loaded.probes[0]["score"] == 0.9


def test_resume_continues_after_last(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)
    record_turns(store, run.run_id, range(2, 4))

    resumed = open_run(RunStore(tmp_path))
    record_turns(store, resumed.run_id, range(resumed.completed_turns() + 1, 5))
    loaded = store.load_run(run.run_id)

    assert resumed.run_id == run.run_id
    assert resumed.completed_turns() == 3
    assert [turn["text"] for turn in resumed.turns[1:]] == ["reply 2", "reply 3"]
    assert [turn["turn"] for turn in loaded.turns] == [1, 2, 3, 4]
    assert len(store.summaries()) == 1


def test_resume_keeps_stored_prompts(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    open_run(store)

    resumed = store.open_run(
        CONFIG, agent_prompt="other", user_prompt="other", agent_label="x", user_label="y", starter="z"
    )

    assert resumed.agent_prompt == "You are a pirate. Always talk like one."
    assert resumed.starter == STARTER


def test_final_summary_has_stability(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)
    store.record(RunStarted(run.run_id, 1))
    record_turns(store, run.run_id, range(2, 7))
    for turn, scores in {2: (1.0, 0.5), 4: (None, None), 6: (0.0, None)}.items():
        for sample, score in enumerate(scores):
            store.record(probe_event(run.run_id, turn, sample, score))
    store.record(RunFinished(run.run_id, [0.75, None, 0.0]))

    summary = summary_of(store, run.run_id)

    assert summary["status"] == "finished"
    assert summary["completed_turns"] == 6
    assert summary["mean_stability"] == pytest.approx(0.375)
    assert summary["last_stability"] == 0.0
    assert store.load_run(run.run_id).status == "finished"


def test_stability_skips_unscored_samples(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)
    record_turns(store, run.run_id, range(2, 7))
    store.record(probe_event(run.run_id, 2, 0, 0.2))
    store.record(probe_event(run.run_id, 2, 1, None))
    store.record(probe_event(run.run_id, 4, 0, None))
    store.record(probe_event(run.run_id, 6, 0, 0.6))
    store.record(probe_event(run.run_id, 6, 1, 0.8))

    loaded = store.load_run(run.run_id)

    assert list(loaded.stability()) == [2, 4, 6]
    assert loaded.stability()[2] == pytest.approx(0.2)
    assert loaded.stability()[4] is None
    assert loaded.stability()[6] == pytest.approx(0.7)


def test_last_stability_skips_unscored_turn(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)
    record_turns(store, run.run_id, range(2, 5))
    store.record(probe_event(run.run_id, 2, 0, 0.4))
    store.record(probe_event(run.run_id, 4, 0, None))
    store.record(RunStopped(run.run_id, 4))

    summary = summary_of(store, run.run_id)

    assert summary["status"] == "stopped"
    assert summary["last_stability"] == pytest.approx(0.4)
    assert summary["mean_stability"] == pytest.approx(0.4)


def test_no_scores_give_none(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)
    record_turns(store, run.run_id, range(2, 4))
    store.record(RunFinished(run.run_id))

    summary = summary_of(store, run.run_id)

    assert summary["mean_stability"] is None
    assert summary["last_stability"] is None


def test_failed_run_keeps_error(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)
    record_turns(store, run.run_id, range(2, 4))
    store.record(RunFailed(run.run_id, "backend timed out after 60 s", 3))

    summary = summary_of(store, run.run_id)

    assert summary["status"] == "failed"
    assert summary["error"] == "backend timed out after 60 s"
    assert summary["completed_turns"] == 3
    assert store.load_run(run.run_id).error == "backend timed out after 60 s"


def test_restart_clears_failure(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)
    store.record(RunFailed(run.run_id, "backend timed out", 1))

    store.record(RunStarted(run.run_id, 1))
    summary = summary_of(store, run.run_id)

    assert summary["status"] == "running"
    assert summary["error"] is None


def test_summaries_skip_finished_run_files(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)
    record_turns(store, run.run_id, range(2, 5))
    store.record(RunFinished(run.run_id))
    (tmp_path / "runs" / f"{run.run_id}.json").write_text("{not json", encoding="utf-8")

    summary = summary_of(store, run.run_id)

    assert summary["status"] == "finished"
    assert summary["completed_turns"] == 4
    assert summary["file_error"] is None


def test_running_summary_reads_run_file(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)
    store.record(RunStarted(run.run_id, 1))
    record_turns(store, run.run_id, range(2, 6))
    store.record(probe_event(run.run_id, 4, 0, 0.25))

    summary = summary_of(store, run.run_id)
    index_entry = json.loads((tmp_path / "index.json").read_text(encoding="utf-8"))["runs"]["1"]

    assert index_entry["completed_turns"] == 1
    assert summary["status"] == "running"
    assert summary["completed_turns"] == 5
    assert summary["last_stability"] == 0.25


def test_running_summary_takes_file_status(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)
    # A crash between the run-file write and the index write of RunFinished.
    store.files.update_header(run.run_id, {"status": "finished", "error": None})

    assert summary_of(store, run.run_id)["status"] == "finished"


def test_corrupt_run_file_names_file(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)
    (tmp_path / "runs" / f"{run.run_id}.json").write_text('{"run": {"1": {"run_', encoding="utf-8")

    with pytest.raises(StoreError) as raised:
        store.load_run(run.run_id)

    assert f"{run.run_id}.json" in str(raised.value)
    assert "move it aside" in str(raised.value).lower()


def test_corrupt_run_file_rejects_record(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)
    path = tmp_path / "runs" / f"{run.run_id}.json"
    path.write_text("{half", encoding="utf-8")

    with pytest.raises(StoreError, match=f"{run.run_id}.json"):
        store.record(turn_event(run.run_id, 2))

    assert path.read_text(encoding="utf-8") == "{half"


def test_corrupt_running_file_is_flagged(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    damaged = open_run(store)
    healthy = open_run(store, RunConfig(agent=1, user=2, topic=0))
    record_turns(store, healthy.run_id, range(2, 4))
    (tmp_path / "runs" / f"{damaged.run_id}.json").write_text("[1, 2", encoding="utf-8")

    summaries = {summary["run_id"]: summary for summary in store.summaries()}

    assert set(summaries) == {damaged.run_id, healthy.run_id}
    assert f"{damaged.run_id}.json" in summaries[damaged.run_id]["file_error"]
    assert summaries[healthy.run_id]["file_error"] is None
    assert summaries[healthy.run_id]["completed_turns"] == 3


def test_wrong_shape_run_file_names_file(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)
    (tmp_path / "runs" / f"{run.run_id}.json").write_text('{"turns": {}}', encoding="utf-8")

    with pytest.raises(StoreError, match=f"{run.run_id}.json"):
        store.load_run(run.run_id)


def test_corrupt_index_names_file(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    open_run(store)
    (tmp_path / "index.json").write_text('{"runs": {"1": {', encoding="utf-8")

    with pytest.raises(StoreError) as raised:
        store.summaries()

    assert "index.json" in str(raised.value)
    assert "aside" in str(raised.value)


def test_missing_index_is_rebuilt(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    first = open_run(store)
    second = open_run(store, RunConfig(agent=1, user=2, topic=0))
    store.record(RunFinished(second.run_id))
    (tmp_path / "index.json").rename(tmp_path / "index.json.damaged")

    summaries = {summary["run_id"]: summary for summary in store.summaries()}

    assert set(summaries) == {first.run_id, second.run_id}
    assert summaries[second.run_id]["status"] == "finished"
    assert (tmp_path / "index.json").exists()


def test_unknown_run_names_id(tmp_path: Path) -> None:
    store = RunStore(tmp_path)

    with pytest.raises(StoreError, match="0123abcd"):
        store.load_run("0123abcd")


def test_record_unknown_run_raises(tmp_path: Path) -> None:
    store = RunStore(tmp_path)

    with pytest.raises(StoreError, match="0123abcd"):
        store.record(turn_event("0123abcd", 2))

    assert not (tmp_path / "runs" / "0123abcd.json").exists()


def test_path_like_run_id_rejected(tmp_path: Path) -> None:
    store = RunStore(tmp_path)

    with pytest.raises(StoreError, match="invalid run id"):
        store.load_run("../index")


def test_unresolved_config_rejected(tmp_path: Path) -> None:
    store = RunStore(tmp_path)

    with pytest.raises(ValueError, match="resolve"):
        open_run(store, RunConfig(agent=-1, user=2, topic=0))


def test_delete_run_removes_both(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    deleted = open_run(store)
    kept = open_run(store, RunConfig(agent=1, user=2, topic=0))

    store.delete_run(deleted.run_id)

    assert [summary["run_id"] for summary in store.summaries()] == [kept.run_id]
    assert not (tmp_path / "runs" / f"{deleted.run_id}.json").exists()
    with pytest.raises(StoreError, match=deleted.run_id):
        store.delete_run(deleted.run_id)


def test_default_root_is_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELFCHAT_DIR", str(tmp_path / "data"))

    store = RunStore()

    assert store.root == tmp_path / "data"


def test_imported_flag_is_stored(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = store.open_run(
        CONFIG, agent_prompt="a", user_prompt="u", agent_label="a", user_label="u", starter="s", imported=True
    )

    assert summary_of(store, run.run_id)["imported"] is True
    assert store.load_run(run.run_id).imported is True


def test_no_temporary_files_left(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)
    record_turns(store, run.run_id, range(2, 5))
    store.record(RunFinished(run.run_id))

    leftovers = [path.name for path in tmp_path.rglob("*.tmp")]

    assert leftovers == []


WRITER_SCRIPT = textwrap.dedent(
    """
    import sys
    from engine.config import RunConfig
    from engine.events import RunStarted, TurnFinished
    from store import RunStore

    store = RunStore(sys.argv[1])
    run = store.open_run(RunConfig(agent=1, user=2, topic=0), agent_prompt="a", user_prompt="u",
                         agent_label="a", user_label="u", starter="s")
    store.record(RunStarted(run.run_id, run.completed_turns()))
    print("ready", run.run_id, flush=True)

    turn = run.completed_turns() + 1
    while True:
        text = f"turn {turn} " + "x" * 20000
        store.record(TurnFinished(run.run_id, turn, "agent" if turn % 2 == 0 else "user",
                                  text, text, 1, 1, 0.0))
        print(turn, flush=True)
        turn += 1
    """
)


def run_writer_and_kill(script: Path, root: Path, turns_before_kill: int) -> tuple[str, int]:
    """Start the writer, SIGKILL it while it writes; return its run id and last confirmed turn."""
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        [sys.executable, str(script), str(root)], stdout=subprocess.PIPE, text=True, env=environment
    )
    assert process.stdout is not None

    run_id = process.stdout.readline().split()[1]
    confirmed = 0
    for _ in range(turns_before_kill):
        confirmed = int(process.stdout.readline())

    # A random delay spreads the kill over the read, write and rename steps.
    time.sleep(random.uniform(0.0, 0.01))
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    for line in process.stdout.read().split():
        confirmed = int(line)
    return run_id, confirmed


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killed_writer_keeps_turns(tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER_SCRIPT, encoding="utf-8")
    root = tmp_path / "data"

    # Kill four times. Each writer resumes the run that the previous one left.
    for turns_before_kill in (5, 12, 3, 8):
        run_id, confirmed = run_writer_and_kill(script, root, turns_before_kill)
        loaded = RunStore(root).load_run(run_id)
        stored = [turn["turn"] for turn in loaded.turns]

        assert stored[:confirmed] == list(range(1, confirmed + 1))
        assert loaded.completed_turns() >= confirmed

    for path in root.rglob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))
    assert summary_of(RunStore(root), run_id)["completed_turns"] >= confirmed


DYING_WRITER_SCRIPT = textwrap.dedent(
    """
    import os
    import sys
    from engine.config import RunConfig
    from engine.events import TurnFinished
    from store import RunStore

    store = RunStore(sys.argv[1])
    run = store.open_run(RunConfig(agent=1, user=2, topic=0), agent_prompt="a", user_prompt="u",
                         agent_label="a", user_label="u", starter="s")
    for turn in range(2, 6):
        if turn == 5:
            # Die after the temporary file is written and fsynced, before the rename.
            os.replace = lambda source, target: os._exit(3)
        store.record(TurnFinished(run.run_id, turn, "agent" if turn % 2 == 0 else "user",
                                  f"turn {turn}", f"turn {turn}", 1, 1, 0.0))
    """
)


def test_death_before_rename_keeps_file(tmp_path: Path) -> None:
    script = tmp_path / "dying.py"
    script.write_text(DYING_WRITER_SCRIPT, encoding="utf-8")
    root = tmp_path / "data"
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}

    finished = subprocess.run([sys.executable, str(script), str(root)], env=environment, timeout=60)
    store = RunStore(root)
    run_id = store.files.run_ids()[0]
    stored = [turn["turn"] for turn in store.load_run(run_id).turns]
    store.record(turn_event(run_id, 5))

    assert finished.returncode == 3
    assert stored == [1, 2, 3, 4]
    assert len(list((root / "runs").glob("*.tmp"))) == 1
    assert store.load_run(run_id).completed_turns() == 5


CONCURRENT_SCRIPT = textwrap.dedent(
    """
    import sys
    from engine.config import RunConfig
    from engine.events import RunFinished
    from store import RunStore

    store = RunStore(sys.argv[1])
    first_seed = int(sys.argv[2])
    for seed in range(first_seed, first_seed + 15):
        run = store.open_run(RunConfig(agent=1, user=2, topic=0, seed=seed), agent_prompt="a",
                             user_prompt="u", agent_label="a", user_label="u", starter="s")
        store.record(RunFinished(run.run_id))
    """
)


def test_concurrent_writers_keep_summaries(tmp_path: Path) -> None:
    script = tmp_path / "concurrent.py"
    script.write_text(CONCURRENT_SCRIPT, encoding="utf-8")
    root = tmp_path / "data"
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}

    processes = [
        subprocess.Popen([sys.executable, str(script), str(root), str(first_seed)], env=environment)
        for first_seed in (100, 200)
    ]
    deadline = time.monotonic() + 120
    codes = [process.wait(timeout=max(1.0, deadline - time.monotonic())) for process in processes]
    summaries = RunStore(root).summaries()

    assert codes == [0, 0]
    assert len(summaries) == 30
    assert {summary["status"] for summary in summaries} == {"finished"}


def test_claimed_run_refused_elsewhere(tmp_path: Path) -> None:
    first = RunStore(tmp_path)
    run = open_run(first)
    first.claim_run(run.run_id)

    with pytest.raises(StoreError, match="running in another process"):
        RunStore(tmp_path).claim_run(run.run_id)


def test_claim_released_when_run_ends(tmp_path: Path) -> None:
    first = RunStore(tmp_path)
    run = open_run(first)
    first.claim_run(run.run_id)

    first.record(RunStopped(run.run_id, 1))

    RunStore(tmp_path).claim_run(run.run_id)


def test_killed_claimed_run_shown_stopped(tmp_path: Path) -> None:
    script = (
        "import os, sys\n"
        "from store import RunStore\n"
        "from engine.events import RunStarted\n"
        "store = RunStore(sys.argv[1])\n"
        "store.claim_run(sys.argv[2])\n"
        "store.record(RunStarted(sys.argv[2], 1))\n"
        "os._exit(0)\n"
    )
    store = RunStore(tmp_path)
    run = open_run(store)
    subprocess.run([sys.executable, "-c", script, str(tmp_path), run.run_id], check=True, timeout=60)

    assert summary_of(store, run.run_id)["status"] == "stopped"


def test_held_run_shown_running(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)
    store.claim_run(run.run_id)
    store.record(RunStarted(run.run_id, 1))

    assert summary_of(RunStore(tmp_path), run.run_id)["status"] == "running"


def test_empty_index_rebuilt_from_runs(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)
    (tmp_path / "index.json").write_text("")

    listed = [summary["run_id"] for summary in RunStore(tmp_path).summaries()]

    assert listed == [run.run_id]


def test_index_entry_without_status_skipped(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)
    index = json.loads((tmp_path / "index.json").read_text())
    index["runs"]["999"] = {"run_id": "../../x"}
    (tmp_path / "index.json").write_text(json.dumps(index))

    listed = [summary["run_id"] for summary in RunStore(tmp_path).summaries()]

    assert listed == [run.run_id]


def test_non_object_index_entry_skipped(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)
    index = json.loads((tmp_path / "index.json").read_text())
    index["runs"]["999"] = "not a summary"
    (tmp_path / "index.json").write_text(json.dumps(index))

    listed = [summary["run_id"] for summary in RunStore(tmp_path).summaries()]

    assert listed == [run.run_id]


def test_stale_index_gains_run_files(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)
    (tmp_path / "index.json").write_text("{}")

    listed = [summary["run_id"] for summary in RunStore(tmp_path).summaries()]

    assert listed == [run.run_id]


def test_empty_run_file_named_damaged(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = open_run(store)
    (tmp_path / "runs" / f"{run.run_id}.json").write_text("")

    with pytest.raises(StoreError, match="the file is empty"):
        store.load_run(run.run_id)
