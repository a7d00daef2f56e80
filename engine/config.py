"""Run configuration: which models, personas, topic, seed and sampling.

A `RunConfig` with every value resolved (no -1 left) identifies a run: the
same resolved configuration resumes the stored run instead of starting anew.
The endpoint (`base_url`) is part of a run's identity, because the same model
name on two servers (Ollama and vLLM, say) can be two different models. The
timeout is stored with the run but is not part of its identity. Keys are never
part of a RunConfig.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import asdict, dataclass, field, replace
from urllib.parse import urlsplit

from engine.starters import STARTERS

PERSONA_COUNT_DEFAULT = 100

# Fields describing how to reach the model, not what the run is, so run_id() leaves them out.
CONNECTION_FIELDS = ("timeout",)

# Options that enter run_id() only when changed from their defaults, so adding
# such an option keeps the ids of runs stored before it existed.
OPTIONAL_FIELDS = ("fluency_gate", "decoding", "base_url", "personas")


@dataclass(frozen=True)
class Sampling:
    """Sampling settings for one model call (published defaults)."""

    temperature: float = 1.0
    top_p: float = 0.9
    max_tokens: int = 400
    seed: int | None = None


STRATEGIES = ("nucleus", "greedy", "best_of_n")


@dataclass(frozen=True)
class Decoding:
    """The strategy that chooses each turn's reply; the weights matter only for best_of_n."""

    strategy: str = "nucleus"
    best_of_n: int = 5
    alpha: float = 1.0
    beta: float = 0.5
    gamma: float = 0.0

    def validate(self) -> None:
        """Raise ValueError naming an unknown strategy or a candidate count below 1."""
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown decoding {self.strategy!r}: use one of {', '.join(STRATEGIES)}")
        if self.strategy == "best_of_n" and self.best_of_n < 1:
            raise ValueError(f"--best_of_n {self.best_of_n} is too small: use 1 or more")

    def label(self) -> str:
        """Return a short label such as 'greedy' or 'best_of_5 a1 b0.5 g0'."""
        if self.strategy != "best_of_n":
            return self.strategy
        return f"best_of_{self.best_of_n} a{self.alpha:g} b{self.beta:g} g{self.gamma:g}"


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a self-chat run.

    `agent`, `user` and `topic` may be -1 before `resolve()`, which draws them
    with `seed` the way the published run.py does. `base_url` overrides the
    backend's base-URL variable and `timeout` its request timeout in seconds;
    None keeps the backend's default.

    `personas` identifies a custom persona set, such as
    "my_set.jsonl sha256:0123456789abcdef"; None is the built-in personas.json.
    Only its last word, the content digest, enters run_id(), so renaming the
    file resumes the same run and changing its content starts a new one.
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
    decoding: Decoding = field(default_factory=Decoding)
    base_url: str | None = None
    timeout: float | None = None
    personas: str | None = None

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
                    f"unknown {name} persona index {index}: the persona set has {persona_count} "
                    f"personas, so use 0..{persona_count - 1}, or -1 to draw one with the seed"
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

        self.decoding.validate()
        for name, value in (("--temperature", self.sampling.temperature), ("--top_p", self.sampling.top_p),
                            ("--timeout", self.timeout), ("--alpha", self.decoding.alpha),
                            ("--beta", self.decoding.beta), ("--gamma", self.decoding.gamma)):
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name} {value} is invalid: use a finite number")

        if self.sampling.temperature < 0:
            raise ValueError(f"--temperature {self.sampling.temperature} is invalid: use 0 (greedy) or more")
        if not 0 < self.sampling.top_p <= 1:
            raise ValueError(f"--top_p {self.sampling.top_p} is invalid: use a number above 0 and at most 1")
        if self.sampling.max_tokens < 1:
            raise ValueError(f"max tokens {self.sampling.max_tokens} is too small: use 1 or more")
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError(f"--timeout {self.timeout} is too small: use a number of seconds above 0")

        if self.base_url is not None:
            parts = urlsplit(self.base_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"--base_url {self.base_url!r} is not an http(s) URL: use e.g. http://127.0.0.1:8000/v1")
            if parts.username or parts.password:
                raise ValueError("--base_url must not contain credentials: set the key variable of the backend instead")

    def to_dict(self) -> dict:
        """Return a JSON-ready dict, as stored with the run."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> RunConfig:
        """Build a RunConfig from `to_dict()` output."""
        values = dict(data)
        values["sampling"] = Sampling(**values.get("sampling", {}))
        values["decoding"] = Decoding(**values.get("decoding", {}))
        return cls(**values)

    def run_id(self) -> str:
        """Return a stable id for the resolved configuration (used for resume)."""
        defaults = RunConfig().to_dict()
        values = self.to_dict()
        if values["base_url"]:
            # "http://host/v1/" and "http://host/v1" are one endpoint.
            values["base_url"] = values["base_url"].rstrip("/")
        identity = {
            name: value
            for name, value in values.items()
            if name not in CONNECTION_FIELDS and not (name in OPTIONAL_FIELDS and value == defaults[name])
        }
        if "personas" in identity:
            identity["personas"] = persona_set_digest_of(identity["personas"])
        canonical = json.dumps(identity, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def persona_set_digest_of(identity: str) -> str:
    """Return the content digest of a `RunConfig.personas` value, its last word ('sha256:…')."""
    return identity.rsplit(" ", 1)[-1]
