"""Named word lists from `engine/data/word_lists.json`, referenced by scorer specs."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

WORD_LISTS_PATH = Path(__file__).resolve().parent.parent / "data" / "word_lists.json"


@lru_cache(maxsize=1)
def _all_lists() -> dict[str, tuple[str, ...]]:
    with WORD_LISTS_PATH.open(encoding="utf-8") as handle:
        raw = json.load(handle)
    return {name: tuple(str(word) for word in words) for name, words in raw.items()}


def word_list(name: str) -> tuple[str, ...]:
    """Return the named list; raise ValueError listing the known names if it is missing."""
    lists = _all_lists()
    if name not in lists:
        known = ", ".join(sorted(lists))
        raise ValueError(f"word list {name!r} not found in {WORD_LISTS_PATH} (known lists: {known})")
    return lists[name]
