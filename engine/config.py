"""Run configuration: which models, personas, topic, seed and sampling.

A `RunConfig` with every value resolved (no -1 left) identifies a run: the
same resolved configuration resumes the stored run instead of starting anew.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import asdict, dataclass, field, replace

from engine.starters import STARTERS

PERSONA_COUNT_DEFAULT = 100


@dataclass(frozen=True)
class Sampling:
    """Sampling settings for one model call (published defaults)."""

    temperature: float = 1.0
    top_p: float = 0.9
    max_tokens: int = 400
    seed: int | None = None


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a self-chat run.

    `agent`, `user` and `topic` may be -1 before `resolve()`, which draws them
    with `seed` the way the published run.py does.
    """

    backend: str = "local"
    model: str = "smollm2-135m-instruct"
    agent: int = -1
    user: int = -1
    topic: int = -1
    seed: int = 1
    turns: int = 8
    runs: int = 2
    sampling: Sampling = field(default_factory=Sampling)
    # Multiply probe scores by "more than half the words are English words", as
    # the published pipeline does; never applied to personas that ask for French.
    fluency_gate: bool = False

    def resolve(self, persona_count: int = PERSONA_COUNT_DEFAULT) -> RunConfig:
        """Return a copy with agent, user and topic drawn from the seed where -1."""
        rng = random.Random(self.seed)
        agent = self.agent if self.agent >= 0 else rng.randrange(persona_count)
        user = self.user if self.user >= 0 else rng.randrange(persona_count)
        topic = self.topic if self.topic >= 0 else rng.randrange(len(STARTERS))
        return replace(self, agent=agent, user=user, topic=topic)

    def validate(self, persona_count: int = PERSONA_COUNT_DEFAULT) -> None:
        """Raise ValueError naming the invalid value and the accepted range."""
        for name in ("agent", "user"):
            index = getattr(self, name)
            if not -1 <= index < persona_count:
                raise ValueError(
                    f"unknown {name} persona index {index}: use 0..{persona_count - 1}, "
                    f"or -1 to draw one with the seed"
                )
        if not -1 <= self.topic < len(STARTERS):
            raise ValueError(
                f"unknown topic {self.topic}: use 0..{len(STARTERS) - 1}, "
                f"or -1 to draw one with the seed"
            )
        if self.turns < 2:
            raise ValueError(f"--turns {self.turns} is too small: use 2 or more")
        if self.runs < 1:
            raise ValueError(f"--runs {self.runs} is too small: use 1 or more")
        if self.sampling.max_tokens < 1:
            raise ValueError(f"max tokens {self.sampling.max_tokens} is too small: use 1 or more")

    def to_dict(self) -> dict:
        """Return a JSON-ready dict, as stored with the run."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> RunConfig:
        """Build a RunConfig from `to_dict()` output."""
        values = dict(data)
        values["sampling"] = Sampling(**values.get("sampling", {}))
        return cls(**values)

    def run_id(self) -> str:
        """Return a stable id for the resolved configuration (used for resume)."""
        canonical = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]
