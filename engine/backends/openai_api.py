"""The `openai` backend: chat completions from any OpenAI-compatible server.

It streams with the official async client (`openai.AsyncOpenAI`) from OpenAI
itself or from any server that speaks the same API through a base URL: vLLM,
the llama.cpp server, Ollama, hosted providers.

Settings, flags first: the key from the `api_key` option or OPENAI_API_KEY,
the base URL from `--base_url` or OPENAI_BASE_URL (default OpenAI's), the
timeout in seconds from `--timeout`. OpenAI's own endpoint needs a key, so a
missing one stops the run before its first turn. Other servers often need
none, so without a key the client sends a placeholder and a 401 from the
server names OPENAI_API_KEY.

The backend asks for token counts in the stream (`stream_options`
include_usage). Servers that send none (the llama.cpp server among them) get
the completion counted as content chunks, about one token each, and the
prompt estimated at four characters a token; a server that rejects
`stream_options` or `max_tokens` is asked again without it, once per backend.

The client's own retries are off (`max_retries=0`): the resilience wrapper
owns retries for every backend.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import openai

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
from engine.config import Sampling

logger = logging.getLogger(__name__)

KEY_VARIABLE = "OPENAI_API_KEY"
BASE_URL_VARIABLE = "OPENAI_BASE_URL"
OPENAI_BASE_URL = "https://api.openai.com/v1"
DEFAULT_TIMEOUT = 60.0
PLACEHOLDER_KEY = "no-key-set"

def endpoint_error(error: openai.APIError) -> EndpointError:
    """Translate an openai client error into an EndpointError for the resilience wrapper."""
    if isinstance(error, openai.APITimeoutError):
        return EndpointError(f"request timed out: {error}", timed_out=True)
    if isinstance(error, openai.APIConnectionError):
        return EndpointError(f"connection failed: {error}")
    if isinstance(error, openai.APIStatusError):
        return EndpointError(
            f"HTTP {error.status_code}: {error.message}",
            status=error.status_code,
            headers=error.response.headers,
        )
    return EndpointError(f"the server sent an error: {error}")


class OpenAIBackend(Backend):
    """Streams chat completions from an OpenAI-compatible server."""

    name = "openai"
    key_variable = KEY_VARIABLE

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        max_concurrency: int | None = None,
    ) -> None:
        super().__init__(model)
        self.base_url = (base_url or os.environ.get(BASE_URL_VARIABLE) or OPENAI_BASE_URL).rstrip("/")
        self.timeout = timeout if timeout is not None else DEFAULT_TIMEOUT
        if max_concurrency:
            self.max_concurrency = max_concurrency

        key = api_key or os.environ.get(KEY_VARIABLE)
        if not key and self._is_openai():
            raise AuthenticationFailed(
                f"no OpenAI key: set {KEY_VARIABLE} to use model {model!r} on {self.endpoint}, "
                f"or give --base_url of a server that needs no key"
            )
        self._key = key or PLACEHOLDER_KEY
        self._ask_usage = True
        self._max_tokens_parameter = "max_tokens"
        self._client: openai.AsyncOpenAI | None = None

    @property
    def endpoint(self) -> str:
        return display_url(self.base_url)

    def _is_openai(self) -> bool:
        return urlsplit(self.base_url).hostname == urlsplit(OPENAI_BASE_URL).hostname

    @property
    def client(self) -> openai.AsyncOpenAI:
        """The async client, created on first use so that it binds to the running loop."""
        if self._client is None:
            self._client = openai.AsyncOpenAI(
                api_key=self._key, base_url=self.base_url, timeout=self.timeout, max_retries=0
            )
        return self._client

    def check_access(self) -> None:
        """List the server's models once with a blocking client; raise when the key is rejected."""
        client = openai.OpenAI(
            api_key=self._key, base_url=self.base_url, timeout=min(self.timeout, 30.0), max_retries=0
        )
        try:
            client.models.list()
        except (openai.AuthenticationError, openai.PermissionDeniedError) as error:
            raise AuthenticationFailed(
                f"{self.endpoint} rejected the key (HTTP {error.status_code}): "
                f"set {KEY_VARIABLE} to a valid key and start the run again"
            ) from None
        except openai.APIConnectionError as error:
            raise BackendError(
                f"cannot reach the OpenAI-compatible server at {self.endpoint} ({error}): "
                f"start it, or set --base_url or {BASE_URL_VARIABLE} to its address"
            ) from None
        except openai.APIStatusError as error:
            # Some compatible servers have no /models; the first turn will tell.
            logger.info("%s: listing models returned HTTP %d; continuing", self.endpoint, error.status_code)
        finally:
            client.close()

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def stream(self, messages: list[Message], sampling: Sampling) -> AsyncIterator[str | Usage]:
        chunks = await self._create(messages, sampling)
        completion_chunks = 0
        usage = None
        finish_reason = None

        try:
            async for chunk in chunks:
                if chunk.usage is not None:
                    usage = chunk.usage
                for choice in chunk.choices:
                    text = choice.delta.content if choice.delta is not None else None
                    if choice.index == 0 and text:
                        completion_chunks += 1
                        yield text
                    if choice.index == 0 and choice.finish_reason:
                        finish_reason = choice.finish_reason
        except openai.APIError as error:
            raise endpoint_error(error) from error
        finally:
            await chunks.close()

        # A stream closed without a finish reason was cut off (e.g. an HTTP/1.0
        # body ended by closing the connection), so the text is not a whole reply.
        if finish_reason is None:
            raise EndpointError(
                f"the stream from {self.endpoint} ended without a finish reason after "
                f"{completion_chunks} fragments, so the reply is incomplete"
            )

        if usage is not None:
            yield Usage(prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens)
            return
        logger.debug("%s sent no token counts for %s; counting chunks", self.endpoint, self.model)
        yield Usage(prompt_tokens=estimate_prompt_tokens(messages), completion_tokens=completion_chunks)

    async def _create(self, messages: list[Message], sampling: Sampling):
        """Start a streamed completion, dropping a parameter the server rejects (at most twice)."""
        for _ in range(3):
            request = {
                "model": self.model,
                "messages": messages,
                "temperature": sampling.temperature,
                "top_p": sampling.top_p,
                "stream": True,
                self._max_tokens_parameter: sampling.max_tokens,
            }
            if sampling.seed is not None:
                request["seed"] = sampling.seed
            if self._ask_usage:
                request["stream_options"] = {"include_usage": True}

            try:
                return await self.client.chat.completions.create(**request)
            except openai.BadRequestError as error:
                if not self._adapt_to(error):
                    raise endpoint_error(error) from error
            except openai.APIError as error:
                raise endpoint_error(error) from error
        raise BackendError(f"{self.endpoint} rejected every form of the request for model {self.model!r}")

    def _adapt_to(self, error: openai.BadRequestError) -> bool:
        """Change the request for a server that rejects one of our parameters; False when none applies."""
        message = str(error.message)
        if self._ask_usage and "stream_options" in message:
            logger.info("%s rejects stream_options; counting tokens instead", self.endpoint)
            self._ask_usage = False
            return True
        if self._max_tokens_parameter == "max_tokens" and "max_completion_tokens" in message:
            logger.info("%s wants max_completion_tokens instead of max_tokens", self.endpoint)
            self._max_tokens_parameter = "max_completion_tokens"
            return True
        return False
