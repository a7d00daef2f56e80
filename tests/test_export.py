"""`model-drift export` and store/exporter.py: every format, filters and round trips."""

from __future__ import annotations

import collections
import json
import pickle
from datetime import date
from pathlib import Path

import datasets
import pandas
import pytest

from engine.config import RunConfig
from engine.events import ProbeScored, RunFinished, TurnFinished
from engine.personas import load_personas
from engine.starters import STARTERS
from store import RunStore, safe_pickle
from store.exporter import RunFilter, export_runs
from store.importer import import_logs
from tui.cli import main

SAMPLES = Path(__file__).resolve().parent / "data" / "selfchat"
RUN_PY_KEYS = {"topic", "history", "probed_history_per_turn", "seed", "persona", "user"}
BASELINE_KEYS = {"topic", "history", "seed", "persona_id", "user_id", "persona", "user", "decoding_strategy",
                 "model_name", "config", "turn_stats", "best_of_n_logs", "summary"}
NATIVE_CONFIG = RunConfig(backend="scripted", model="demo", agent=9, user=10, topic=2, seed=5, turns=4, runs=2)


def add_native_run(store: RunStore, config: RunConfig = NATIVE_CONFIG) -> str:
    """Store a finished native run with multi-line replies and two scored probe samples per agent turn."""
    personas = load_personas()
    agent, user = personas[config.agent], personas[config.user]
    run = store.open_run(config, agent_prompt=agent.system_prompt, user_prompt=user.system_prompt,
                         agent_label=agent.label, user_label=user.label, starter=STARTERS[config.topic])

    for turn in range(2, config.turns + 1):
        speaker = "agent" if turn % 2 == 0 else "user"
        raw = f"  REPLY {turn}\nON TWO LINES  "
        store.record(TurnFinished(run.run_id, turn, speaker, raw, f"REPLY {turn} ON TWO LINES", 10, 5, 0.5))
        if speaker == "agent":
            for sample, answer in enumerate(["ALL CAPS ANSWER", "lower answer\nsecond line"]):
                score = agent.scorer.score(answer)
                store.record(ProbeScored(run.run_id, turn, sample, answer, score, score, 12, 4, 0.25))
    store.record(RunFinished(run.run_id))
    return run.run_id


def add_run_py_log(store: RunStore, folder: Path) -> str:
    personas = load_personas()
    probes = collections.defaultdict(list, {2: ["I SEE BIG BEN.", "i ride the tube."]})
    log = {"topic": STARTERS[1], "history": [STARTERS[1], "A REPLY."], "probed_history_per_turn": probes,
           "seed": 3, "persona": personas[9].system_prompt, "user": personas[5].system_prompt}
    path = folder / "gpt-4_agent_9_user_5_turn_2.pkl"
    path.write_bytes(pickle.dumps(log))
    return import_logs([path], store).added[0][1]


@pytest.fixture
def store(tmp_path) -> RunStore:
    """A store with the ten samples, one run.py log and one native run."""
    store = RunStore(tmp_path / "store")
    assert not import_logs([SAMPLES], store).failed
    add_run_py_log(store, tmp_path)
    add_native_run(store)
    return store


def all_runs(store: RunStore) -> dict:
    return {summary["run_id"]: store.load_run(summary["run_id"]) for summary in store.summaries()}


def probe_count(store: RunStore) -> int:
    return sum(len(run.probes) for run in all_runs(store).values())


def test_jsonl_round_trip_exact(store, tmp_path):
    output = tmp_path / "runs.jsonl"
    export_runs(store, "jsonl", output)

    copy = RunStore(tmp_path / "copy")
    report = import_logs([output], copy)

    assert not report.failed
    assert all_runs(copy) == all_runs(store)
    assert len(copy.summaries()) == 12


def test_jsonl_one_run_per_line(store, tmp_path):
    output = tmp_path / "runs.jsonl"
    export_runs(store, "jsonl", output)

    lines = output.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 12
    assert {"config", "turns", "probes", "metadata", "agent_prompt"} <= set(records[0])


def test_jsonl_reimport_adds_nothing(store, tmp_path):
    output = tmp_path / "runs.jsonl"
    export_runs(store, "jsonl", output)

    report = import_logs([output], store)

    assert report.added == []
    assert len(report.unchanged) == 12


