"""The self-chat runner: alternate agent and user-model turns, probe the agent.

`SelfChat.run()` drives one run to `config.turns` history entries, emitting
events from `engine.events` to every listener. Listeners run inline, so the
store has written a turn before the next one starts. A resumed run starts from
the stored history and first completes any probe samples that are missing.
Probe answers never enter the conversation.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from statistics import mean

from engine.backends.base import Backend, Reply, generate
from engine.config import RunConfig, Sampling
from engine.decoding import best_candidate, rank_candidates, turn_sampling
from engine.events import (
    ProbeScored,
    RunEvent,
    RunFailed,
    RunFinished,
    RunStarted,
    RunStopped,
    TokenReceived,
    TurnFinished,
    TurnStarted,
)
from engine.personas import Persona
from engine.scoring import gate_applies, is_fluent_english
from engine.printable import neutralise_controls
from engine.protocol import agent_messages, fold_reply, probe_messages, speaker_of, user_messages

logger = logging.getLogger(__name__)

Listener = Callable[[RunEvent], None]

SEED_MODULUS = 2**31 - 1

# Seeds of best-of-n candidates use sample numbers from here on, apart from probe samples.
CANDIDATE_SAMPLE_OFFSET = 1000


@dataclass
class ResumeState:
    """The part of a run already stored: folded turn texts (starter first) and probe scores."""

    history: list[str] = field(default_factory=list)
    probe_scores: dict[int, list[float | None]] = field(default_factory=dict)


def call_seed(run_seed: int, turn: int, sample: int) -> int:
    """Return the sampling seed of one model call.

    Sample 0 is the turn, 1.. the probes, CANDIDATE_SAMPLE_OFFSET.. best-of-n candidates.
    """
    return (run_seed * 1_000_003 + turn * 1_009 + sample) % SEED_MODULUS


def turn_stability(scores: list[float | None]) -> float | None:
    """Return the mean of the scored samples, or None when none is scored."""
    numbers = [score for score in scores if score is not None]
    return mean(numbers) if numbers else None


class SelfChat:
    """One self-chat run between two personas on one backend."""

    def __init__(
        self,
        config: RunConfig,
        backend: Backend,
        agent: Persona,
        user: Persona,
        starter: str,
        listeners: list[Listener],
        resume: ResumeState | None = None,
    ) -> None:
        self.config = config
        self.run_id = config.run_id()
        self.backend = backend
        self.agent = agent
        self.user = user
        self.starter = starter
        self.listeners = listeners
        state = resume or ResumeState()
        self.history = list(state.history)
        self.probe_scores = {turn: list(scores) for turn, scores in state.probe_scores.items()}

    def emit(self, event: RunEvent) -> None:
        """Send `event` to every listener, in order."""
        for listener in self.listeners:
            listener(event)

    async def run(self) -> list[float | None]:
        """Run to completion; return stability per agent turn.

        Cancellation emits RunStopped and any other error RunFailed; both are
        re-raised after the event, and stored turns stay stored.
        """
        self.emit(RunStarted(self.run_id, len(self.history)))
        try:
            await self._run_turns()
        except asyncio.CancelledError:
            logger.info("run %s stopped after %d turns", self.run_id, len(self.history))
            self.emit(RunStopped(self.run_id, len(self.history)))
            raise
        except Exception as error:
            logger.exception("run %s failed after %d turns", self.run_id, len(self.history))
            message = neutralise_controls(f"{type(error).__name__}: {error}")
            self.emit(RunFailed(self.run_id, message, len(self.history)))
            raise

        stability = self.stability()
        self.emit(RunFinished(self.run_id, stability))
        return stability

    def stability(self) -> list[float | None]:
        """Return the stability of each agent turn so far, in turn order."""
        agent_turns = range(2, len(self.history) + 1, 2)
        return [turn_stability(self.probe_scores.get(turn, [])) for turn in agent_turns]

    async def _run_turns(self) -> None:
        if not self.history:
            self.history.append(self.starter)
            self.emit(TurnFinished(self.run_id, 1, "starter", self.starter, self.starter, 0, 0, 0.0))

        for turn in range(2, len(self.history) + 1, 2):
            await self._probe(turn)

        while len(self.history) < self.config.turns:
            turn = len(self.history) + 1
            await self._speak(turn)
            if speaker_of(turn) == "agent":
                await self._probe(turn)

    async def _speak(self, turn: int) -> None:
        speaker = speaker_of(turn)
        if speaker == "agent":
            messages = agent_messages(self.agent.system_prompt, self.history)
        else:
            messages = user_messages(self.user.system_prompt, self.history)

        self.emit(TurnStarted(self.run_id, turn, speaker))
        if self.config.decoding.strategy == "best_of_n":
            event = await self._speak_best_of_n(turn, speaker, messages)
        else:
            reply = await generate(
                self.backend,
                messages,
                self._sampling(turn, 0),
                on_token=lambda fragment: self.emit(TokenReceived(self.run_id, turn, fragment)),
            )
            event = self._turn_finished(turn, speaker, reply)

        self.history.append(event.text)
        self.emit(event)

    async def _speak_best_of_n(self, turn: int, speaker: str, messages) -> TurnFinished:
        """Sample n candidates, keep the best by persona and context similarity.

        Candidates are not streamed; the kept one is sent as a single fragment.
        """
        started = time.perf_counter()
        replies = []
        for index in range(self.config.decoding.best_of_n):
            sampling = self._sampling(turn, CANDIDATE_SAMPLE_OFFSET + index)
            replies.append(await generate(self.backend, messages, sampling))

        persona = self.agent if speaker == "agent" else self.user
        texts = [fold_reply(reply.text) for reply in replies]
        ranked = await asyncio.to_thread(
            rank_candidates, texts, persona.system_prompt, self.history, self.config.decoding
        )
        ranked = [
            replace(candidate, prompt_tokens=reply.usage.prompt_tokens,
                    completion_tokens=reply.usage.completion_tokens, seconds=reply.seconds)
            for candidate, reply in zip(ranked, replies)
        ]
        best = best_candidate(ranked)
        kept = replies[best.index]
        self.emit(TokenReceived(self.run_id, turn, kept.text))

        event = self._turn_finished(turn, speaker, kept)
        return replace(
            event,
            seconds=time.perf_counter() - started,
            candidates=tuple(candidate.to_dict() for candidate in ranked),
            selected_index=best.index,
        )

    def _turn_finished(self, turn: int, speaker: str, reply: Reply) -> TurnFinished:
        return TurnFinished(
            self.run_id,
            turn,
            speaker,
            raw_text=reply.text,
            text=fold_reply(reply.text),
            prompt_tokens=reply.usage.prompt_tokens,
            completion_tokens=reply.usage.completion_tokens,
            seconds=reply.seconds,
            prompt_tokens_evaluated=reply.usage.prompt_tokens_evaluated,
        )

    async def _probe(self, turn: int) -> None:
        scores = self.probe_scores.setdefault(turn, [])
        messages = probe_messages(self.agent.system_prompt, self.history[:turn], self.agent.probe_question)

        for sample in range(len(scores), self.config.runs):
            reply = await generate(self.backend, messages, self._sampling(turn, sample + 1))
            score, published = self._score(fold_reply(reply.text))

            scores.append(score)
            self.emit(
                ProbeScored(
                    self.run_id,
                    turn,
                    sample,
                    raw_text=reply.text,
                    score=score,
                    published=published,
                    prompt_tokens=reply.usage.prompt_tokens,
                    completion_tokens=reply.usage.completion_tokens,
                    seconds=reply.seconds,
                    prompt_tokens_evaluated=reply.usage.prompt_tokens_evaluated,
                )
            )

    def _score(self, answer: str) -> tuple[float | None, float | None]:
        """Return (score, published) for a probe answer; None when the persona has no scorer."""
        scorer = self.agent.scorer
        if scorer is None:
            return None, None

        score = scorer.score(answer)
        published = scorer.published(answer)
        if self.config.fluency_gate and gate_applies(self.agent) and not is_fluent_english(answer):
            return 0.0, 0.0
        return score, published

    def _sampling(self, turn: int, sample: int) -> Sampling:
        sampling = turn_sampling(self.config.decoding, self.config.sampling)
        return replace(sampling, seed=call_seed(self.config.seed, turn, sample))
