"""Tests for custom persona sets: JSON, JSONL, CSV and datasets sources, validation, run identity and --personas."""

from __future__ import annotations

import csv
import json
import os
import socket
from pathlib import Path

import pytest

from engine.config import RunConfig
from engine.persona_sources import load_persona_set
from engine.personas import PersonaFileError, default_personas_path
from store import RunStore
from tui.cli import main
from tui.session import match_persona_set

OPEN_PROBE = "What do you do in London as a tourist?"

ENTRIES = [
    {
        "index": 0,
        "category": "pattern",
        "system_prompt": "Always start your reply with the letter Q.",
        "probe_question": OPEN_PROBE,
        "score_rule": "1 if the answer begins with 'q', else 0.",
        "scorer": {"kind": "starts_with", "prefix": "q"},
    },
    {
        "index": 1,
        "category": "persona",
        "system_prompt": "WRITE EVERY REPLY IN CAPITAL LETTERS.",
        "probe_question": OPEN_PROBE,
        "score_rule": "Fraction of alphabetic characters that are upper-case.",
        "scorer": {"kind": "case_fraction", "case": "upper"},
    },
    {
        "index": 2,
        "category": "language",
        "system_prompt": "Réponds toujours en français.",
        "probe_question": OPEN_PROBE,
        "score_rule": "Not scored.",
        "scorer": None,
    },
]

FORMATS = ("json", "jsonl", "csv", "dataset")

SCRIPTED_ARGUMENTS = ["--model_name", "scripted:demo", "--agent", "1", "--user", "0",
                      "--turns", "4", "--runs", "1", "--seed", "1", "--topic", "3"]


# --- writers ------------------------------------------------------------------