def test_jsonl_bad_line_reported(store, tmp_path):
    output = tmp_path / "runs.jsonl"
    export_runs(store, "jsonl", output)
    lines = output.read_text(encoding="utf-8").splitlines()
    output.write_text("\n".join([lines[0], "{not json", lines[1]]) + "\n", encoding="utf-8")

    copy = RunStore(tmp_path / "copy")
    report = import_logs([output], copy)

    assert len(report.added) == 2
    assert len(report.failed) == 1
    assert "line 2: invalid JSON" in report.failed[0][1]


def test_csv_one_row_per_probe(store, tmp_path):
    output = tmp_path / "probes.csv"
    export_runs(store, "csv", output)

    frame = pandas.read_csv(output)

    assert len(frame) == probe_count(store)
    assert len(frame) == 6
    assert {"run_id", "model", "agent", "user", "topic", "seed", "turn", "sample", "score", "published",
            "answer", "decoding", "imported"} <= set(frame.columns)
    assert "lower answer\nsecond line" in set(frame["answer"])


def test_parquet_one_row_per_probe(store, tmp_path):
    output = tmp_path / "probes.parquet"
    export_runs(store, "parquet", output)

    frame = pandas.read_parquet(output)

    assert len(frame) == probe_count(store)
    assert frame["score"].dtype == "float64"
    assert set(frame["imported"]) == {True, False}


def test_parquet_empty_keeps_columns(store, tmp_path):
    output = tmp_path / "none.parquet"
    export_runs(store, "parquet", output, RunFilter(model="no-such-model"))

    frame = pandas.read_parquet(output)

    assert len(frame) == 0
    assert "answer" in frame.columns


def test_dataset_of_probe_rows(store, tmp_path):
    output = tmp_path / "probes-dataset"
    export_runs(store, "dataset", output)

    dataset = datasets.load_from_disk(str(output))

    assert dataset.num_rows == probe_count(store)
    assert "answer" in dataset.column_names


def test_dataset_of_runs(store, tmp_path):
    output = tmp_path / "runs-dataset"
    export_runs(store, "dataset", output, dataset_rows="runs")

    dataset = datasets.load_from_disk(str(output))
    row = dataset.filter(lambda row: row["backend"] == "scripted")[0]

    assert dataset.num_rows == 12
    assert row["texts"][1] == "REPLY 2 ON TWO LINES"
    assert json.loads(row["record"])["run_id"] == row["run_id"]


def test_markdown_contains_turns_literally(store, tmp_path):
    output = tmp_path / "transcripts"
    result = export_runs(store, "markdown", output)

    assert len(result.paths) == 12
    for run_id, run in all_runs(store).items():
        text = (output / f"{run_id}.md").read_text(encoding="utf-8")
        for turn in run.turns:
            assert turn["raw_text"] in text, f"{run_id} turn {turn['turn']}"
        for probe in run.probes:
            assert probe["raw_text"] in text, f"{run_id} probe {probe['turn']}.{probe['sample']}"


def test_pickle_layouts_load_safely(store, tmp_path):
    output = tmp_path / "pickles"
    result = export_runs(store, "pickle", output)

    layouts = collections.Counter()
    for path in result.paths:
        log = safe_pickle.load_file(path)
        if "probed_history_per_turn" in log:
            assert set(log) == RUN_PY_KEYS, path.name
            assert type(log["probed_history_per_turn"]) is collections.defaultdict, path.name
            layouts["run.py"] += 1
        else:
            assert set(log) == BASELINE_KEYS, path.name
            layouts["baseline"] += 1
    assert layouts == {"run.py": 2, "baseline": 10}


def test_pickle_native_run_layout(store, tmp_path):
    output = tmp_path / "pickles"
    export_runs(store, "pickle", output, RunFilter(model="demo"))

    log = safe_pickle.load_file(output / "demo_agent_9_user_10_turn_4.pkl")

    assert log["history"][0] == STARTERS[2]
    assert log["history"][1] == "REPLY 2 ON TWO LINES"
    assert log["probed_history_per_turn"][2] == ["ALL CAPS ANSWER", "lower answer second line"]
    assert log["seed"] == 5


