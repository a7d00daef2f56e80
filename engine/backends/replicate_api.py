"""The `replicate` backend: predictions on Replicate through the official client.

Each reply is one prediction. The backend creates it with `stream=True` and
polls until the model has started, because a cold model can boot for minutes
and a silent event stream would hit the read timeout. Then it reads the
server-sent events when the prediction has a stream URL. Models without one are polled
with short, growing intervals (0.2 s growing by half up to 2 s) until the
prediction finishes. The input for each model family is built by
`engine.backends.replicate_formats`.

When the reply is abandoned (the run is stopped, or the stream fails) a
prediction that has not finished is cancelled, so it stops costing money.

The token comes from the `api_key` option or REPLICATE_API_TOKEN; without
one the backend is not created. Error responses are turned into
`EndpointError` by an httpx response hook, keeping status and Retry-After for
the resilience wrapper. Token counts come from the prediction's metrics;
when it has none the output fragments are counted and the prompt estimated.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from collections.abc import AsyncIterator

import httpx
import replicate
from replicate.exceptions import ReplicateError
from replicate.stream import ServerSentEvent

from engine.backends.base import (
    AuthenticationFailed,
    Backend,
    BackendError,
    EndpointError,
    Message,
    Usage,
    display_url,
    estimate_prompt_tokens,
)
from engine.backends.replicate_formats import prediction_input
from engine.config import Sampling

logger = logging.getLogger(__name__)

KEY_VARIABLE = "REPLICATE_API_TOKEN"
BASE_URL_VARIABLE = "REPLICATE_BASE_URL"
REPLICATE_BASE_URL = "https://api.replicate.com"
DEFAULT_TIMEOUT = 60.0
FIRST_POLL_SECONDS = 0.2
POLL_GROWTH = 1.5
MAX_POLL_SECONDS = 2.0
CANCEL_TIMEOUT_SECONDS = 10.0

FINISHED = frozenset({"succeeded", "failed", "canceled"})
MODEL_ID = re.compile(r"^(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)(?::(?P<version>[0-9a-f]{8,}))?$")


def poll_intervals():
    """Yield the waits between polls, in seconds: FIRST_POLL_SECONDS, growing to MAX_POLL_SECONDS."""
    interval = FIRST_POLL_SECONDS
    while True:
        yield interval
        interval = min(MAX_POLL_SECONDS, interval * POLL_GROWTH)


def output_text(item) -> str:
    """Return the text of one output item; the client turns URL-like text into file objects."""
    if isinstance(item, str):
        return item
    url = getattr(item, "url", None)
    return url if isinstance(url, str) else str(item)


def problem_detail(response: httpx.Response) -> str:
    """Return the RFC 7807 detail (or title, or text) of an error response, shortened."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        detail = data.get("detail") or data.get("title")
        if detail:
            return str(detail)[:300]
    return response.text[:300] or response.reason_phrase


