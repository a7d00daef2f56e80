"""Built-in model throughput: our `local` backend against llama-cpp-python called directly.

Both paths run the same prompts with the same seeds and token limits on the
same shared `Llama` instance. Each prompt carries a distinct marker at its
start, so neither path can reuse an evaluated prefix from the other and both
evaluate the full prompt. Prints tokens per second for each path and the
ratio (goal: at least 0.9).

    python benchmarks/bench_local.py [--prompts 8] [--max-tokens 128]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from engine.backends.base import generate
from engine.backends.local import LocalBackend, shared_model
from engine.config import Sampling
from engine.starters import STARTERS


def prompt_messages(marker: str, starter: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": f"[{marker}] You love playing tennis. It's your favorite hobby."},
        {"role": "user", "content": starter},
    ]


def run_direct(model, messages, sampling: Sampling) -> tuple[int, float]:
    """Stream one completion straight from llama-cpp-python; return (tokens, seconds)."""
    started = time.perf_counter()
    tokens = 0
    chunks = model.create_chat_completion(
        messages=messages,
        temperature=sampling.temperature,
        top_p=sampling.top_p,
        max_tokens=sampling.max_tokens,
        seed=sampling.seed,
        stream=True,
    )
    for chunk in chunks:
        if chunk["choices"][0]["delta"].get("content"):
            tokens += 1
    return tokens, time.perf_counter() - started


async def run_ours(backend: LocalBackend, messages, sampling: Sampling) -> tuple[int, float]:
    """Stream one completion through our backend; return (tokens, seconds)."""
    reply = await generate(backend, messages, sampling)
    return reply.usage.completion_tokens, reply.seconds


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prompts", type=int, default=8, help="number of prompts (default 8)")
    parser.add_argument("--max-tokens", type=int, default=128, help="new tokens per reply (default 128)")
    arguments = parser.parse_args()

    backend = LocalBackend()
    model = shared_model(backend.path)
    await run_ours(backend, prompt_messages("warm-up", STARTERS[0]), Sampling(max_tokens=8, seed=0))

    totals = {"direct": [0, 0.0], "ours": [0, 0.0]}
    for number in range(arguments.prompts):
        sampling = Sampling(max_tokens=arguments.max_tokens, seed=number)
        starter = STARTERS[number % len(STARTERS)]
        order = ("direct", "ours") if number % 2 == 0 else ("ours", "direct")

        for path in order:
            messages = prompt_messages(f"{path}-{number}", starter)
            if path == "direct":
                tokens, seconds = run_direct(model, messages, sampling)
            else:
                tokens, seconds = await run_ours(backend, messages, sampling)
            totals[path][0] += tokens
            totals[path][1] += seconds

    rates = {path: tokens / seconds for path, (tokens, seconds) in totals.items()}
    for path, (tokens, seconds) in totals.items():
        print(f"{path:>6}: {tokens} tokens in {seconds:.2f} s = {rates[path]:.1f} tokens/s")
    print(f"ratio ours/direct: {rates['ours'] / rates['direct']:.3f} (goal >= 0.9)")


if __name__ == "__main__":
    asyncio.run(main())
