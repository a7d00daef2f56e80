"""Stored shapes of a run: turn and probe records, `StoredRun`, and index summaries.

A run file contains three TinyDB tables: `run` (one document: configuration,
prompts, labels, status), `turns` (one document per turn) and `probes` (one
document per sampled probe answer). The index contains one summary per run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from statistics import fmean
from typing import Any

from engine.config import STRATEGIES, Decoding, RunConfig
from engine.events import ProbeScored, TurnFinished

STARTER_TURN = 1

RUNNING = "running"
FINISHED = "finished"
STOPPED = "stopped"
FAILED = "failed"


def utc_now() -> str:
    """Return the current UTC time in ISO 8601 with milliseconds."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def turn_record(event: TurnFinished) -> dict[str, Any]:
    """Build the stored document for a finished turn. Turn 1 is always stored as the starter."""
    speaker = "starter" if event.turn == STARTER_TURN else event.speaker

    record = {
        "turn": event.turn,
        "speaker": speaker,
        "raw_text": event.raw_text,
        "text": event.text,
        "prompt_tokens": event.prompt_tokens,
        "completion_tokens": event.completion_tokens,
        "prompt_tokens_evaluated": event.prompt_tokens_evaluated,
        "seconds": event.seconds,
        "finished_at": utc_now(),
    }
    if event.candidates:
        record["candidates"] = [dict(candidate) for candidate in event.candidates]
        record["selected_index"] = event.selected_index
    return record


def starter_record(starter: str) -> dict[str, Any]:
    """Build the turn-1 document for the conversation starter, which no model generated."""
    return {
        "turn": STARTER_TURN,
        "speaker": "starter",
        "raw_text": starter,
        "text": starter,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "prompt_tokens_evaluated": None,
        "seconds": 0.0,
        "finished_at": utc_now(),
    }


def probe_record(event: ProbeScored) -> dict[str, Any]:
    """Build the stored document for one sampled probe answer."""
    return {
        "turn": event.turn,
        "sample": event.sample,
        "raw_text": event.raw_text,
        "score": event.score,
        "published": event.published,
        "prompt_tokens": event.prompt_tokens,
        "completion_tokens": event.completion_tokens,
        "prompt_tokens_evaluated": event.prompt_tokens_evaluated,
        "seconds": event.seconds,
    }


@dataclass
class StoredRun:
    """One run as stored: configuration, prompts, status, turns and probe answers."""

    run_id: str
    config: RunConfig
    created_at: str
    status: str
    agent_prompt: str
    user_prompt: str
    agent_label: str
    user_label: str
    starter: str
    turns: list[dict] = field(default_factory=list)
    probes: list[dict] = field(default_factory=list)
    imported: bool = False
    error: str | None = None
    # Facts with no RunConfig field, such as an imported log's decoding settings and source file.
    metadata: dict[str, Any] = field(default_factory=dict)

    def stability(self) -> dict[int, float | None]:
        """Map each agent turn to its mean probe score, or to None when no sample was scored."""
        scores: dict[int, list[float]] = {}
        for turn in self.turns:
            if turn["speaker"] == "agent":
                scores.setdefault(turn["turn"], [])

        for probe in self.probes:
            bucket = scores.setdefault(probe["turn"], [])
            if probe["score"] is not None:
                bucket.append(float(probe["score"]))

        return {turn: (fmean(values) if values else None) for turn, values in sorted(scores.items())}

    def mean_stability(self) -> float | None:
        """Return the mean stability over scored agent turns, or None when none is scored."""
        values = [value for value in self.stability().values() if value is not None]
        return fmean(values) if values else None

    def last_stability(self) -> float | None:
        """Return the stability at the last agent turn that has a score, or None."""
        values = [value for value in self.stability().values() if value is not None]
        return values[-1] if values else None

    def completed_turns(self) -> int:
        """Return how many turns are stored without a gap from turn 1: where a resume continues."""
        stored = {turn["turn"] for turn in self.turns}

        count = 0
        while count + 1 in stored:
            count += 1
        return count

    def last_activity(self) -> str:
        """Return the time of the last stored turn, or the creation time when none is stored."""
        times = [turn["finished_at"] for turn in self.turns if turn.get("finished_at")]
        return max(times, default=self.created_at)

    def summary(self, updated_at: str | None = None) -> dict[str, Any]:
        """Build the index document that the History screen lists for this run."""
        return {
            "run_id": self.run_id,
            "created_at": self.created_at,
            "updated_at": updated_at or self.last_activity(),
            "status": self.status,
            "backend": self.config.backend,
            "model": self.config.model,
            "agent": self.config.agent,
            "user": self.config.user,
            "agent_label": self.agent_label,
            "user_label": self.user_label,
            "topic": self.config.topic,
            "seed": self.config.seed,
            "turns": self.config.turns,
            "completed_turns": self.completed_turns(),
            "mean_stability": self.mean_stability(),
            "last_stability": self.last_stability(),
            "imported": self.imported,
            "error": self.error,
            "decoding": decoding_label(self),
        }


