"""Caller-controlled identity text (caller ID number and name) made safe to keep.

Anyone can send any bytes as a caller ID. Before such text is stored, logged, shown in a
browser, spoken or placed into an AMI action or AGI command, control characters are
escaped (so nothing is lost for an investigation, and nothing can break a protocol line)
and its length is bounded.
"""

from __future__ import annotations

import unicodedata

MAX_NAME_LENGTH = 80
MAX_NUMBER_LENGTH = 40

#: What Asterisk and carriers put in the number field for a withheld caller.
WITHHELD_MARKERS = frozenset({"", "anonymous", "unknown", "restricted", "private", "unavailable"})


def escape_controls(text: str) -> str:
    """Replace control and format characters by visible ``\\xNN``/``\\uNNNN`` escapes."""
    out: list[str] = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def clean_caller_name(raw: str | None) -> str | None:
    """The caller ID name as it may be stored and shown; None when there is none."""
    if raw is None:
        return None
    text = escape_controls(raw).strip()
    if not text or text.lower() in ("<unknown>", "unknown", "anonymous"):
        return None
    return text[:MAX_NAME_LENGTH]


def clean_caller_number(raw: str | None) -> str | None:
    """The caller ID number as received, made safe to store (escaped, bounded)."""
    if raw is None:
        return None
    text = escape_controls(raw).strip()
    if not text or text.lower() in ("<unknown>",):
        return None
    return text[:MAX_NUMBER_LENGTH]
