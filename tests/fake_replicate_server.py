"""A fake of Replicate's predictions API on 127.0.0.1, for the official client.

It serves what `replicate.Client(base_url=...)` calls: create a prediction
(by model or by version), get it, cancel it, read the account, and the
prediction's server-sent event stream. A prediction reports `starting` for
`starting_polls` reads, then `processing`:

- with `stream` on, its stream URL sends one `output` event per word, then
  `done` (or an `error` event when `fail_with` is set);
- with `stream` off, each read adds the next word to `output` until the
  prediction succeeds (or fails with `fail_with`).

`create_faults` contains (status, headers) error responses for the next
create requests. `hold_after_first_word` makes the stream wait, at most that many
seconds, after the first word until the prediction is cancelled. Every wait
is bounded, so the server stops by itself.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"


class FakeReplicateServer:
    """The fake server; use as a context manager. `base_url` has no path."""

    def __init__(self, token: str = "r8-fake-token") -> None:
        self.token = token
        self.words = ["Ahoy ", "from ", "the ", "fake ", "model."]
        self.stream = True
        self.starting_polls = 1
        self.fail_with: str | None = None
        self.metrics: dict | None = {"input_token_count": 42, "output_token_count": 5}
        self.hold_after_first_word = 0.0
        self.create_faults: deque[tuple[int, dict[str, str]]] = deque()

        self.creates: list[dict] = []
        self.create_paths: list[str] = []
        self.reads: list[tuple[str, float]] = []
        self.cancelled: list[str] = []
        self.predictions: dict[str, dict] = {}
        self._cancel_events: dict[str, threading.Event] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-replicate", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeReplicateServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        for event in self._cancel_events.values():
            event.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def text(self) -> str:
        return "".join(self.words)

    # Prediction state.

    def _create(self, path: str, body: dict) -> dict:
        with self._lock:
            self.creates.append(body)
            self.create_paths.append(path)
            prediction_id = f"pred{next(self._ids)}"
            model = path.removeprefix("/v1/models/").removesuffix("/predictions") if path.startswith("/v1/models/") else "owner/model"
            urls = {
                "get": f"{self.base_url}/v1/predictions/{prediction_id}",
                "cancel": f"{self.base_url}/v1/predictions/{prediction_id}/cancel",
            }
            if self.stream and body.get("stream"):
                urls["stream"] = f"{self.base_url}/stream/{prediction_id}"
            prediction = {
                "id": prediction_id,
                "model": model,
                "version": body.get("version", VERSION),
                "status": "starting",
                "input": body.get("input", {}),
                "output": None,
                "logs": "",
                "error": None,
                "metrics": None,
                "created_at": "2025-01-01T00:00:00Z",
                "started_at": None,
                "completed_at": None,
                "urls": urls,
                "_reads": 0,
                "_words": 0,
            }
            self.predictions[prediction_id] = prediction
            self._cancel_events[prediction_id] = threading.Event()
            return self._public(prediction)

    def _read(self, prediction_id: str) -> dict | None:
        with self._lock:
            self.reads.append((prediction_id, time.monotonic()))
            prediction = self.predictions.get(prediction_id)
            if prediction is None:
                return None
            prediction["_reads"] += 1
            if prediction["status"] in ("succeeded", "failed", "canceled"):
                return self._public(prediction)
            if prediction["_reads"] <= self.starting_polls:
                return self._public(prediction)

            prediction["status"] = "processing"
            if "stream" not in prediction["urls"]:
                prediction["_words"] = min(len(self.words), prediction["_words"] + 1)
                prediction["output"] = self.words[: prediction["_words"]]
                if prediction["_words"] == len(self.words):
                    self._finish(prediction)
            return self._public(prediction)

    def _finish(self, prediction: dict) -> None:
        if self.fail_with:
            prediction["status"] = "failed"
            prediction["error"] = self.fail_with
        else:
            prediction["status"] = "succeeded"
            prediction["output"] = list(self.words)
            prediction["metrics"] = self.metrics
        prediction["completed_at"] = "2025-01-01T00:00:01Z"

    def _cancel(self, prediction_id: str) -> dict | None:
        with self._lock:
            prediction = self.predictions.get(prediction_id)
            if prediction is None:
                return None
            self.cancelled.append(prediction_id)
            if prediction["status"] not in ("succeeded", "failed"):
                prediction["status"] = "canceled"
            self._cancel_events[prediction_id].set()
            return self._public(prediction)

    @staticmethod
    def _public(prediction: dict) -> dict:
        return {name: value for name, value in prediction.items() if not name.startswith("_")}

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args) -> None:  # keep test output quiet
                pass

            def send_json(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def send_problem(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
                self.send_json(status, {"title": "fake error", "detail": detail, "status": status}, headers)

            def authorized(self) -> bool:
                if self.headers.get("Authorization") == f"Bearer {fake.token}":
                    return True
                self.send_problem(401, "You did not pass a valid authentication token")
                return False

            def do_GET(self) -> None:
                if not self.authorized():
                    return
                if self.path == "/v1/account":
                    self.send_json(200, {"type": "user", "username": "tester", "name": "Tester", "github_url": None})
                elif self.path.startswith("/v1/predictions/"):
                    prediction = fake._read(self.path.removeprefix("/v1/predictions/"))
                    self.answer(prediction)
                elif self.path.startswith("/stream/"):
                    try:
                        self.stream_events(self.path.removeprefix("/stream/"))
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                else:
                    self.send_problem(404, f"no route {self.path}")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self.authorized():
                    return
                if self.path.endswith("/cancel"):
                    prediction_id = self.path.removeprefix("/v1/predictions/").removesuffix("/cancel")
                    self.answer(fake._cancel(prediction_id))
                elif self.path == "/v1/predictions" or (self.path.startswith("/v1/models/") and self.path.endswith("/predictions")):
                    with fake._lock:
                        fault = fake.create_faults.popleft() if fake.create_faults else None
                    if fault is not None:
                        fake.creates.append(body)
                        self.send_problem(fault[0], f"injected HTTP {fault[0]}", fault[1])
                    else:
                        self.send_json(201, fake._create(self.path, body))
                else:
                    self.send_problem(404, f"no route {self.path}")

            def answer(self, prediction: dict | None) -> None:
                if prediction is None:
                    self.send_problem(404, "prediction not found")
                else:
                    self.send_json(200, prediction)

            def stream_events(self, prediction_id: str) -> None:
                prediction = fake.predictions.get(prediction_id)
                if prediction is None:
                    self.send_problem(404, "prediction not found")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()

                cancelled = fake._cancel_events[prediction_id]
                for index, word in enumerate(fake.words, start=1):
                    self.send_event("output", index, word)
                    if index == 1 and fake.hold_after_first_word:
                        cancelled.wait(fake.hold_after_first_word)
                    if cancelled.is_set():
                        self.send_event("done", index + 1, json.dumps({"reason": "canceled"}))
                        self.send_chunk(b"")
                        return

                with fake._lock:
                    fake._finish(prediction)
                if fake.fail_with:
                    self.send_event("error", len(fake.words) + 1, fake.fail_with)
                else:
                    self.send_event("done", len(fake.words) + 1, "{}")
                self.send_chunk(b"")

            def send_event(self, event: str, event_id: int, data: str) -> None:
                self.send_chunk(f"event: {event}\nid: {event_id}\ndata: {data}\n\n".encode())

            def send_chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

        return Handler
