"""Decoding strategies of the published baselines: nucleus, greedy and best-of-n.

`nucleus` samples with the run's temperature and top_p (the published run.py
setting). `greedy` sets the temperature to 0. `best_of_n` samples n candidates
per turn and keeps the one maximising

    alpha * cos(candidate, persona) + beta * cos(candidate, conversation) + gamma * length

with all-MiniLM-L6-v2 sentence embeddings, where length is the candidate's
word count, as in the published baseline script. Each side's candidates are
ranked against its own persona: the agent's against the agent persona, the
user model's against the user persona. (The published script ranked both
against the agent persona.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from engine.config import STRATEGIES, Decoding, Sampling

__all__ = ["STRATEGIES", "Candidate", "Decoding", "best_candidate", "rank_candidates", "turn_sampling"]

@dataclass(frozen=True)
class Candidate:
    """One best-of-n candidate with the components of its ranking score."""

    index: int
    text: str
    persona_similarity: float
    context_similarity: float
    candidate_length: int
    score: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        """Return a JSON-ready dict, as stored with the turn."""
        return asdict(self)


def turn_sampling(decoding: Decoding, sampling: Sampling) -> Sampling:
    """Return the sampling settings a strategy uses for a turn or a probe."""
    if decoding.strategy == "greedy":
        return replace(sampling, temperature=0.0)
    return sampling


def rank_candidates(
    texts: list[str],
    persona_prompt: str,
    conversation: list[str],
    decoding: Decoding,
) -> list[Candidate]:
    """Score each candidate text; the best has the highest `score` (first wins ties).

    Loads the embedding model on first use, which is CPU-bound: call it off the event loop.
    """
    from engine.embeddings import cosine_similarities

    persona_similarities = cosine_similarities(texts, persona_prompt)
    context_similarities = cosine_similarities(texts, "\n".join(conversation))

    candidates = []
    for index, text in enumerate(texts):
        length = len(text.split())
        score = (
            decoding.alpha * persona_similarities[index]
            + decoding.beta * context_similarities[index]
            + decoding.gamma * length
        )
        candidates.append(
            Candidate(
                index=index,
                text=text,
                persona_similarity=persona_similarities[index],
                context_similarity=context_similarities[index],
                candidate_length=length,
                score=score,
            )
        )
    return candidates


def best_candidate(candidates: list[Candidate]) -> Candidate:
    """Return the highest-scoring candidate, the earliest on a tie."""
    return max(candidates, key=lambda candidate: (candidate.score, -candidate.index))
