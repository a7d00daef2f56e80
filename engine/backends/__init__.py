"""Backend registry: backends are looked up by name, scripted and local alike."""

from __future__ import annotations

from collections.abc import Callable

from engine.backends.base import Backend, BackendError, Message, Reply, Usage, generate

BackendFactory = Callable[..., Backend]

_REGISTRY: dict[str, BackendFactory] = {}


def register_backend(name: str, factory: BackendFactory) -> None:
    """Register `factory(model, **options)` under `name`, replacing any earlier one."""
    _REGISTRY[name] = factory


def backend_names() -> list[str]:
    """Return the registered backend names, sorted."""
    return sorted(_REGISTRY)


def create_backend(name: str, model: str, **options) -> Backend:
    """Create a backend by registered name; BackendError names the known ones."""
    try:
        factory = _REGISTRY[name]
    except KeyError:
        known = ", ".join(backend_names())
        raise BackendError(f"unknown backend {name!r}: use one of {known}") from None
    return factory(model, **options)


def _create_local(model: str, **options) -> Backend:
    from engine.backends.local import LocalBackend

    return LocalBackend(model, **options)


def _create_scripted(model: str, **options) -> Backend:
    from engine.backends.scripted import ScriptedBackend

    return ScriptedBackend(model, **options)


register_backend("local", _create_local)
register_backend("scripted", _create_scripted)

__all__ = [
    "Backend",
    "BackendError",
    "Message",
    "Reply",
    "Usage",
    "backend_names",
    "create_backend",
    "generate",
    "register_backend",
]
