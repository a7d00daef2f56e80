"""A fake OpenAI-compatible server on 127.0.0.1 that injects faults on request.

It streams chat completions as server-sent events in chunked transfer
encoding, like the real API, so closing the socket mid-body is a dropped
connection to the client and not a clean end. Each chat request takes the
next fault from `faults` (none: a normal reply):

    Fault("status", status=429, headers={"Retry-After": "0.2"})
    Fault("stall", seconds=2)               # wait before the response starts
    Fault("stall_mid", chunks=2, seconds=2) # wait after two content chunks
    Fault("drop_mid", chunks=2)             # close the socket after two chunks
    Fault("end_mid", chunks=2)              # end the body cleanly after two chunks, with no finish reason
    Fault("close")                          # close the socket without a response

Every wait is bounded, so the server stops by itself. It runs in a thread
with its own blocking sockets, so a test may call blocking code (such as
`prepare_run`) from its event loop.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Fault:
    """One injected failure for one chat request."""

    kind: str
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    chunks: int = 0


class FakeOpenAIServer:
    """The fake server; use as a context manager. `base_url` ends in /v1."""

    def __init__(self, api_key: str = "fake-key", chunk_delay: float = 0.0, models_open: bool = False) -> None:
        self.api_key = api_key
        self.chunk_delay = chunk_delay
        self.models_open = models_open
        self.faults: deque[Fault] = deque()
        self.chat_requests: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-openai", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def reply_text(self, number: int) -> str:
        """Return the text of reply `number` (1-based): five words ending in a full stop."""
        return f"Reply {number} from fake server."

    def _next_request(self, body: dict) -> tuple[int, Fault | None]:
        with self._lock:
            self.chat_requests.append(body)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            fault = self.faults.popleft() if self.faults else None
            return len(self.chat_requests), fault

    def _finish_request(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args) -> None:  # keep test output quiet
                pass

            def authorized(self) -> bool:
                return self.headers.get("Authorization") == f"Bearer {fake.api_key}"

            def send_json(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def send_error_json(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
                self.send_json(status, {"error": {"message": message, "type": "fake", "code": status}}, headers)

            def do_GET(self) -> None:
                if self.path != "/v1/models":
                    self.send_error_json(404, f"no route {self.path}")
                elif not (fake.models_open or self.authorized()):
                    self.send_error_json(401, "Incorrect API key provided")
                else:
                    self.send_json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model", "created": 0, "owned_by": "test"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path != "/v1/chat/completions":
                    self.send_error_json(404, f"no route {self.path}")
                    return

                number, fault = fake._next_request(body)
                try:
                    self.answer_chat(body, number, fault)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, e.g. after its timeout
                finally:
                    fake._finish_request()

            def answer_chat(self, body: dict, number: int, fault: Fault | None) -> None:
                if not self.authorized():
                    self.send_error_json(401, "Incorrect API key provided")
                    return
                if fault is not None and fault.kind == "status":
                    self.send_error_json(fault.status, f"injected HTTP {fault.status}", fault.headers)
                    return
                if fault is not None and fault.kind == "close":
                    self.close_abruptly()
                    return
                if fault is not None and fault.kind == "stall":
                    time.sleep(fault.seconds)

                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()

                words = fake.reply_text(number).split(" ")
                words = [word + " " for word in words[:-1]] + words[-1:]
                for index, word in enumerate(words[: body.get("max_tokens", len(words))]):
                    if fault is not None and index == fault.chunks:
                        if fault.kind == "drop_mid":
                            self.close_abruptly()
                            return
                        if fault.kind == "end_mid":
                            self.send_chunk(b"")
                            return
                        if fault.kind == "stall_mid":
                            time.sleep(fault.seconds)
                            self.close_abruptly()
                            return
                    self.send_event(self.chunk(body, {"content": word}))
                    time.sleep(fake.chunk_delay)

                self.send_event(self.chunk(body, {}, finish_reason="stop"))
                if body.get("stream_options", {}).get("include_usage"):
                    usage = {"prompt_tokens": 11, "completion_tokens": len(words), "total_tokens": 11 + len(words)}
                    self.send_event({**self.chunk(body, {}), "choices": [], "usage": usage})
                self.send_chunk(b"data: [DONE]\n\n")
                self.send_chunk(b"")

            def chunk(self, body: dict, delta: dict, finish_reason: str | None = None) -> dict:
                return {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": body.get("model", "fake-model"),
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
                }

            def send_event(self, payload: dict) -> None:
                self.send_chunk(f"data: {json.dumps(payload)}\n\n".encode())

            def send_chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def close_abruptly(self) -> None:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True

        return Handler
