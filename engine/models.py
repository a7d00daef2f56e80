"""Model names: map what a user types to a registered backend and a model id.

The rules, in order (the published scripts' rules, plus local models and
explicit prefixes):

1. `local` (or an empty name) is the built-in SmolLM2-135M-Instruct model.
2. An explicit `BACKEND:MODEL` prefix names the backend: `local:`,
   `openai:`, `replicate:`, `scripted:` (e.g. `openai:llama3.2` for a model
   on an OpenAI-compatible server, `replicate:openai/gpt-4o` for a GPT model
   hosted on Replicate, `local:/models/x.gguf`).
3. A path ending in `.gguf` runs that file locally.
4. The published aliases (`MODEL_ALIASES`) name Replicate models.
5. A name containing `gpt` (any case) goes to OpenAI.
6. Any other `owner/name` or `owner/name:version` is a Replicate model id.

Anything else raises ValueError with the accepted forms.
"""

from __future__ import annotations

import re

from engine.backends import backend_names

BUILTIN_MODEL = "smollm2-135m-instruct"

MODEL_ALIASES: dict[str, tuple[str, str]] = {
    "llama2_7B": ("replicate", "meta/llama-4-scout-instruct"),
    "llama2_chat_7B": ("replicate", "meta/llama-4-scout-instruct"),
    "llama2_chat_70B": ("replicate", "meta/llama-2-70b-chat"),
    "claude35_haiku": ("replicate", "anthropic/claude-3.5-haiku"),
}

DEFAULT_MODELS = {"local": BUILTIN_MODEL, "scripted": "demo"}

REPLICATE_MODEL_ID = re.compile(r"^[\w-][\w.-]*/[\w.-]+(:[0-9a-f]{8,})?$")


def resolve_model(name: str | None) -> tuple[str, str]:
    """Return (backend, model) for a model name typed by a user."""
    name = (name or "").strip()

    if name in ("", "local", BUILTIN_MODEL):
        return "local", BUILTIN_MODEL

    prefix, separator, rest = name.partition(":")
    if separator and prefix in backend_names():
        model = rest.strip() or DEFAULT_MODELS.get(prefix)
        if not model:
            raise ValueError(f"model name missing after {prefix!r}: write {prefix}:MODEL")
        return prefix, model

    if name.lower().endswith(".gguf"):
        return "local", name

    if name in MODEL_ALIASES:
        return MODEL_ALIASES[name]
    if "gpt" in name.lower():
        return "openai", name
    if REPLICATE_MODEL_ID.match(name):
        return "replicate", name

    known = ", ".join(f"{backend}:" for backend in backend_names())
    raise ValueError(
        f"unknown model {name!r}: use 'local' for the built-in model, a path to a .gguf file, "
        f"an alias ({', '.join(MODEL_ALIASES)}), a name containing 'gpt' for OpenAI, "
        f"a Replicate id owner/name, or a backend prefix ({known})"
    )
