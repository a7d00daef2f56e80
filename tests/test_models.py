"""Model naming rules, aliases, and the `model-drift models` listing."""

from __future__ import annotations

import pytest

from engine.backends import backend_status
from engine.models import BUILTIN_MODEL, MODEL_ALIASES, resolve_model
from tui.cli import main


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("", ("local", BUILTIN_MODEL)),
        ("local", ("local", BUILTIN_MODEL)),
        ("local:", ("local", BUILTIN_MODEL)),
        ("/models/tiny.gguf", ("local", "/models/tiny.gguf")),
        ("local:/models/tiny.gguf", ("local", "/models/tiny.gguf")),
        ("gpt-3.5-turbo", ("openai", "gpt-3.5-turbo")),
        ("gpt-4o-mini", ("openai", "gpt-4o-mini")),
        ("my-GPT-finetune", ("openai", "my-GPT-finetune")),
        ("gpt-oss:20b", ("openai", "gpt-oss:20b")),
        ("openai:llama3.2", ("openai", "llama3.2")),
        ("openai:Qwen/Qwen2.5-7B-Instruct", ("openai", "Qwen/Qwen2.5-7B-Instruct")),
        ("llama2_7B", ("replicate", "meta/llama-4-scout-instruct")),
        ("llama2_chat_7B", ("replicate", "meta/llama-4-scout-instruct")),
        ("llama2_chat_70B", ("replicate", "meta/llama-2-70b-chat")),
        ("claude35_haiku", ("replicate", "anthropic/claude-3.5-haiku")),
        ("mistralai/mixtral-8x7b-instruct-v0.1", ("replicate", "mistralai/mixtral-8x7b-instruct-v0.1")),
        ("meta/llama-2-70b-chat:02e509c789964a7ea8736978a43525956ef40397be9033abf9fd2badfe68c9e3",
         ("replicate", "meta/llama-2-70b-chat:02e509c789964a7ea8736978a43525956ef40397be9033abf9fd2badfe68c9e3")),
        ("replicate:openai/gpt-4o", ("replicate", "openai/gpt-4o")),
        ("scripted:demo", ("scripted", "demo")),
        ("scripted:", ("scripted", "demo")),
        ("  claude35_haiku  ", ("replicate", "anthropic/claude-3.5-haiku")),
    ],
)
def test_resolve_model(name, expected):
    assert resolve_model(name) == expected


@pytest.mark.parametrize("name", ["nonsense:thing", "llama", "a b/c", "./relative/model", "openai:", "replicate:"])
def test_unknown_names_rejected(name):
    with pytest.raises(ValueError, match="unknown model|model name missing"):
        resolve_model(name)


def test_unknown_name_lists_accepted_forms():
    with pytest.raises(ValueError) as caught:
        resolve_model("llama")

    message = str(caught.value)
    assert "llama2_chat_70B" in message
    assert "owner/name" in message
    assert "openai:" in message


def test_aliases_name_replicate_models():
    assert set(MODEL_ALIASES) == {"llama2_7B", "llama2_chat_7B", "llama2_chat_70B", "claude35_haiku"}
    assert all(backend == "replicate" for backend, _ in MODEL_ALIASES.values())


def test_backend_status_reports_presence(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-1234")
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)

    statuses = {status.info.name: status for status in backend_status()}

    assert statuses["openai"].key_set is True
    assert statuses["replicate"].key_set is False
    assert statuses["local"].key_set is None
    assert "sk-test-secret-1234" not in repr(statuses)


def test_models_command_shows_key_presence(monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-1234")
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8-test-secret-5678")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://user:pass@127.0.0.1:8000/v1?token=abc")

    exit_code = main(["models"])

    output = capsys.readouterr().out
    assert exit_code == 0
    assert "OPENAI_API_KEY set" in output
    assert "REPLICATE_API_TOKEN set" in output
    assert "OPENAI_BASE_URL http://127.0.0.1:8000/v1" in output
    assert "sk-test-secret-1234" not in output
    assert "r8-test-secret-5678" not in output
    assert "pass" not in output
    assert "token=abc" not in output


def test_models_command_shows_missing_keys(monkeypatch, capsys):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)

    main(["models"])

    output = capsys.readouterr().out
    assert "OPENAI_API_KEY not set" in output
    assert "REPLICATE_API_TOKEN not set" in output
    for alias, (backend, model) in MODEL_ALIASES.items():
        assert f"{alias}" in output
        assert f"{backend}:{model}" in output


def test_base_url_flag_stored_in_config():
    from tui.cli import build_parser, config_from_arguments

    arguments = build_parser().parse_args(
        ["run", "--model_name", "openai:llama3.2", "--base_url", "http://127.0.0.1:11434/v1", "--timeout", "30"]
    )
    config = config_from_arguments(arguments)

    assert (config.backend, config.model) == ("openai", "llama3.2")
    assert config.base_url == "http://127.0.0.1:11434/v1"
    assert config.timeout == 30.0


@pytest.mark.parametrize(
    ("base_url", "message"),
    [("127.0.0.1:8000", "not an http"), ("http://user:secret@127.0.0.1/v1", "must not contain credentials")],
)
def test_invalid_base_url_rejected(base_url, message):
    from engine.config import RunConfig

    with pytest.raises(ValueError, match=message):
        RunConfig(backend="openai", model="gpt-4o", base_url=base_url).validate()
