"""A date-time read from a response: its tzinfo equals datetime.timezone of the same offset (UTC's
is `timezone.utc`), while the text it was read from still goes back out as written."""

from __future__ import annotations

import datetime
import pickle

import pytest
from telnyx_messages._api.types import datetime_text, wire_datetime

from .support import MESSAGE_ID
from .support.server import LoopbackServer, Reply, client_for
from .support.spec import message_example

# Each test reads its date-times as the first of their shape and style (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("first_datetime_readings")


def test_a_utc_date_time_from_a_response_is_in_timezone_utc(server: LoopbackServer) -> None:
    example = message_example()
    example["received_at"] = "2019-01-23T18:10:02.574Z"
    server.reply(Reply(200, {"data": example}))
    with client_for(server) as client:
        message = client.messages.retrieve(MESSAGE_ID).data
    assert message is not None and message.received_at is not None
    assert message.received_at.tzinfo == datetime.UTC
    assert message.received_at.tzinfo == datetime.UTC
    assert message.received_at.tzinfo != datetime.timezone(datetime.timedelta(hours=1))
    assert message.to_dict(mode="json")["received_at"] == "2019-01-23T18:10:02.574Z"


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("2019-01-23T18:10:02.574Z", datetime.timedelta(0)),
        ("2019-01-23T18:10:02+00:00", datetime.timedelta(0)),
        ("2019-01-23T18:10:02.5+01:00", datetime.timedelta(hours=1)),
        ("2019-01-23 18:10:02-05:30", -datetime.timedelta(hours=5, minutes=30)),
        ("2019-01-23T18:10:02.574+0100", datetime.timedelta(hours=1)),
    ],
)
def test_a_date_times_zone_equals_the_timezone_of_its_offset(text: str, offset: datetime.timedelta) -> None:
    value = wire_datetime(text)
    zone = value.tzinfo
    assert zone is not None
    assert zone.utcoffset(value) == offset and zone.utcoffset(None) == offset
    assert zone == datetime.timezone(offset) and datetime.timezone(offset) == zone
    assert hash(zone) == hash(datetime.timezone(offset))
    assert {zone: "found"}[datetime.timezone(offset)] == "found"
    assert zone != datetime.timezone(offset + datetime.timedelta(minutes=1))
    assert zone != offset  # only a zone equals a zone
    assert datetime_text(value) == text
    assert datetime_text(pickle.loads(pickle.dumps(value))) == text


def test_zones_of_one_offset_written_differently_are_equal_but_keep_their_texts() -> None:
    z, plus = wire_datetime("2019-01-23T18:10:02Z"), wire_datetime("2019-01-23T18:10:02+00:00")
    assert z.tzinfo == plus.tzinfo and hash(z.tzinfo) == hash(plus.tzinfo)
    assert (datetime_text(z), datetime_text(plus)) == ("2019-01-23T18:10:02Z", "2019-01-23T18:10:02+00:00")
