"""Per-reply overhead of our openai backend and resilience wrapper over the bare client.

Starts the llama.cpp OpenAI-compatible server on the built-in model on
127.0.0.1. Then it times pairs of identical streamed chat completions, with
the same prompt, seed and token limit. One comes straight from
`openai.AsyncOpenAI`, the other through `generate()` on
`create_backend("openai", ...)`, which adds the backend, the retry wrapper
and the endpoint semaphore. The order inside each pair alternates. Prints the median time of each path and the median of the
per-pair differences (goal: under 5 ms). It also times the wrapper alone
around an in-process backend that replies at once, where nothing else moves.

    python benchmarks/bench_wrapper.py [--pairs 30] [--max-tokens 8]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import openai

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from llama_server import llama_server  # noqa: E402

from engine.backends import create_backend, generate  # noqa: E402
from engine.backends.resilience import ResilientBackend  # noqa: E402
from engine.backends.scripted import ScriptedBackend  # noqa: E402
from engine.config import Sampling  # noqa: E402

MESSAGES = [
    {"role": "system", "content": "You love playing tennis. It's your favorite hobby."},
    {"role": "user", "content": "What did you do last weekend?"},
]


async def direct_reply(client: openai.AsyncOpenAI, sampling: Sampling) -> float:
    """Stream one completion with the bare client; return its seconds."""
    started = time.perf_counter()
    chunks = await client.chat.completions.create(
        model="smollm2",
        messages=MESSAGES,
        temperature=sampling.temperature,
        top_p=sampling.top_p,
        max_tokens=sampling.max_tokens,
        seed=sampling.seed,
        stream=True,
    )
    text = []
    async for chunk in chunks:
        for choice in chunk.choices:
            if choice.delta.content:
                text.append(choice.delta.content)
    return time.perf_counter() - started


async def wrapped_reply(backend, sampling: Sampling) -> float:
    """Stream one completion through generate() and the wrapper; return its seconds."""
    started = time.perf_counter()
    await generate(backend, MESSAGES, sampling, on_token=lambda _: None)
    return time.perf_counter() - started


async def measure_server(base_url: str, api_key: str, pairs: int, max_tokens: int) -> None:
    sampling = Sampling(max_tokens=max_tokens, seed=1)
    client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=120.0)
    backend = create_backend("openai", "smollm2", base_url=base_url, api_key=api_key, timeout=120.0)

    # Warm up both paths: the first call evaluates the prompt, later ones reuse it.
    await direct_reply(client, sampling)
    await wrapped_reply(backend, sampling)

    direct_times, wrapped_times, differences = [], [], []
    for pair in range(pairs):
        if pair % 2 == 0:
            direct = await direct_reply(client, sampling)
            wrapped = await wrapped_reply(backend, sampling)
        else:
            wrapped = await wrapped_reply(backend, sampling)
            direct = await direct_reply(client, sampling)
        direct_times.append(direct)
        wrapped_times.append(wrapped)
        differences.append(wrapped - direct)

    await client.close()
    await backend.close()

    print(f"llama.cpp server, {pairs} pairs, {max_tokens} tokens per reply")
    print(f"  direct openai client   median {statistics.median(direct_times) * 1000:8.2f} ms")
    print(f"  backend + wrapper      median {statistics.median(wrapped_times) * 1000:8.2f} ms")
    print(f"  overhead per reply     median {statistics.median(differences) * 1000:8.2f} ms (goal < 5 ms)")


async def measure_in_process(replies: int) -> None:
    """Time generate() on a scripted backend with and without the wrapper."""
    sampling = Sampling(max_tokens=16)
    text = "one two three four five six seven eight nine ten eleven twelve"
    bare = ScriptedBackend(replies=[text])
    wrapped = ResilientBackend(ScriptedBackend(replies=[text]))

    async def median_seconds(backend) -> float:
        times = []
        for _ in range(replies):
            started = time.perf_counter()
            await generate(backend, MESSAGES, sampling, on_token=lambda _: None)
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    bare_seconds = await median_seconds(bare)
    wrapped_seconds = await median_seconds(wrapped)
    print(f"in-process scripted backend, {replies} replies of 12 fragments")
    print(f"  bare       median {bare_seconds * 1e6:8.1f} us")
    print(f"  wrapped    median {wrapped_seconds * 1e6:8.1f} us")
    print(f"  overhead   median {(wrapped_seconds - bare_seconds) * 1e6:8.1f} us")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=30, help="pairs of replies to time (default 30)")
    parser.add_argument("--max-tokens", type=int, default=8, help="tokens per reply (default 8)")
    arguments = parser.parse_args()

    asyncio.run(measure_in_process(2000))
    with tempfile.TemporaryDirectory() as folder, llama_server(Path(folder)) as server:
        asyncio.run(measure_server(server.base_url, server.api_key, arguments.pairs, arguments.max_tokens))


if __name__ == "__main__":
    main()
