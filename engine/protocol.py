"""The self-chat protocol: which messages each side sees at each turn.

History entries are numbered from 1: turn 1 is the starter, the agent speaks
at even turns and the user model at odd turns from 3 on. The agent sees its
persona as the system prompt, the starter and user-model turns as `user` and
its own turns as `assistant`. The user model sees its own persona; its first
`user` message wraps the opening exchange, and after that roles are flipped.
"""

from __future__ import annotations

from engine.backends.base import Message


def fold_reply(raw_text: str) -> str:
    """Strip a reply and fold its newlines to spaces, as the published scripts do."""
    return raw_text.strip().replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


def speaker_of(turn: int) -> str:
    """Return "starter", "agent" or "user" for a 1-based turn number."""
    if turn == 1:
        return "starter"
    return "agent" if turn % 2 == 0 else "user"


def wrap_opening(starter: str, first_reply: str) -> str:
    """Return the user model's first message, which recounts the opening exchange."""
    return f'In the last round, you asked me "{starter}" and I answered "{first_reply}".'


def agent_messages(agent_prompt: str, history: list[str]) -> list[Message]:
    """Return the agent's message list for the turn after `history`."""
    messages: list[Message] = [{"role": "system", "content": agent_prompt}]

    for position, text in enumerate(history):
        role = "user" if position % 2 == 0 else "assistant"
        messages.append({"role": role, "content": text})
    return messages


def user_messages(user_prompt: str, history: list[str]) -> list[Message]:
    """Return the user model's message list for the turn after `history`.

    `history` must hold at least the starter and the first agent reply.
    """
    if len(history) < 2:
        raise ValueError("the user model speaks only after the starter and the first agent reply")

    messages: list[Message] = [
        {"role": "system", "content": user_prompt},
        {"role": "user", "content": wrap_opening(history[0], history[1])},
    ]
    for position, text in enumerate(history[2:]):
        role = "assistant" if position % 2 == 0 else "user"
        messages.append({"role": role, "content": text})
    return messages


def probe_messages(agent_prompt: str, history: list[str], probe_question: str) -> list[Message]:
    """Return the probe branch after agent turn len(history): the agent's view plus the probe."""
    messages = agent_messages(agent_prompt, history)
    messages.append({"role": "user", "content": probe_question})
    return messages
