"""Prediction inputs for chat models on Replicate, per model family.

Replicate models take a text `prompt` rather than a message list, and each
family expects its own form; the table in docs/backends.md lists them. The
published scripts sent Llama-2 `[INST]` text to every model, Claude
included. Here each family gets what its model card documents:

- Llama 2 chat (`meta/llama-2-*-chat`): the model wraps `prompt` in
  `[INST] <<SYS>>\\n{system_prompt}\\n<</SYS>>\\n\\n{prompt} [/INST]` itself,
  so `prompt` carries the inner part of the multi-turn Llama-2 form
  (`u1 [/INST] a1 </s><s>[INST] u2`) and `system_prompt` the persona.
  Sampling inputs: max_new_tokens, temperature, top_p, seed.
- Llama 3 instruct (`meta/meta-llama-3*-instruct`): the same idea with the
  Llama-3 header tokens inside the model's default `prompt_template`.
  Sampling inputs: max_tokens, temperature, top_p, seed.
- Llama 4 instruct (`meta/llama-4-*-instruct`) and any other model:
  `system_prompt` plus a `prompt` that is the last user message, preceded by
  the earlier turns as a labelled transcript when there are any. Sampling
  inputs: max_tokens, temperature, top_p.
- Claude (`anthropic/claude-*`): `system_prompt` plus the same `prompt`;
  its Replicate schema takes `max_tokens` and no sampling settings.

Inputs a model does not declare are left out, since a model's schema decides
what it accepts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.backends.base import Message
from engine.config import Sampling

LLAMA2_CHAT = "llama2-chat"
LLAMA3_INSTRUCT = "llama3-instruct"
CLAUDE = "claude"
TRANSCRIPT = "transcript"

_FAMILY_PATTERNS = (
    (re.compile(r"^meta/llama-2-[\w.-]*chat"), LLAMA2_CHAT),
    (re.compile(r"^meta/meta-llama-3[\w.-]*-instruct"), LLAMA3_INSTRUCT),
    (re.compile(r"^anthropic/claude"), CLAUDE),
)

LLAMA3_TURN_END = "<|eot_id|>"


def _llama3_header(role: str) -> str:
    return f"<|start_header_id|>{role}<|end_header_id|>\n\n"


@dataclass(frozen=True)
class Dialogue:
    """A message list split into the system prompt and the alternating turns after it."""

    system: str
    turns: list[Message]


def model_family(model: str) -> str:
    """Return the prompt family of a Replicate model id (`owner/name` or `owner/name:version`)."""
    name = model.split(":", 1)[0].lower()
    for pattern, family in _FAMILY_PATTERNS:
        if pattern.match(name):
            return family
    return TRANSCRIPT


def split_dialogue(messages: list[Message]) -> Dialogue:
    """Split off the system messages; ValueError unless the rest ends with a user message."""
    system = "\n\n".join(message["content"] for message in messages if message["role"] == "system")
    turns = [message for message in messages if message["role"] != "system"]
    if not turns or turns[-1]["role"] != "user":
        raise ValueError("a Replicate prompt needs a conversation that ends with a user message")
    return Dialogue(system, turns)


def llama2_chat_prompt(turns: list[Message]) -> str:
    """Return the inner part of the Llama-2 chat form, for a model that adds the outer [INST] <<SYS>>."""
    parts: list[str] = []
    for message in turns:
        if message["role"] == "user":
            if parts:
                parts.append("</s><s>[INST] ")
            parts.append(message["content"].strip())
        else:
            parts.append(f" [/INST] {message['content'].strip()} ")
    return "".join(parts)


def llama3_instruct_prompt(turns: list[Message]) -> str:
    """Return the Llama-3 turns to fill `{prompt}` of the model's default template."""
    parts: list[str] = []
    for index, message in enumerate(turns):
        if index > 0:
            parts.append(LLAMA3_TURN_END + _llama3_header(message["role"]))
        parts.append(message["content"].strip())
    return "".join(parts)


def transcript_prompt(turns: list[Message]) -> str:
    """Return the last user message, preceded by the earlier turns as a labelled transcript."""
    if len(turns) == 1:
        return turns[0]["content"]

    labels = {"user": "User", "assistant": "Assistant"}
    earlier = "\n\n".join(f"{labels[message['role']]}: {message['content']}" for message in turns[:-1])
    return (
        f"The conversation so far:\n\n{earlier}\n\n"
        f"Reply as the assistant to the user's next message:\n\n{turns[-1]['content']}"
    )


def prediction_input(model: str, messages: list[Message], sampling: Sampling) -> dict:
    """Return the prediction input for `messages` in the form `model`'s family expects."""
    family = model_family(model)
    dialogue = split_dialogue(messages)

    if family == CLAUDE:
        return {
            "prompt": transcript_prompt(dialogue.turns),
            "system_prompt": dialogue.system,
            "max_tokens": sampling.max_tokens,
        }

    if family == LLAMA2_CHAT:
        prompt, max_tokens_input = llama2_chat_prompt(dialogue.turns), "max_new_tokens"
    elif family == LLAMA3_INSTRUCT:
        prompt, max_tokens_input = llama3_instruct_prompt(dialogue.turns), "max_tokens"
    else:
        prompt, max_tokens_input = transcript_prompt(dialogue.turns), "max_tokens"

    values = {
        "prompt": prompt,
        "system_prompt": dialogue.system,
        max_tokens_input: sampling.max_tokens,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
    }
    if family in (LLAMA2_CHAT, LLAMA3_INSTRUCT) and sampling.seed is not None:
        values["seed"] = sampling.seed
    return values
