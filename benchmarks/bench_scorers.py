"""Time scoring one ~400-token answer against all 100 persona scorers.

    python benchmarks/bench_scorers.py [--rounds 30]

Prints the import time, the first call (which loads the tagger model, the
pronouncing dictionary, the VADER lexicon and the langdetect profiles), the
median and 90th percentile of a full pass after warm-up, and the slowest
scorers on their own. Every pass scores a new variant of the answer, because
tokens, sentences, tags and sentiment are cached per text.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# About 330 words, which a GPT-style tokenizer counts as roughly 400 tokens.
ANSWER = (
    "As a tourist in London, I would start my day early at the British Museum, where the Rosetta "
    "Stone and the Parthenon sculptures draw crowds from all over the world. After a couple of "
    "hours there, I'd walk down to Covent Garden for lunch, perhaps trying a proper fish and chips "
    "or a warm pie from one of the market stalls. In the afternoon, I would cross the Thames on "
    "the Millennium Bridge to visit Tate Modern, then stroll along the South Bank past Shakespeare's "
    "Globe. Don't miss the view of St Paul's Cathedral from the bridge! If the weather holds, a ride "
    "on the London Eye gives a wonderful panorama of Westminster, Big Ben and the Houses of "
    "Parliament. On the second day, I'd explore the Tower of London, see the Crown Jewels and "
    "listen to the Yeoman Warders' stories, which are often funny and sometimes gruesome. Then I "
    "would take the Tube to Camden Market for vintage clothes and street food from every continent. "
    "Evenings are for the West End: a musical such as Les Misérables or a play at the National "
    "Theatre. On a third day, Greenwich is lovely, with the Royal Observatory, the prime meridian "
    "and the Cutty Sark, and the boat trip along the river is half the fun. Hyde Park and Kensington "
    "Gardens offer a quiet break, and the Natural History Museum, the Science Museum and the V&A "
    "are free and right next to each other. Finally, I would buy a few souvenirs, maybe a tin of "
    "tea from Fortnum & Mason, and end with a pint in a traditional pub. Would you like more "
    "suggestions for food, day trips or budget tips? London rewards curiosity, so walk as much as "
    "you can, look up at the buildings, and talk to the locals, who are friendlier than their "
    "reputation suggests."
)


def time_pass(personas: list, text: str) -> float:
    """Score `text` with every persona's scorer (both values); return seconds."""
    start = time.perf_counter()
    for persona in personas:
        persona.scorer.score(text)
        persona.scorer.published(text)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description="Time the 100 persona scorers on one answer.")
    parser.add_argument("--rounds", type=int, default=30, help="timed passes after warm-up (default 30)")
    args = parser.parse_args()

    start = time.perf_counter()
    from engine.personas import load_personas

    personas = [persona for persona in load_personas() if persona.scorer is not None]
    import_seconds = time.perf_counter() - start

    first_seconds = time_pass(personas, ANSWER)

    for warm_up in range(3):
        time_pass(personas, f"{ANSWER} Warm-up {warm_up}.")

    passes = [time_pass(personas, f"{ANSWER} Round {round_number}.") for round_number in range(args.rounds)]
    passes.sort()

    per_scorer = []
    for persona in personas:
        variant = f"{ANSWER} Alone {persona.index}."
        start = time.perf_counter()
        persona.scorer.score(variant)
        per_scorer.append((time.perf_counter() - start, persona.index, persona.scorer.kind))
    per_scorer.sort(reverse=True)

    words = len(ANSWER.split())
    print(f"answer: {words} words, {len(ANSWER)} characters; {len(personas)} scorers, score and published")
    print(f"import and load personas.json: {import_seconds * 1000:8.1f} ms")
    print(f"first pass (loads data):       {first_seconds * 1000:8.1f} ms")
    print(f"median pass after warm-up:     {statistics.median(passes) * 1000:8.1f} ms  ({args.rounds} rounds)")
    print(f"90th percentile pass:          {passes[int(len(passes) * 0.9) - 1] * 1000:8.1f} ms")
    print("slowest scorers alone (fresh text, shared tokenisation included):")
    for seconds, index, kind in per_scorer[:6]:
        print(f"  persona {index:3d} {kind:24s} {seconds * 1000:7.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
