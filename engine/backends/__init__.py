"""Backend registry: backends are looked up by name, scripted and remote alike.

`create_backend()` returns every backend wrapped in
`engine.backends.resilience.ResilientBackend`, so retries, backoff and the
per-endpoint concurrency limit apply to all of them in one place.
`backend_status()` reports which keys are set, for `model-drift models` and
the run form, without ever returning a key.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from engine.backends.base import (
    AuthenticationFailed,
    Backend,
    BackendError,
    EndpointError,
    Message,
    Reply,
    ReplyInterrupted,
    Usage,
    display_url,
    generate,
)

BackendFactory = Callable[..., Backend]

_REGISTRY: dict[str, BackendFactory] = {}


@dataclass(frozen=True)
class BackendInfo:
    """Description of a backend with its key variable and base-URL variable (None when it has none)."""

    name: str
    description: str
    key_variable: str | None = None
    base_url_variable: str | None = None


@dataclass(frozen=True)
class BackendStatus:
    """Whether a backend's key and base URL are set in the environment; never the key itself."""

    info: BackendInfo
    key_set: bool | None
    base_url: str | None


_INFO: dict[str, BackendInfo] = {}


def register_backend(name: str, factory: BackendFactory, info: BackendInfo | None = None) -> None:
    """Register `factory(model, **options)` under `name`, replacing any earlier one."""
    _REGISTRY[name] = factory
    _INFO[name] = info or BackendInfo(name, "")


def backend_names() -> list[str]:
    """Return the registered backend names, sorted."""
    return sorted(_REGISTRY)


def create_backend(name: str, model: str, **options) -> Backend:
    """Create a backend by registered name, wrapped with retries and a concurrency limit.

    `max_attempts` is taken for the wrapper's RetryPolicy; the other options
    go to the backend's factory. BackendError names the known backends for
    an unknown name; AuthenticationFailed names the variable of a missing key.
    """
    from engine.backends.resilience import ResilientBackend, RetryPolicy

    try:
        factory = _REGISTRY[name]
    except KeyError:
        known = ", ".join(backend_names())
        raise BackendError(f"unknown backend {name!r}: use one of {known}") from None

    max_attempts = options.pop("max_attempts", None)
    policy = RetryPolicy(max_attempts=max_attempts) if max_attempts else RetryPolicy()
    return ResilientBackend(factory(model, **options), policy=policy)


def backend_status() -> list[BackendStatus]:
    """Return, per registered backend, whether its key variable and base-URL variable are set."""
    statuses = []
    for name in backend_names():
        info = _INFO[name]
        key_set = bool(os.environ.get(info.key_variable)) if info.key_variable else None
        base_url = os.environ.get(info.base_url_variable) if info.base_url_variable else None
        statuses.append(BackendStatus(info, key_set, display_url(base_url) if base_url else None))
    return statuses


def environment_base_url(name: str) -> str | None:
    """Return the base URL that backend `name`'s variable (e.g. OPENAI_BASE_URL) sets, or None."""
    info = _INFO.get(name)
    if info is None or info.base_url_variable is None:
        return None
    return os.environ.get(info.base_url_variable) or None


def _without_endpoint_options(name: str, options: dict) -> dict:
    """Drop `timeout` (no transport to time out) and reject `base_url` for an in-process backend."""
    if options.pop("base_url", None):
        raise BackendError(f"--base_url applies to the openai and replicate backends, not to {name}")
    options.pop("timeout", None)
    return options


def _create_local(model: str, **options) -> Backend:
    from engine.backends.local import LocalBackend

    return LocalBackend(model, **_without_endpoint_options("local", options))


def _create_scripted(model: str, **options) -> Backend:
    from engine.backends.scripted import ScriptedBackend

    return ScriptedBackend(model, **_without_endpoint_options("scripted", options))


def _create_openai(model: str, **options) -> Backend:
    from engine.backends.openai_api import OpenAIBackend

    return OpenAIBackend(model, **options)


def _create_replicate(model: str, **options) -> Backend:
    from engine.backends.replicate_api import ReplicateBackend

    return ReplicateBackend(model, **options)


register_backend("local", _create_local, BackendInfo("local", "llama-cpp-python on a GGUF file, on the CPU"))
register_backend("scripted", _create_scripted, BackendInfo("scripted", "canned replies, for tests and demos"))
register_backend(
    "openai",
    _create_openai,
    BackendInfo("openai", "OpenAI or any OpenAI-compatible server", "OPENAI_API_KEY", "OPENAI_BASE_URL"),
)
register_backend(
    "replicate",
    _create_replicate,
    BackendInfo("replicate", "models hosted on Replicate", "REPLICATE_API_TOKEN", "REPLICATE_BASE_URL"),
)

__all__ = [
    "AuthenticationFailed",
    "Backend",
    "BackendError",
    "BackendInfo",
    "BackendStatus",
    "EndpointError",
    "Message",
    "Reply",
    "ReplyInterrupted",
    "Usage",
    "backend_names",
    "backend_status",
    "create_backend",
    "generate",
    "register_backend",
]
