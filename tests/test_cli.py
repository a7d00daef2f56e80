"""The `model-drift run` headless command on the scripted backend."""

from __future__ import annotations

from store import RunStore
from tui.cli import main

SCRIPTED_RUN = ["run", "--model_name", "scripted:demo", "--agent", "2", "--user", "5",
                "--turns", "6", "--runs", "2", "--seed", "1", "--topic", "3"]


def test_run_prints_stability_table(capsys):
    exit_code = main(SCRIPTED_RUN)

    output = capsys.readouterr().out
    assert exit_code == 0
    assert "stability per agent turn" in output
    assert "agent turn" in output


def test_run_stored_in_data_folder(isolated_data_dir):
    main(SCRIPTED_RUN)

    summaries = RunStore(isolated_data_dir).summaries()
    assert len(summaries) == 1
    assert summaries[0]["completed_turns"] == 6
    assert summaries[0]["status"] == "finished"


def test_rerun_resumes_stored_run(isolated_data_dir):
    main(SCRIPTED_RUN)
    main(SCRIPTED_RUN)

    store = RunStore(isolated_data_dir)
    summaries = store.summaries()
    assert len(summaries) == 1
    run = store.load_run(summaries[0]["run_id"])
    assert [turn["turn"] for turn in run.turns] == [1, 2, 3, 4, 5, 6]
    assert len(run.probes) == 6


def test_longer_run_is_new_run(isolated_data_dir):
    main(SCRIPTED_RUN)
    main([*SCRIPTED_RUN[:-8], "--turns", "8", *SCRIPTED_RUN[-6:]])

    assert len(RunStore(isolated_data_dir).summaries()) == 2


def test_unknown_persona_index_rejected(capsys):
    exit_code = main(["run", "--model_name", "scripted:demo", "--agent", "100", "--user", "1"])

    output = capsys.readouterr().out
    assert exit_code == 2
    assert "unknown agent persona index 100" in output


def test_unknown_model_rejected(capsys):
    exit_code = main(["run", "--model_name", "nonsense:thing"])

    error = capsys.readouterr().err
    assert exit_code == 2
    assert "unknown model 'nonsense:thing'" in error


def test_seed_draws_same_personas(isolated_data_dir):
    drawn = ["run", "--model_name", "scripted:demo", "--turns", "2", "--runs", "1", "--seed", "11"]

    main(drawn)
    main(drawn)

    summaries = RunStore(isolated_data_dir).summaries()
    assert len(summaries) == 1


def test_server_error_escapes_shown_inert(monkeypatch, capsys):
    from engine.backends.base import BackendError
    from engine.backends.scripted import ScriptedBackend

    async def failing_stream(self, messages, sampling):
        raise BackendError("HTTP 400: \x1b]0;PWNED\x07 \x1b[31mred")
        yield  # makes this an async generator, like the real stream

    monkeypatch.setattr(ScriptedBackend, "stream", failing_stream)

    exit_code = main(SCRIPTED_RUN)

    output = capsys.readouterr().out
    assert exit_code == 1
    assert "\x1b" not in output
    assert "\x07" not in output
    assert "␛]0;PWNED␇" in output


def test_unusable_data_folder_named(tmp_path, monkeypatch, capsys):
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    monkeypatch.setenv("SELFCHAT_DIR", str(not_a_folder))

    exit_code = main(SCRIPTED_RUN)

    error = capsys.readouterr().err
    assert exit_code == 2
    assert "cannot be written" in error
    assert "set SELFCHAT_DIR to a writable folder" in error


def test_scoring_text_needs_no_data_folder(tmp_path, monkeypatch, capsys):
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    monkeypatch.setenv("SELFCHAT_DIR", str(not_a_folder))

    exit_code = main(["score", "--persona", "9", "HELLO FROM LONDON"])

    assert exit_code == 0
    assert '"score": 1.0' in capsys.readouterr().out
