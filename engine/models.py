"""Model names: map what a user types to a registered backend and a model id.

`local` (or an empty name) is the built-in SmolLM2-135M-Instruct model; a
path ending in `.gguf` runs that file locally. An explicit `BACKEND:MODEL`
prefix names the backend, e.g. `scripted:demo` or `local:/models/x.gguf`.
"""

from __future__ import annotations

from engine.backends import backend_names

BUILTIN_MODEL = "smollm2-135m-instruct"


def resolve_model(name: str | None) -> tuple[str, str]:
    """Return (backend, model) for a model name typed by a user."""
    name = (name or "").strip()

    if name in ("", "local", BUILTIN_MODEL):
        return "local", BUILTIN_MODEL
    if name.lower().endswith(".gguf"):
        return "local", name

    prefix, separator, rest = name.partition(":")
    if separator and prefix in backend_names():
        return prefix, rest or (BUILTIN_MODEL if prefix == "local" else "demo")

    known = ", ".join(f"{backend}:" for backend in backend_names())
    raise ValueError(
        f"unknown model {name!r}: use 'local' for the built-in model, a path to a .gguf file, "
        f"or a backend prefix ({known})"
    )