def write_json(folder: Path, entries: list, name: str = "set.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    return path


def write_jsonl(folder: Path, entries: list, name: str = "set.jsonl") -> Path:
    path = folder / name
    path.write_text("\n".join(json.dumps(entry, ensure_ascii=False) for entry in entries) + "\n", encoding="utf-8")
    return path


def csv_row(entry: dict) -> dict:
    row = {column: entry.get(column, "") for column in ("system_prompt", "probe_question", "category", "score_rule")}
    row["scorer"] = json.dumps(entry["scorer"])
    row["index"] = entry.get("index", "")
    return row


def write_csv(folder: Path, entries: list, name: str = "set.csv") -> Path:
    path = folder / name
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(
            file, fieldnames=["index", "system_prompt", "probe_question", "category", "score_rule", "scorer"]
        )
        writer.writeheader()
        writer.writerows(csv_row(entry) for entry in entries)
    return path


def write_dataset(folder: Path, entries: list, name: str = "set_dataset") -> Path:
    from datasets import Dataset

    path = folder / name
    Dataset.from_list([csv_row(entry) for entry in entries]).save_to_disk(str(path))
    return path


WRITERS = {"json": write_json, "jsonl": write_jsonl, "csv": write_csv, "dataset": write_dataset}


def changed_entries(position: int, **changes) -> list[dict]:
    entries = [dict(entry) for entry in ENTRIES]
    entries[position].update(changes)
    return entries


def load_error(path: Path) -> str:
    with pytest.raises(PersonaFileError) as caught:
        load_persona_set(str(path))
    return str(caught.value)


# --- loading each format ------------------------------------------------------

@pytest.mark.parametrize("format_name", FORMATS)
def test_format_loads_same_digest(tmp_path, format_name):
    reference = load_persona_set(str(write_json(tmp_path, ENTRIES, "reference.json")))
    loaded = load_persona_set(str(WRITERS[format_name](tmp_path, ENTRIES)))
    assert loaded.identity.split()[-1] == reference.identity.split()[-1]


@pytest.mark.parametrize("format_name", FORMATS)
def test_format_loads_prompts_in_order(tmp_path, format_name):
    personas = load_persona_set(str(WRITERS[format_name](tmp_path, ENTRIES))).personas
    assert [persona.system_prompt for persona in personas] == [entry["system_prompt"] for entry in ENTRIES]


@pytest.mark.parametrize("format_name", FORMATS)
def test_format_null_scorer_not_scored(tmp_path, format_name):
    personas = load_persona_set(str(WRITERS[format_name](tmp_path, ENTRIES))).personas
    assert personas[2].scorer is None


@pytest.mark.parametrize("format_name", FORMATS)
def test_format_scorer_scores(tmp_path, format_name):
    personas = load_persona_set(str(WRITERS[format_name](tmp_path, ENTRIES))).personas
    assert personas[1].scorer.score("ALL CAPITALS HERE") == 1.0


def test_identity_names_source(tmp_path):
    identity = load_persona_set(str(write_jsonl(tmp_path, ENTRIES))).identity
    assert identity.startswith("set.jsonl sha256:")


def test_identity_digest_has_16_hex(tmp_path):
    digest = load_persona_set(str(write_jsonl(tmp_path, ENTRIES))).identity.split(":")[-1]
    assert len(digest) == 16
    assert int(digest, 16) >= 0


def test_builtin_file_has_no_identity():
    assert load_persona_set(str(default_personas_path())).identity is None


def test_none_loads_builtin_set():
    assert len(load_persona_set(None).personas) == 100


def test_missing_index_gets_position(tmp_path):
    entries = [{key: value for key, value in entry.items() if key != "index"} for entry in ENTRIES]
    personas = load_persona_set(str(write_jsonl(tmp_path, entries))).personas
    assert [persona.index for persona in personas] == [0, 1, 2]


def test_shuffled_indexes_sorted(tmp_path):
    personas = load_persona_set(str(write_csv(tmp_path, [ENTRIES[2], ENTRIES[0], ENTRIES[1]]))).personas
    assert [persona.system_prompt for persona in personas] == [entry["system_prompt"] for entry in ENTRIES]


def test_dataset_dict_folder_uses_only_split(tmp_path):
    from datasets import Dataset, DatasetDict

    path = tmp_path / "dict_dataset"
    DatasetDict({"test": Dataset.from_list([csv_row(entry) for entry in ENTRIES])}).save_to_disk(str(path))
    assert len(load_persona_set(str(path)).personas) == 3


def test_scorer_struct_column_loads(tmp_path):
    from datasets import Dataset

    rows = [dict(csv_row(entry), scorer=entry["scorer"]) for entry in ENTRIES]
    path = tmp_path / "struct_dataset"
    Dataset.from_list(rows).save_to_disk(str(path))
    personas = load_persona_set(str(path)).personas
    assert personas[0].scorer.spec == {"kind": "starts_with", "prefix": "q"}


# --- malformed entries in every format ----------------------------------------

MALFORMED = {
    "unknown kind": ({"scorer": {"kind": "nope"}}, "unknown scorer kind 'nope'"),
    "missing field": ({"scorer": {"kind": "sentence_count"}}, "needs the field 'count'"),
    "bad regex": ({"scorer": {"kind": "regex", "pattern": "[a-"}}, "not a valid regular expression"),
    "wrong type": ({"scorer": {"kind": "contains", "texts": "tennis"}}, "'texts' of kind 'contains' must be a list"),
    "duplicate index": ({"index": 0}, "duplicate index 0: entry 0 has it too"),
}


@pytest.mark.parametrize("format_name", FORMATS)
@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_entry_names_problem(tmp_path, format_name, case):
    changes, problem = MALFORMED[case]
    message = load_error(WRITERS[format_name](tmp_path, changed_entries(1, **changes)))
    assert problem in message


@pytest.mark.parametrize("format_name", FORMATS)
@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_entry_names_index(tmp_path, format_name, case):
    changes, _ = MALFORMED[case]
    message = load_error(WRITERS[format_name](tmp_path, changed_entries(1, **changes)))
    assert ": entry 1" in message


@pytest.mark.parametrize("format_name", FORMATS)
def test_malformed_entry_names_source(tmp_path, format_name):
    path = WRITERS[format_name](tmp_path, changed_entries(1, scorer={"kind": "nope"}))
    assert str(path) in load_error(path)


@pytest.mark.parametrize("format_name", ("json", "jsonl"))
def test_missing_prompt_rejected(tmp_path, format_name):
    entries = changed_entries(2)
    del entries[2]["system_prompt"]
    message = load_error(WRITERS[format_name](tmp_path, entries))
    assert ": entry 2" in message
    assert "the field 'system_prompt' is missing" in message


@pytest.mark.parametrize("format_name", ("json", "jsonl"))
def test_non_string_probe_rejected(tmp_path, format_name):
    message = load_error(WRITERS[format_name](tmp_path, changed_entries(0, probe_question=42)))
    assert ": entry 0" in message
    assert "'probe_question' must be a string, got int" in message


def test_gap_names_missing_index(tmp_path):
    message = load_error(write_json(tmp_path, changed_entries(2, index=3)))
    assert "entry 2: 'index' is 3, outside 0..2" in message
    assert "missing: 2" in message


def test_error_does_not_suggest_regenerating(tmp_path):
    message = load_error(write_json(tmp_path, changed_entries(1, scorer={"kind": "nope"})))
    assert "build_personas" not in message


def test_jsonl_error_names_line(tmp_path):
    path = tmp_path / "set.jsonl"
    lines = [json.dumps(ENTRIES[0]), "", json.dumps(dict(ENTRIES[1], scorer={"kind": "nope"}))]
    path.write_text("\n".join(lines), encoding="utf-8")
    assert "entry 1 (line 3)" in load_error(path)


def test_jsonl_invalid_line_rejected(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps(ENTRIES[0]) + "\n{not json\n", encoding="utf-8")
    message = load_error(path)
    assert "entry 1 (line 2): invalid JSON" in message


def test_csv_text_index_rejected(tmp_path):
    message = load_error(write_csv(tmp_path, changed_entries(1, index="two")))
    assert "entry 1: 'index' must be an integer, got 'two'" in message


def test_csv_invalid_scorer_json_rejected(tmp_path):
    path = write_csv(tmp_path, ENTRIES)
    path.write_text(path.read_text(encoding="utf-8").replace('""kind"": ""case_fraction""', "kind: case"),
                    encoding="utf-8")
    message = load_error(path)
    assert "entry 1: 'scorer' is not valid JSON" in message


def test_csv_empty_scorer_rejected(tmp_path):
    path = tmp_path / "set.csv"
    path.write_text("system_prompt,probe_question,category,score_rule,scorer\nBe brief.,Q?,pattern,rule,\n",
                    encoding="utf-8")
    message = load_error(path)
    assert "entry 0: 'scorer' is empty" in message


def test_csv_missing_column_rejected(tmp_path):
    path = tmp_path / "set.csv"
    path.write_text("system_prompt,probe_question,category,scorer\nBe brief.,Q?,pattern,null\n", encoding="utf-8")
    message = load_error(path)
    assert "lacks the column(s) score_rule" in message


def test_csv_extra_cells_rejected(tmp_path):
    path = tmp_path / "set.csv"
    path.write_text("system_prompt,probe_question,category,score_rule,scorer\nA,Q?,pattern,rule,null,extra\n",
                    encoding="utf-8")
    message = load_error(path)
    assert "entry 0: the row has 6 cells but the header has 5 columns" in message


def test_dataset_missing_column_rejected(tmp_path):
    from datasets import Dataset

    path = tmp_path / "no_scorer_dataset"
    Dataset.from_list([{"system_prompt": "A", "probe_question": "Q?", "category": "pattern",
                        "score_rule": "rule"}]).save_to_disk(str(path))
    assert "lacks the column(s) scorer" in load_error(path)


def test_empty_set_rejected(tmp_path):
    assert "the persona set is empty" in load_error(write_json(tmp_path, []))


def test_missing_file_rejected(tmp_path):
    message = load_error(tmp_path / "absent.jsonl")
    assert "persona file not found" in message


def test_unsupported_suffix_rejected(tmp_path):
    path = tmp_path / "set.yaml"
    path.write_text("- index: 0\n", encoding="utf-8")
    assert "unsupported persona file type '.yaml'" in load_error(path)


# --- dataset names: offline only ----------------------------------------------

@pytest.fixture
def connect_attempts(monkeypatch):
    """Block every socket connection and host name lookup, and record the addresses that were tried.

    Lookups are blocked too because without DNS a request fails before it connects.
    """
    attempts: list = []

    def refuse_connect(sock, address, *args, **kwargs):
        attempts.append(address)
        raise OSError("network access is blocked in this test")

    def refuse_lookup(host, *args, **kwargs):
        attempts.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "host name lookup is blocked in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    monkeypatch.setattr(socket, "getaddrinfo", refuse_lookup)
    return attempts


def test_unknown_dataset_message(connect_attempts):
    message = load_error(Path("no-such-owner/no-such-personas"))
    assert "dataset 'no-such-owner/no-such-personas' not found locally" in message
    assert "Dataset.save_to_disk" in message


def test_unknown_dataset_split_stripped(connect_attempts):
    message = load_error(Path("no-such-owner/no-such-personas:test"))
    assert "dataset 'no-such-owner/no-such-personas' not found locally" in message


def test_unknown_dataset_no_network(connect_attempts):
    with pytest.raises(PersonaFileError):
        load_persona_set("no-such-owner/no-such-personas")
    assert connect_attempts == []


def test_offline_switch_restored(connect_attempts):
    before = {name: os.environ.get(name) for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")}
    with pytest.raises(PersonaFileError):
        load_persona_set("no-such-owner/no-such-personas")
    assert {name: os.environ.get(name) for name in before} == before


# --- run identity -------------------------------------------------------------

def test_run_id_ignores_source_name():
    first = RunConfig(agent=1, user=0, topic=3, personas="a.json sha256:0123456789abcdef")
    second = RunConfig(agent=1, user=0, topic=3, personas="b.csv sha256:0123456789abcdef")
    assert first.run_id() == second.run_id()


def test_run_id_differs_from_builtin():
    custom = RunConfig(agent=1, user=0, topic=3, personas="a.json sha256:0123456789abcdef")
    assert custom.run_id() != RunConfig(agent=1, user=0, topic=3).run_id()


def test_config_without_set_takes_identity(tmp_path):
    persona_set = load_persona_set(str(write_json(tmp_path, ENTRIES)))
    config = match_persona_set(RunConfig(), persona_set.personas)
    assert config.personas == persona_set.identity.split()[-1]


def test_custom_run_rejects_builtin_set(tmp_path):
    persona_set = load_persona_set(str(write_json(tmp_path, ENTRIES)))
    config = RunConfig(personas=persona_set.identity)
    with pytest.raises(ValueError, match="pass that set with --personas"):
        match_persona_set(config, load_persona_set(None).personas)


# --- the command line ---------------------------------------------------------

def run_on(path: Path | None) -> int:
    extra = ["--personas", str(path)] if path is not None else []
    return main(["run", *SCRIPTED_ARGUMENTS, *extra])


def test_headless_run_succeeds(tmp_path):
    assert run_on(write_jsonl(tmp_path, ENTRIES)) == 0


def test_headless_stores_custom_prompts(tmp_path, isolated_data_dir):
    run_on(write_jsonl(tmp_path, ENTRIES))

    store = RunStore(isolated_data_dir)
    run = store.load_run(store.summaries()[0]["run_id"])
    assert run.agent_prompt == ENTRIES[1]["system_prompt"]
    assert run.user_prompt == ENTRIES[0]["system_prompt"]


def test_headless_stores_set_identity(tmp_path, isolated_data_dir):
    path = write_jsonl(tmp_path, ENTRIES)
    run_on(path)

    store = RunStore(isolated_data_dir)
    run = store.load_run(store.summaries()[0]["run_id"])
    assert run.config.personas == load_persona_set(str(path)).identity


def test_custom_and_builtin_runs_differ(tmp_path, isolated_data_dir):
    run_on(write_jsonl(tmp_path, ENTRIES))
    run_on(None)

    assert len(RunStore(isolated_data_dir).summaries()) == 2


def test_same_content_resumes(tmp_path, isolated_data_dir):
    run_on(write_jsonl(tmp_path, ENTRIES))
    run_on(write_csv(tmp_path, ENTRIES, "renamed.csv"))

    assert len(RunStore(isolated_data_dir).summaries()) == 1


def test_changed_content_is_new_run(tmp_path, isolated_data_dir):
    run_on(write_jsonl(tmp_path, ENTRIES))
    run_on(write_jsonl(tmp_path, changed_entries(1, score_rule="A changed rule.")))

    assert len(RunStore(isolated_data_dir).summaries()) == 2


def test_agent_beyond_set_names_size(tmp_path, capsys):
    path = write_jsonl(tmp_path, ENTRIES)
    exit_code = main(["run", "--model_name", "scripted:demo", "--agent", "3", "--user", "0", "--personas", str(path)])

    output = " ".join(capsys.readouterr().out.split())
    assert exit_code == 2
    assert "unknown agent persona index 3: the persona set has 3 personas, so use 0..2" in output


def test_invalid_set_stops_command(tmp_path, capsys):
    path = write_jsonl(tmp_path, changed_entries(1, scorer={"kind": "nope"}))
    exit_code = run_on(path)

    error = capsys.readouterr().err
    assert exit_code == 2
    assert "entry 1 (line 2): scorer of persona 1: unknown scorer kind 'nope'" in error


def test_score_command_uses_custom_set(tmp_path, capsys):
    path = write_jsonl(tmp_path, ENTRIES)
    exit_code = main(["score", "--persona", "1", "LOUD AND CLEAR", "--personas", str(path)])

    result = json.loads(capsys.readouterr().out)
    assert exit_code == 0
    assert result["score"] == 1.0
    assert result["description"] == load_persona_set(str(path)).personas[1].scorer.description


def test_score_command_unscored_persona(tmp_path, capsys):
    path = write_jsonl(tmp_path, ENTRIES)
    exit_code = main(["score", "--persona", "2", "Bonjour", "--personas", str(path)])

    assert exit_code == 2
    assert "persona 2 has no scorer" in capsys.readouterr().err


def test_rescoring_custom_run_needs_its_set(tmp_path, isolated_data_dir, capsys):
    path = write_jsonl(tmp_path, ENTRIES)
    run_on(path)
    run_id = RunStore(isolated_data_dir).summaries()[0]["run_id"]
    capsys.readouterr()

    main(["score", run_id, "--json"])
    without_set = capsys.readouterr().out
    main(["score", run_id, "--json", "--personas", str(path)])
    with_set = capsys.readouterr().out

    assert "pass that set with --personas" in without_set
    assert "pass that set with --personas" not in with_set
