"""Date-times as documents write them: a value read from a response goes back out as the same text.

`wire_datetime` reads a `format: date-time` value into a datetime whose tzinfo (a `WireZone`)
remembers the style it was written in; `datetime_text` writes a datetime in that style (else with
isoformat()). `DateTimeText` marks an argument's text that must be a date-time with an offset.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

# An ISO 8601 date-time in the extended form servers write: its separator, fraction and offset.
_WIRE_DATETIME = re.compile(r"\d{4}-\d\d-\d\d([T ])\d\d:\d\d:\d\d(?:\.(\d{1,6}))?(Z|[+-]\d\d:?\d\d)")


class WireZone(datetime.tzinfo):
    """The fixed offset of a date-time read from a document, which also remembers how the document
    wrote it (separator, digits of the fraction, `Z` or `+HH:MM` or `+HHMM`), so that the value goes
    back out as the server wrote it ("2019-01-23T18:10:02.574Z", where isoformat() gives
    "2019-01-23T18:10:02.574000+00:00"). One shared instance per style: the datetime itself stays a
    plain datetime, which the garbage collector does not track."""

    __slots__ = ("_digits", "_offset", "_separator", "_zone")

    def __init__(self, offset: datetime.timedelta, separator: str, digits: int, zone: str) -> None:
        self._offset, self._separator, self._digits, self._zone = offset, separator, digits, zone

    def utcoffset(self, dt: datetime.datetime | None) -> datetime.timedelta:
        return self._offset

    def dst(self, dt: datetime.datetime | None) -> None:
        return None

    def tzname(self, dt: datetime.datetime | None) -> str:
        return "UTC" if not self._offset else self._zone

    def fromutc(self, dt: datetime.datetime) -> datetime.datetime:
        return dt + self._offset

    def __repr__(self) -> str:
        return f"WireZone({self._zone!r})"

    # Equal to datetime.timezone of the same offset (`tzinfo == timezone.utc` for a "Z" text), and
    # to a WireZone of that offset written otherwise; hashed as timezone hashes.
    def __eq__(self, other: object) -> bool:
        if isinstance(other, WireZone | datetime.timezone):
            return self._offset == other.utcoffset(None)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._offset)

    def __reduce__(self) -> tuple[Any, ...]:
        return _zone, (self._separator, self._digits, self._zone)

    def text(self, value: datetime.datetime) -> str | None:
        """`value` written in this style; None where the style cannot hold it (digits of a second
        it does not write)."""
        text = value.replace(tzinfo=None).isoformat(sep=self._separator, timespec="microseconds")
        if text[20 + self._digits :].strip("0"):
            return None
        fraction = "." + text[20 : 20 + self._digits] if self._digits else ""
        return text[:19] + fraction + self._zone


_ZONES: dict[tuple[str, int, str], WireZone] = {}


def _zone(separator: str, digits: int, zone: str) -> WireZone:
    found = _ZONES.get((separator, digits, zone))
    if found is None:
        if zone == "Z":
            offset = datetime.timedelta(0)
        else:
            hours, minutes = int(zone[1:3]), int(zone[-2:])
            offset = (1 if zone[0] == "+" else -1) * datetime.timedelta(hours=hours, minutes=minutes)
        found = _ZONES[(separator, digits, zone)] = WireZone(offset, separator, digits, zone)
    return found


# The zone (None: none) of each shape of date-time text met: texts of one shape (length, separator,
# offset as written) share a style, read off the first of them. A shape first met in an odd form
# (a comma before the fraction) reads plain after it: the values stay right, the text isoformat's.
# Bounded.
_ZONE_OF_SHAPE: dict[tuple[int, str, str], Any] = {}
_UNKNOWN = object()
_combine = datetime.datetime.combine
_fromisoformat = datetime.datetime.fromisoformat


def wire_datetime(text: str) -> datetime.datetime:
    """A document's date-time text as a datetime that goes back out as the same text (its tzinfo a
    WireZone); other forms fromisoformat() reads (no offset, the basic form, -00:00) as a plain
    datetime, written back with isoformat()."""
    value = _fromisoformat(text)
    # The shape, as cheaply as it can be told: Telnyx writes UTC as "Z", so its texts differ only
    # in length (the digits of the fraction) and, in principle, the separator.
    shape = (len(text), text[10:11], "Z") if text[-1:] == "Z" else (len(text), text[10:11], text[-6:])
    zone = _ZONE_OF_SHAPE.get(shape, _UNKNOWN)
    if zone is _UNKNOWN:
        zone = _zone_of(text)
        if len(_ZONE_OF_SHAPE) < 4096:
            _ZONE_OF_SHAPE[shape] = zone
    # combine() rather than replace(tzinfo=): a third of the time (keyword arguments are slow in C).
    return value if zone is None else _combine(value.date(), value.time(), zone)


def _zone_of(text: str) -> WireZone | None:
    """The style of the first text of a shape (texts of one shape differ only in their digits)."""
    style = _WIRE_DATETIME.fullmatch(text)
    if style is None or style.group(3) in ("-00:00", "-0000"):
        return None
    fraction = style.group(2)
    return _zone(style.group(1), len(fraction) if fraction else 0, style.group(3))


def datetime_text(value: datetime.datetime) -> str:
    """A date-time as a document holds it: in the style it was read in (a value changed in code
    too, where that style can hold it), else isoformat()."""
    zone = value.tzinfo
    if type(zone) is WireZone:
        text = zone.text(value)
        if text is not None:
            return text
    return value.isoformat()


class DateTimeText:
    """Marks text that must be an ISO 8601 date-time with an offset (checked before sending)."""

    def __repr__(self) -> str:
        return "DateTimeText"


__all__ = ["DateTimeText", "WireZone", "datetime_text", "wire_datetime"]
