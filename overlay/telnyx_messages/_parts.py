"""How many parts (SMS segments) a message text takes, counted as Telnyx counts them.

A text made only of GSM-7 characters is sent in GSM-7: a basic character takes one septet, an
extension character (`^{}\\[~]|€`) two (an escape and the character, never split across parts); 160
septets fit one part, 153 each part of a longer text. Any other character makes the whole text UCS-2,
counted in UTF-16 code units (a character beyond the BMP takes a surrogate pair, never split): 70
units fit one part, 67 each part of a longer text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, NamedTuple

__all__ = ["Parts", "count_parts"]

# GSM 03.38's basic character set, without the escape (0x1B) itself.
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("^{}\\[~]|€")

_GSM7_SINGLE, _GSM7_PER_PART = 160, 153
_UCS2_SINGLE, _UCS2_PER_PART = 70, 67


class Parts(NamedTuple):
    """A text's encoding, its number of parts, its characters and the units they take (septets in
    GSM-7, UTF-16 code units in UCS-2)."""

    encoding: Literal["GSM-7", "UCS-2"]
    parts: int
    characters: int
    units: int


def _gsm7_costs(text: str) -> list[int] | None:
    costs = []
    for character in text:
        if character in _GSM7_BASIC:
            costs.append(1)
        elif character in _GSM7_EXTENSION:
            costs.append(2)
        else:
            return None
    return costs


def _count(costs: Iterable[int], single: int, per_part: int) -> tuple[int, int]:
    """The parts and units of characters taking `costs` units each, none split across parts."""
    units = 0
    parts = 1
    filled = 0  # units in the current part of a multi-part text
    for cost in costs:
        units += cost
        if filled + cost > per_part:
            parts += 1
            filled = 0
        filled += cost
    return (1 if units <= single else parts), units


def count_parts(text: str) -> Parts:
    """The parts `text` takes: `count_parts("hello") == Parts("GSM-7", 1, 5, 5)`. An empty text
    takes one part."""
    costs = _gsm7_costs(text)
    if costs is not None:
        parts, units = _count(costs, _GSM7_SINGLE, _GSM7_PER_PART)
        return Parts("GSM-7", parts, len(text), units)
    ucs2 = (2 if ord(character) > 0xFFFF else 1 for character in text)
    parts, units = _count(ucs2, _UCS2_SINGLE, _UCS2_PER_PART)
    return Parts("UCS-2", parts, len(text), units)