def run_decoding(run: StoredRun) -> Decoding | None:
    """Return the run's decoding: its config for runs made here, the log's settings for imported runs.

    Returns None for an imported log whose strategy or weights are not ones
    that `Decoding` can hold; `decoding_label` then shows the published label.
    """
    settings = run.metadata.get("decoding")
    if not run.imported or not isinstance(settings, dict):
        return run.config.decoding
    if settings.get("strategy") not in STRATEGIES:
        return None
    try:
        return Decoding(
            strategy=settings["strategy"],
            best_of_n=int(settings.get("best_of_n") or 1),
            alpha=float(settings.get("alpha") or 0.0),
            beta=float(settings.get("beta") or 0.0),
            gamma=float(settings.get("gamma") or 0.0),
        )
    except (TypeError, ValueError):
        return None


def decoding_label(run: StoredRun) -> str:
    """Return a label such as 'greedy' or 'best_of_5 a1 b0.5 g0', the same for imported and native runs."""
    decoding = run_decoding(run)
    if decoding is not None:
        return decoding.label()
    settings = run.metadata.get("decoding") or {}
    return str(settings.get("label") or settings.get("strategy") or "unknown decoding")


def run_header(run: StoredRun) -> dict[str, Any]:
    """Build the `run` table document: everything in StoredRun except turns and probes.

    Run files written before `metadata` existed have no such key and read as {}.
    """
    return {
        "run_id": run.run_id,
        "config": run.config.to_dict(),
        "created_at": run.created_at,
        "status": run.status,
        "agent_prompt": run.agent_prompt,
        "user_prompt": run.user_prompt,
        "agent_label": run.agent_label,
        "user_label": run.user_label,
        "starter": run.starter,
        "imported": run.imported,
        "error": run.error,
        "metadata": run.metadata,
    }


def stored_run_from_tables(header: dict[str, Any], turns: list[dict], probes: list[dict]) -> StoredRun:
    """Rebuild a StoredRun from the three tables of a run file, turns and probes sorted."""
    return StoredRun(
        run_id=header["run_id"],
        config=RunConfig.from_dict(header["config"]),
        created_at=header["created_at"],
        status=header["status"],
        agent_prompt=header["agent_prompt"],
        user_prompt=header["user_prompt"],
        agent_label=header["agent_label"],
        user_label=header["user_label"],
        starter=header["starter"],
        turns=sorted((dict(turn) for turn in turns), key=lambda turn: turn["turn"]),
        probes=sorted((dict(probe) for probe in probes), key=lambda probe: (probe["turn"], probe["sample"])),
        imported=bool(header.get("imported", False)),
        error=header.get("error"),
        metadata=dict(header.get("metadata") or {}),
    )