class ReplicateBackend(Backend):
    """Streams replies from a model on Replicate, one prediction per reply."""

    name = "replicate"
    key_variable = KEY_VARIABLE

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        max_concurrency: int | None = None,
        use_stream: bool = True,
    ) -> None:
        super().__init__(model)
        match = MODEL_ID.match(model)
        if match is None:
            raise BackendError(
                f"invalid Replicate model id {model!r}: use owner/name or owner/name:version, "
                f"e.g. meta/llama-2-70b-chat"
            )
        self.owner, self.model_name, self.version = match["owner"], match["name"], match["version"]

        self._key = api_key or os.environ.get(KEY_VARIABLE)
        self.base_url = (base_url or os.environ.get(BASE_URL_VARIABLE) or REPLICATE_BASE_URL).rstrip("/")
        if not self._key:
            raise AuthenticationFailed(
                f"no Replicate token: set {KEY_VARIABLE} to use model {model!r} on {self.endpoint}"
            )
        self.timeout = timeout if timeout is not None else DEFAULT_TIMEOUT
        if max_concurrency:
            self.max_concurrency = max_concurrency
        self.use_stream = use_stream
        self._client: replicate.Client | None = None
        self._transport: httpx.AsyncHTTPTransport | None = None

    @property
    def endpoint(self) -> str:
        return display_url(self.base_url)

    @property
    def client(self) -> replicate.Client:
        """The client for async calls, created on first use; error responses raise EndpointError.

        The transport is ours so that `close()` can release its connections;
        the client has no close method of its own.
        """
        if self._client is None:
            self._transport = httpx.AsyncHTTPTransport()
            self._client = replicate.Client(
                api_token=self._key,
                base_url=self.base_url,
                timeout=httpx.Timeout(self.timeout),
                transport=self._transport,
                event_hooks={"response": [self._raise_for_error_response]},
            )
        return self._client

    async def _raise_for_error_response(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        await response.aread()
        raise EndpointError(
            f"HTTP {response.status_code} from {self.endpoint}: {problem_detail(response)}",
            status=response.status_code,
            headers=response.headers,
        )

    def check_access(self) -> None:
        """Fetch the account once with a blocking client; raise when the token is rejected."""
        transport = httpx.HTTPTransport()
        client = replicate.Client(
            api_token=self._key, base_url=self.base_url, timeout=httpx.Timeout(30.0), transport=transport
        )
        try:
            client.accounts.current()
        except ReplicateError as error:
            if error.status in (401, 403):
                raise AuthenticationFailed(
                    f"{self.endpoint} rejected the token (HTTP {error.status}): "
                    f"set {KEY_VARIABLE} to a valid token and start the run again"
                ) from None
            logger.info("%s: reading the account returned HTTP %s; continuing", self.endpoint, error.status)
        except httpx.TransportError as error:
            raise BackendError(f"cannot reach Replicate at {self.endpoint} ({error}); check the network") from None
        finally:
            transport.close()

    async def stream(self, messages: list[Message], sampling: Sampling) -> AsyncIterator[str | Usage]:
        prediction = await self._create(prediction_input(self.model, messages, sampling))
        logger.info("prediction %s created for %s", prediction.id, self.model)
        fragments = 0
        finished = False

        try:
            async for fragment in self._fragments(prediction):
                fragments += 1
                yield fragment
            finished = True
        finally:
            if not finished:
                await self._cancel(prediction.id)

        yield self._usage(prediction, messages, fragments)

    async def _create(self, values: dict):
        if self.version:
            return await self.client.predictions.async_create(version=self.version, input=values, stream=True)
        return await self.client.models.predictions.async_create(
            model=(self.owner, self.model_name), input=values, stream=True
        )

    async def _fragments(self, prediction) -> AsyncIterator[str]:
        """Yield the prediction's output text: from its event stream, or by polling."""
        intervals = poll_intervals()
        while prediction.status == "starting":
            await asyncio.sleep(next(intervals))
            await prediction.async_reload()

        stream_url = (prediction.urls or {}).get("stream")
        if self.use_stream and stream_url and prediction.status not in FINISHED:
            async for fragment in self._streamed(prediction):
                yield fragment
            await prediction.async_reload()
        else:
            async for fragment in self._polled(prediction, intervals):
                yield fragment

        if prediction.status == "failed":
            raise BackendError(f"Replicate prediction {prediction.id} failed: {prediction.error}")
        if prediction.status == "canceled":
            raise BackendError(f"Replicate prediction {prediction.id} was canceled before it finished")

    async def _streamed(self, prediction) -> AsyncIterator[str]:
        try:
            async for event in prediction.async_stream():
                if event.event == ServerSentEvent.EventType.OUTPUT:
                    yield output_text(event.data)
                elif event.event == ServerSentEvent.EventType.DONE:
                    self._raise_for_done_reason(prediction, event.data)
                    return
        except RuntimeError as error:
            # The client raises RuntimeError(data) for an `error` event.
            raise BackendError(f"Replicate prediction {prediction.id} failed: {error}") from None

    @staticmethod
    def _raise_for_done_reason(prediction, data: str) -> None:
        try:
            reason = json.loads(data or "{}").get("reason")
        except (ValueError, AttributeError):
            reason = None
        if reason in ("error", "canceled"):
            raise BackendError(f"Replicate prediction {prediction.id} ended its stream: {reason}")

    async def _polled(self, prediction, intervals) -> AsyncIterator[str]:
        sent = 0
        while True:
            output = prediction.output
            if isinstance(output, list):
                for item in output[sent:]:
                    yield output_text(item)
                sent = len(output)
            elif output is not None:
                text = output_text(output)
                if len(text) > sent:
                    yield text[sent:]
                sent = len(text)

            if prediction.status in FINISHED:
                return
            await asyncio.sleep(next(intervals))
            await prediction.async_reload()

    async def _cancel(self, prediction_id: str) -> None:
        """Cancel a prediction that is still running, shielded from the run's own cancellation."""
        try:
            await asyncio.wait_for(
                asyncio.shield(self.client.predictions.async_cancel(prediction_id)), CANCEL_TIMEOUT_SECONDS
            )
            logger.info("prediction %s cancelled", prediction_id)
        except (EndpointError, ReplicateError, httpx.HTTPError, TimeoutError) as error:
            logger.warning("prediction %s could not be cancelled: %s", prediction_id, error)

    @staticmethod
    def _usage(prediction, messages: list[Message], fragments: int) -> Usage:
        metrics = prediction.metrics or {}
        prompt_tokens = metrics.get("input_token_count")
        completion_tokens = metrics.get("output_token_count")
        return Usage(
            prompt_tokens=int(prompt_tokens) if prompt_tokens is not None else estimate_prompt_tokens(messages),
            completion_tokens=int(completion_tokens) if completion_tokens is not None else fragments,
        )

    async def close(self) -> None:
        if self._transport is not None:
            await self._transport.aclose()
        self._client = None
        self._transport = None
