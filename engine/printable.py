"""Untrusted text made safe for a terminal: control characters become visible.

Model output and error messages from servers are data. Any of them may carry
terminal escape sequences (`\\x1b]0;title\\x07`, `\\x1b[31m`), so every place
that shows such text passes it through `neutralise_controls` first.
"""

from __future__ import annotations

# C0 controls 0x00..0x1F become the Unicode "control pictures" U+2400..U+241F
# (ESC shows as "␛"), DEL becomes "␡", C1 controls 0x80..0x9F become "�".
# Bidirectional overrides and isolates are replaced too, because they reorder
# the text that follows them on the terminal line.
_KEPT = {"\n", "\t"}
_BIDI_CONTROLS = {chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def _placeholder(character: str) -> str:
    code = ord(character)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return "\ufffd"


_TRANSLATION = {
    ord(character): _placeholder(character)
    for character in (*map(chr, range(0x20)), "\x7f", *map(chr, range(0x80, 0xA0)))
    if character not in _KEPT
}
_TRANSLATION.update({ord(character): "\ufffd" for character in _BIDI_CONTROLS})


def neutralise_controls(text: str) -> str:
    """Replace control characters other than newline and tab with visible placeholders."""
    return text.translate(_TRANSLATION)


