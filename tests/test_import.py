"""`model-drift import` and store/importer.py on the published sample logs."""

from __future__ import annotations

import collections
import os
import pickle
import shutil
from pathlib import Path

import pytest

from engine.personas import load_personas
from engine.starters import STARTERS
from store import RunStore, safe_pickle
from store.importer import import_logs
from tui.cli import main

SAMPLES = Path(__file__).resolve().parent / "data" / "selfchat"
BEST_OF_N_SAMPLE = "anthropic_claude-3.5-haiku_agent_0_user_5_turn_20_bestof5_p0.9_t0.7_seed_42.pkl"


class MarkerWriter:
    """Pickles to a call of os.system that would create `marker` when unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def sample_paths() -> list[Path]:
    return sorted(SAMPLES.glob("*.pkl"))


def write_run_py_log(folder: Path, *, agent: int = 9, user: int = 10, model: str = "llama2_chat_70B",
                     agent_prompt: str | None = None, answers_per_turn: int = 2) -> Path:
    """Write a run.py-layout log: four turns and probe answers at turns 2 and 4."""
    personas = load_personas()
    probes = collections.defaultdict(list)
    for turn in (2, 4):
        for sample in range(answers_per_turn):
            probes[turn].append("I VISIT THE TOWER OF LONDON." if sample == 0 else "i walk along the thames.")
    log = {
        "topic": STARTERS[3],
        "history": [STARTERS[3], "FIRST AGENT REPLY.", "a user reply", "second agent reply"],
        "probed_history_per_turn": probes,
        "seed": 7,
        "persona": agent_prompt if agent_prompt is not None else personas[agent].system_prompt,
        "user": personas[user].system_prompt,
    }
    path = folder / f"{model}_agent_{agent}_user_{user}_turn_4.pkl"
    path.write_bytes(pickle.dumps(log, protocol=pickle.HIGHEST_PROTOCOL))
    return path


@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path / "store")


@pytest.fixture
def imported(store) -> RunStore:
    report = import_logs([SAMPLES], store)
    assert not report.failed
    return store


def run_for_sample(store: RunStore, name: str):
    for summary in store.summaries():
        run = store.load_run(summary["run_id"])
        if run.metadata["source"]["file"] == name:
            return run
    raise AssertionError(f"no run imported from {name}")


def test_every_sample_imported(imported):
    summaries = imported.summaries()

    assert len(summaries) == len(sample_paths())
    for summary in summaries:
        assert summary["imported"] is True
        assert summary["backend"] == "imported"


def test_sample_turn_counts_kept(imported):
    for path in sample_paths():
        log = safe_pickle.load_file(path)
        run = run_for_sample(imported, path.name)

        assert [turn["text"] for turn in run.turns] == log["history"], path.name
        assert run.completed_turns() == len(log["history"]), path.name
        assert run.config.turns == log["config"]["turns"] + 1, path.name


def test_sample_personas_matched_by_prompt(imported):
    personas = load_personas()

    for path in sample_paths():
        log = safe_pickle.load_file(path)
        run = run_for_sample(imported, path.name)

        assert personas[run.config.agent].system_prompt == log["persona"], path.name
        assert personas[run.config.user].system_prompt == log["user"], path.name
        assert run.agent_label == personas[run.config.agent].label, path.name


def test_baseline_index_not_used(imported):
    run = run_for_sample(imported, "llama2_chat_70B_agent_10_user_1_turn_8_greedy_seed_42.pkl")

    # persona_id 10 of the older 14-item list is persona 68 in personas.json.
    assert run.config.agent == 68
    assert run.config.user == 59


def test_sample_decoding_kept(imported):
    for path in sample_paths():
        log = safe_pickle.load_file(path)
        run = run_for_sample(imported, path.name)
        decoding = run.metadata["decoding"]

        assert run.config.model == log["model_name"], path.name
        assert run.config.seed == log["seed"], path.name
        assert decoding["strategy"] == log["config"]["decoding"], path.name
        assert decoding["label"] == log["decoding_strategy"], path.name
        for key in ("top_p", "temperature", "best_of_n", "alpha", "beta", "gamma"):
            assert decoding[key] == log["config"][key], f"{path.name} {key}"


def test_greedy_sampling_is_temperature_zero(imported):
    run = run_for_sample(imported, "llama2_chat_70B_agent_0_user_4_turn_8_greedy_seed_43.pkl")

    assert run.config.sampling.temperature == 0.0
    assert run.config.sampling.max_tokens == 150


def test_best_of_n_candidates_kept(imported):
    log = safe_pickle.load_file(SAMPLES / BEST_OF_N_SAMPLE)
    run = run_for_sample(imported, BEST_OF_N_SAMPLE)
    turns = {turn["turn"]: turn for turn in run.turns}

    assert len(log["best_of_n_logs"]) == 20
    for entry in log["best_of_n_logs"]:
        turn = turns[entry["turn"] + 1]
        assert turn["candidates"] == entry["candidates"]
        assert turn["selected_index"] == entry["selected_index"]
    assert set(turns[2]["candidates"][0]) >= {"score", "persona_similarity", "context_similarity", "length_penalty"}


def test_turn_statistics_kept(imported):
    log = safe_pickle.load_file(SAMPLES / BEST_OF_N_SAMPLE)
    run = run_for_sample(imported, BEST_OF_N_SAMPLE)
    turns = {turn["turn"]: turn for turn in run.turns}

    for entry in log["turn_stats"]:
        turn = turns[entry["turn"] + 1]
        assert turn["latency_sec"] == entry["latency_sec"]
        assert turn["seconds"] == entry["latency_sec"]
        assert turn["prompt_tokens_est"] == entry["prompt_tokens_est"]
        assert turn["completion_tokens"] == entry["response_tokens_est"]
    assert turns[1]["speaker"] == "starter"
    assert turns[2]["speaker"] == "agent"


def test_import_twice_adds_nothing(imported):
    report = import_logs([SAMPLES], imported)

    assert report.added == []
    assert len(report.unchanged) == len(sample_paths())
    assert len(imported.summaries()) == len(sample_paths())


def test_copied_file_adds_nothing(imported, tmp_path):
    copy = tmp_path / "renamed.pkl"
    shutil.copy(SAMPLES / BEST_OF_N_SAMPLE, copy)

    report = import_logs([copy], imported)

    assert report.added == []
    assert len(imported.summaries()) == len(sample_paths())


def test_run_py_probes_scored(store, tmp_path):
    path = write_run_py_log(tmp_path, agent=9)
    scorer = load_personas()[9].scorer

    report = import_logs([path], store)
    run = store.load_run(report.added[0][1])

    assert len(run.probes) == 4
    for probe in run.probes:
        assert probe["score"] == scorer.score(probe["raw_text"])
        assert probe["published"] == scorer.published(probe["raw_text"])
    # Persona 9 scores the fraction of upper-case letters: 1.0 and 0.0 per turn.
    assert run.stability() == {2: 0.5, 4: 0.5}
    assert run.config.runs == 2


def test_run_py_model_from_file_name(store, tmp_path):
    path = write_run_py_log(tmp_path, model="gpt-3.5-turbo")

    report = import_logs([path], store)
    run = store.load_run(report.added[0][1])

    assert run.config.model == "gpt-3.5-turbo"
    assert run.config.topic == 3
    assert run.config.seed == 7
    assert run.metadata["source"]["layout"] == "run.py"


def test_unknown_prompt_kept_as_text(store, tmp_path):
    prompt = "You are a lighthouse keeper who speaks only in riddles."
    path = write_run_py_log(tmp_path, agent_prompt=prompt)

    report = import_logs([path], store)
    run = store.load_run(report.added[0][1])
    summary = store.summaries()[0]

    assert run.config.agent == -1
    assert run.agent_prompt == prompt
    assert "not in personas.json" in summary["agent_label"]
    assert all(probe["score"] is None for probe in run.probes)


def test_bad_files_reported_by_name(store, tmp_path):
    folder = tmp_path / "logs"
    shutil.copytree(SAMPLES, folder)
    (folder / "notes.pkl").write_text("not a pickle at all")
    (folder / "wrong_layout.pkl").write_bytes(pickle.dumps(["a", "list"]))
    (folder / "missing_keys.pkl").write_bytes(pickle.dumps({"history": ["x"]}))

    report = import_logs([folder], store)
    failed = {Path(name).name: reason for name, reason in report.failed}

    assert set(failed) == {"notes.pkl", "wrong_layout.pkl", "missing_keys.pkl"}
    assert "a published log is a dict" in failed["wrong_layout.pkl"]
    assert "missing key" in failed["missing_keys.pkl"]
    assert len(report.added) == len(sample_paths())


def test_code_running_pickle_rejected(store, tmp_path):
    marker = tmp_path / "marker"
    evil = tmp_path / "evil_agent_1_user_2_turn_4.pkl"
    evil.write_bytes(pickle.dumps({"history": [MarkerWriter(marker)], "probed_history_per_turn": {}}))

    report = import_logs([evil], store)

    assert not marker.exists()
    assert len(report.failed) == 1
    assert "forbidden class" in report.failed[0][1]
    assert store.summaries() == []


def test_command_exit_code_on_failure(tmp_path, isolated_data_dir, capsys):
    folder = tmp_path / "logs"
    shutil.copytree(SAMPLES, folder)
    (folder / "broken.pkl").write_bytes(b"\x80\x05garbage")

    exit_code = main(["import", str(folder)])

    captured = capsys.readouterr()
    assert exit_code == 1
    assert "broken.pkl" in captured.err
    assert f"{len(sample_paths())} runs added" in captured.out
    assert len(RunStore(isolated_data_dir).summaries()) == len(sample_paths())


def test_command_accepts_glob(isolated_data_dir, capsys):
    exit_code = main(["import", str(SAMPLES / "llama2_chat_70B_*greedy*.pkl")])

    assert exit_code == 0
    assert len(RunStore(isolated_data_dir).summaries()) == 5


def test_missing_path_reported(isolated_data_dir, capsys):
    exit_code = main(["import", str(SAMPLES / "nothing-here.pkl")])

    assert exit_code == 1
    assert "nothing-here.pkl: file or folder not found" in capsys.readouterr().err


def test_imported_run_loads_like_native(imported):
    summary = imported.summaries()[0]

    run = imported.load_run(summary["run_id"])

    assert run.imported is True
    assert run.status == "finished"
    assert run.starter == run.turns[0]["text"]
    assert summary["completed_turns"] == len(run.turns)