def test_pickle_baseline_matches_original(store, tmp_path):
    output = tmp_path / "pickles"
    export_runs(store, "pickle", output)

    for original in sorted(SAMPLES.glob("*.pkl")):
        assert safe_pickle.load_file(output / original.name) == safe_pickle.load_file(original), original.name


def test_pickle_reimport_adds_nothing(store, tmp_path):
    output = tmp_path / "pickles"
    export_runs(store, "pickle", output, RunFilter(model="gpt-4"))
    export_runs(store, "pickle", output, RunFilter(decoding="greedy"), overwrite=True)

    report = import_logs([output], store)

    assert not report.failed
    assert report.added == []


def test_filter_by_persona_and_decoding(store, tmp_path):
    output = tmp_path / "runs.jsonl"
    result = export_runs(store, "jsonl", output, RunFilter(persona=2, decoding="greedy"))

    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert result.runs == 3
    assert {record["config"]["agent"] for record in records} == {2}
    assert {record["metadata"]["decoding"]["strategy"] for record in records} == {"greedy"}


def test_filter_by_model(store, tmp_path):
    result = export_runs(store, "jsonl", tmp_path / "runs.jsonl", RunFilter(model="anthropic/claude-3.5-haiku"))

    assert result.runs == 2


def test_filter_by_dates(store, tmp_path):
    native = next(run for run in all_runs(store).values() if run.config.model == "demo")
    created = date.fromisoformat(native.created_at[:10])
    next_year = created.replace(year=created.year + 1)

    on_day = export_runs(store, "jsonl", tmp_path / "day.jsonl", RunFilter(model="demo", since=created, until=created))
    before = export_runs(store, "jsonl", tmp_path / "before.jsonl", RunFilter(model="demo", until=created.replace(year=2000)))
    after = export_runs(store, "jsonl", tmp_path / "after.jsonl", RunFilter(since=next_year))

    assert on_day.runs == 1
    assert before.runs == 0
    assert after.runs == 0


def test_existing_output_needs_force(store, tmp_path):
    output = tmp_path / "runs.jsonl"
    output.write_text("keep me", encoding="utf-8")

    with pytest.raises(FileExistsError):
        export_runs(store, "jsonl", output)

    assert output.read_text(encoding="utf-8") == "keep me"


def test_command_writes_parquet(isolated_data_dir, tmp_path, capsys):
    store = RunStore(isolated_data_dir)
    add_native_run(store)
    output = tmp_path / "probes.parquet"

    exit_code = main(["export", "--format", "parquet", "--output", str(output), "--persona", "9"])

    assert exit_code == 0
    assert "exported 1 runs (4 rows)" in capsys.readouterr().out
    assert len(pandas.read_parquet(output)) == 4


def test_command_rejects_existing_output(isolated_data_dir, tmp_path, capsys):
    output = tmp_path / "runs.jsonl"
    output.write_text("", encoding="utf-8")

    exit_code = main(["export", "--format", "jsonl", "--output", str(output)])

    assert exit_code == 2
    assert "--force" in capsys.readouterr().err


def test_command_rejects_bad_date(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["export", "--format", "csv", "--output", "x.csv", "--since", "last week"])

    assert caught.value.code == 2
    assert "invalid date 'last week'" in capsys.readouterr().err


def test_command_names_damaged_run(isolated_data_dir, tmp_path, capsys):
    store = RunStore(isolated_data_dir)
    add_native_run(store)
    damaged = next((isolated_data_dir / "runs").glob("*.json"))
    damaged.write_text(damaged.read_text()[:40])
    output = tmp_path / "probes.csv"

    exit_code = main(["export", "--format", "csv", "--output", str(output)])

    error = capsys.readouterr().err
    assert exit_code == 1
    assert f"left out run {damaged.stem}" in error


def test_markdown_shows_escapes_inertly(tmp_path):
    from store.export_formats import markdown_transcript

    store = RunStore(tmp_path / "store")
    stored = store.load_run(add_native_run(store))
    stored.turns[1]["raw_text"] = "hello \x1b]0;PWNED\x07 world"

    text = markdown_transcript(stored)

    assert "\x1b" not in text
    assert "hello ␛]0;PWNED␇ world" in text
