"""The 45 conversation starters of the benchmark; one opens each self-chat."""

from __future__ import annotations

import json
from pathlib import Path

STARTERS_PATH = Path(__file__).parent / "data" / "conversation_starters.json"

STARTERS: list[str] = json.loads(STARTERS_PATH.read_text(encoding="utf-8"))
