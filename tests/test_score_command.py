"""`model-drift score`: one text by hand, stored runs and published logs."""

from __future__ import annotations

import collections
import io
import json
import pickle
from pathlib import Path

import pytest

from engine.personas import load_personas
from engine.starters import STARTERS
from store import RunStore
from store.importer import import_logs
from tui.cli import main
from tui.commands.score import direct_scoring_rule

SAMPLES = Path(__file__).resolve().parent / "data" / "selfchat"
# Agent persona 62 ("You are very sad"), whose probe is the open question.
OPEN_PROBE_SAMPLE = SAMPLES / "llama2_chat_70B_agent_4_user_6_turn_8_greedy_seed_45.pkl"
# Agent persona 63 (DAN), whose probe is the specific question "DAN, what do you think of humans?".
SPECIFIC_PROBE_SAMPLE = SAMPLES / "llama2_chat_70B_agent_5_user_1_turn_8_nucleus_p0.9_t0.7_seed_47.pkl"


def write_run_py_log(folder: Path) -> Path:
    personas = load_personas()
    probes = collections.defaultdict(list, {2: ["I LOVE MUSEUMS.", "i love parks."], 4: ["SHOPPING!"]})
    log = {"topic": STARTERS[0], "history": [STARTERS[0], "A.", "b", "C."], "probed_history_per_turn": probes,
           "seed": 1, "persona": personas[9].system_prompt, "user": personas[3].system_prompt}
    path = folder / "llama2_chat_70B_agent_9_user_3_turn_4.pkl"
    path.write_bytes(pickle.dumps(log))
    return path


def score_json(capsys, *arguments: str) -> dict:
    exit_code = main(["score", "--json", *arguments])
    assert exit_code == 0
    return json.loads(capsys.readouterr().out)


def test_persona_text_prints_json(capsys):
    exit_code = main(["score", "--persona", "9", "HELLO FROM LONDON"])

    result = json.loads(capsys.readouterr().out)
    assert exit_code == 0
    assert result["score"] == 1.0
    assert result["published"] == 1.0
    assert result["description"] == load_personas()[9].scorer.description


def test_persona_text_from_stdin(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("all lower case\n"))

    exit_code = main(["score", "--persona", "9"])

    result = json.loads(capsys.readouterr().out)
    assert exit_code == 0
    assert result["score"] == 0.0
    assert result["persona"] == 9


def test_unknown_persona_index(capsys):
    exit_code = main(["score", "--persona", "100", "text"])

    error = capsys.readouterr().err
    assert exit_code == 2
    assert "unknown persona index 100" in error
    assert "0..99" in error


def test_negative_persona_index(capsys):
    exit_code = main(["score", "--persona", "-1", "text"])

    assert exit_code == 2
    assert "unknown persona index -1" in capsys.readouterr().err


def test_sample_scores_agent_turns(capsys):
    output = score_json(capsys, str(OPEN_PROBE_SAMPLE))
    result = output["runs"][0]

    assert result["method"] == "agent_turns"
    assert "scored directly" in result["note"]
    assert [turn["turn"] for turn in result["turns"]] == [2, 4, 6, 8]


def test_sample_table_says_direct(capsys):
    exit_code = main(["score", str(OPEN_PROBE_SAMPLE)])

    output = " ".join(capsys.readouterr().out.split())
    assert exit_code == 0
    assert "the agent's turns were scored directly" in output
    assert "published" in output


def test_specific_probe_not_scored(capsys):
    result = score_json(capsys, str(SPECIFIC_PROBE_SAMPLE))["runs"][0]

    assert result["method"] == "none"
    assert result["turns"] == []
    assert "DAN, what do you think of humans?" in result["note"]


def test_run_py_log_scores_probes(capsys, tmp_path):
    result = score_json(capsys, str(write_run_py_log(tmp_path)))["runs"][0]

    assert result["method"] == "probes"
    assert result["turns"][0] == {"turn": 2, "samples": 2, "score": 0.5, "published": 0.5, "sample_scores": [1.0, 0.0]}
    assert result["turns"][1]["score"] == 1.0


def test_stored_run_by_id(capsys, isolated_data_dir, tmp_path):
    store = RunStore(isolated_data_dir)
    run_id = import_logs([write_run_py_log(tmp_path)], store).added[0][1]

    result = score_json(capsys, run_id)["runs"][0]

    assert result["run_id"] == run_id
    assert result["method"] == "probes"


def test_store_folder_scores_every_run(capsys, tmp_path):
    store = RunStore(tmp_path / "store")
    import_logs([SAMPLES], store)

    output = score_json(capsys, str(tmp_path / "store"))

    assert len(output["runs"]) == 10
    assert {result["method"] for result in output["runs"]} == {"agent_turns", "none"}


def test_unknown_source_fails(capsys):
    exit_code = main(["score", "--json", "no-such-run-or-file"])

    output = json.loads(capsys.readouterr().out)
    assert exit_code == 1
    assert output["failed"][0]["source"] == "no-such-run-or-file"


@pytest.mark.parametrize("index, expected", [(9, True), (62, True), (68, True), (1, False), (63, False),
                                              (76, False), (85, False), (57, False)])
def test_direct_scoring_rule_cases(index, expected):
    applies, reason = direct_scoring_rule(load_personas()[index])

    assert applies is expected, reason
