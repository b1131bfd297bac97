"""The fake's times as the API writes them (telnyx_messages.testing._fake._stamp, behind received_at,
occurred_at and valid_until): UTC, milliseconds cut (not rounded), Z."""

from __future__ import annotations

import datetime

import pytest
from telnyx_messages.testing._fake import _stamp

PLUS_TWO = datetime.timezone(datetime.timedelta(hours=2))


@pytest.mark.parametrize(
    ("microsecond", "written"),
    [(0, "000"), (999, "000"), (1_000, "001"), (500_000, "500"), (500_999, "500"), (999_999, "999")],
)
def test_a_time_is_written_in_utc_to_the_millisecond_cut(microsecond: int, written: str) -> None:
    moment = datetime.datetime(2026, 12, 7, 13, 0, 5, microsecond, tzinfo=PLUS_TWO)
    assert _stamp(moment) == f"2026-12-07T11:00:05.{written}Z"
