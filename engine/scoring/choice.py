"""Reading which option of a multiple-choice question an answer chose.

"B", "B)", "(B) exultant", "**B**" and "The answer is B" all choose B, but the
B in "Big Ben" does not. The published judges tested `'B' in answer`, which
also fires on any capitalised word containing the letter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .registry import Param, ScoreFunction, register

_OPTION_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _letter_class(letters: str) -> str:
    return "[" + letters + "]"


_CHOICE_WORDS = ("answer", "choice", "option", "pick", "choose", "chose", "select", "go with", "going with")
_NOT_BEFORE_OPTION = re.compile(r"[\w.]")


class ChoiceReader:
    """Find the chosen option letter in an answer, given the question's options."""

    def __init__(self, options: Mapping[str, str]) -> None:
        letters = "".join(sorted(options))
        upper = _letter_class(letters)
        both = _letter_class(letters + letters.lower())

        # The whole answer is one letter, maybe wrapped in quotes, brackets or markup.
        self._only_letter = re.compile(rf"^[\W_]*({both})[\W_]*$")
        # The answer opens with a letter followed by ')', ']', '.', ':' or a dash.
        self._leading_letter = re.compile(rf"^[\s\"'*_`(\[]*({both})\s*(?:\)|\]|\.(?!\w)|:|\s[-–—])")
        # "answer is B", "I choose (C)", "option: D", "my pick would be E".
        # It is matched against the lower-cased answer (re.IGNORECASE is about
        # ten times slower), and the letter is then checked in the original.
        self._stated_letter = re.compile(
            rf"(?:{'|'.join(_CHOICE_WORDS)})(?:\s+(?:is|would be|will be|was))?\s*[:\-–—]?\s*"
            rf"[\"'*_`(\[]*([{letters.lower()}])(?![\w'’\-+#])"
        )
        # "(B)" or "B)" anywhere. Each pattern starts with a literal or a letter
        # class, so the regex engine can skip ahead; lookbehinds come after it.
        self._bracketed_letters = (
            re.compile(rf"\(({upper})\)"),
            re.compile(rf"({upper})(?<![\w(\-]{upper})\)"),
        )
        # A lone capital letter counts too, except the English words "A" and "I".
        lone_letters = letters.replace("A", "").replace("I", "")
        self._lone_letter = (
            re.compile(rf"({_letter_class(lone_letters)})(?<![\w'’\-+#.]{_letter_class(lone_letters)})"
                       rf"(?![\w'’\-+#]|\.\w)")
            if lone_letters
            else None
        )
        # Lower-cased option texts, longest first so that "gpt-3.5" wins over "gpt-3".
        named = sorted(((letter, text.strip().lower()) for letter, text in options.items() if text.strip()),
                       key=lambda item: len(item[1]), reverse=True)
        # One group around the alternation; a named group per option is about
        # nine times slower. The matched text maps back to its letter.
        self._letter_of_text = {text: letter for letter, text in reversed(named)}
        self._option_text = (
            re.compile("(" + "|".join(re.escape(text) for _, text in named) + ")") if named else None
        )

    def read(self, text: str) -> str | None:
        """Return the chosen letter (upper-case), or None when no choice can be read."""
        stripped = text.strip()
        if not stripped:
            return None

        for pattern in (self._only_letter, self._leading_letter):
            match = pattern.search(stripped)
            if match:
                return match.group(1).upper()

        # Lower-casing keeps positions only when no character changes length.
        lowered = stripped.lower()
        if len(lowered) != len(stripped):
            lowered = "".join(char.lower() if len(char.lower()) == 1 else char for char in stripped)

        if any(word in lowered for word in _CHOICE_WORDS):
            for match in self._stated_letter.finditer(lowered):
                letter = stripped[match.start(1)]
                if letter.isupper():
                    return letter

        for pattern in self._bracketed_letters:
            match = pattern.search(stripped)
            if match:
                return match.group(1)

        if self._lone_letter is not None:
            match = self._lone_letter.search(stripped)
            if match:
                return match.group(1)

        return self._read_option_text(lowered)

    def _read_option_text(self, text: str) -> str | None:
        """Return the letter of the earliest whole option text in the lower-cased answer."""
        if self._option_text is None:
            return None
        for match in self._option_text.finditer(text):
            before = text[match.start() - 1] if match.start() > 0 else ""
            after = text[match.end():match.end() + 2]
            if before and _NOT_BEFORE_OPTION.match(before):
                continue
            if after[:1].isalnum() or after[:1] == "_" or (after[:1] == "." and after[1:2].isdigit()):
                continue
            return self._letter_of_text[match.group(1)]
        return None


def _describe(params: Mapping[str, Any]) -> str:
    answer = params["answer"]
    text = params["options"].get(answer, "")
    option = f"{answer}) {text}" if text else answer
    return f"1 if the chosen option is {option}, else 0"


@register(
    "choice",
    {
        "answer": Param((str,), non_empty=True),
        "options": Param((dict,), item_types=(str,), non_empty=True),
    },
    _describe,
)
def build_choice(params: Mapping[str, Any]) -> ScoreFunction:
    """1 when the option read from the answer is the expected one, else 0."""
    answer = params["answer"]
    options = params["options"]

    bad_letters = [letter for letter in options if len(letter) != 1 or letter not in _OPTION_LETTERS]
    if bad_letters:
        raise ValueError(f"option keys must be single capital letters, got {bad_letters!r}")
    if answer not in options:
        raise ValueError(f"the expected answer {answer!r} is not one of the options {sorted(options)!r}")

    reader = ChoiceReader(options)
    return lambda text: 1.0 if reader.read(text) == answer else 0.0
