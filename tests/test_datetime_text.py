"""Date-times go back as the server wrote them; a changed one in the document's style where it fits."""

from __future__ import annotations

import copy
import datetime
import pickle

import pytest
from telnyx_messages import _datetime

from .support import MESSAGE_ID
from .support.server import LoopbackServer, Reply, client_for
from .support.spec import message_example

# Each test reads its date-times as the first of their shape and style (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("first_datetime_readings")


def test_date_times_go_back_as_written(server: LoopbackServer) -> None:
    example = message_example()
    example["received_at"] = "2019-01-23T18:10:02.574Z"
    example["sent_at"] = "2019-01-23T18:10:02.5+01:00"
    server.reply(Reply(200, {"data": example}))
    with client_for(server) as client:
        message = client.messages.retrieve(MESSAGE_ID).data
    assert message is not None and message.received_at is not None
    document = message.to_dict(mode="json")
    assert document["received_at"] == "2019-01-23T18:10:02.574Z"
    assert document["sent_at"] == "2019-01-23T18:10:02.5+01:00"
    assert message.received_at.microsecond == 574000 and message.received_at.utcoffset() == datetime.timedelta(0)
    for kept in (pickle.loads(pickle.dumps(message)), copy.deepcopy(message)):
        assert kept.to_dict(mode="json")["received_at"] == "2019-01-23T18:10:02.574Z"
    # A date-time changed in code is written in the document's style where it fits, else isoformat().
    message.received_at = message.received_at.replace(year=2020)
    assert message.to_dict(mode="json")["received_at"] == "2020-01-23T18:10:02.574Z"
    message.received_at = message.received_at.replace(microsecond=574321)
    assert message.to_dict(mode="json")["received_at"] == "2020-01-23T18:10:02.574321+00:00"
    message.received_at = datetime.datetime(2021, 5, 1, tzinfo=datetime.UTC)
    assert message.to_dict(mode="json")["received_at"] == "2021-05-01T00:00:00+00:00"
    # The value itself is a plain datetime (nothing more for the garbage collector to track).
    assert type(message.received_at) is datetime.datetime


@pytest.mark.parametrize(
    "text",
    [
        "2019-01-23T18:10:02.574Z",
        "2019-01-23T18:10:02Z",
        "2019-01-23T18:10:02.574000+00:00",
        "2019-01-23 18:10:02.5-05:00",
        "2019-01-23T18:10:02.574+0100",
        "2019-01-23T18:10:02.123456",
        "2019-01-23T18:10:02.100Z",
        "20190123T181002Z",
        "2019-01-23T18:10Z",
    ],
)
def test_a_date_time_is_written_as_read_or_as_isoformat(text: str) -> None:
    from telnyx_messages._api.types import datetime_text, wire_datetime

    value = wire_datetime(text)
    assert value == datetime.datetime.fromisoformat(text)
    written = datetime_text(value)
    assert written in (text, datetime.datetime.fromisoformat(text).isoformat())
    if text[4] == "-" and text.count(":") >= 2 and not text.endswith("+0100"):
        assert written == text  # the extended forms servers write come back as they were
    assert datetime_text(pickle.loads(pickle.dumps(value))) == written


def test_texts_of_one_shape_share_one_entry_and_each_shape_is_read_as_written() -> None:
    """The shape table holds one entry per shape (length, separator, offset as written), not one
    per text: a hundred texts of a shape add one; shapes that differ only in the separator, or in
    whether the offset is "Z" or "+HH:MM" at one length, each read in their own style."""
    from telnyx_messages._api.types import datetime_text, wire_datetime

    for second in range(50):
        wire_datetime(f"2019-01-23T18:10:{second:02}.{second:03}Z")
        wire_datetime(f"2019-01-23T18:10:{second:02}+02:00")
    assert len(_datetime._ZONE_OF_SHAPE) == 2
    texts = [
        "2019-01-23T18:10:02Z",
        "2019-01-23 18:10:02Z",
        "2019-01-23T18:10:02+01:00",
        "2019-01-23 18:10:02+01:00",
        "2019-01-23T18:10:02.5741Z",  # as long as the +01:00 texts
        "2019-01-23T18:10:02-00:00",  # read as isoformat writes it
    ]
    for _ in range(2):  # read first, then from the table
        for text in texts:
            value = wire_datetime(text)
            assert datetime_text(value) == (text if not text.endswith("-00:00") else value.isoformat())
            assert (type(value.tzinfo) is _datetime.WireZone) == (not text.endswith("-00:00"))
    assert len(_datetime._ZONE_OF_SHAPE) == 2 + len(texts)


def test_the_shape_table_stops_growing_at_4096_and_a_style_keeps_one_zone() -> None:
    from telnyx_messages._api.types import datetime_text, wire_datetime

    _datetime._ZONE_OF_SHAPE.update({(n, "", ""): None for n in range(4095)})
    first = wire_datetime("2019-01-23T18:10:02.574Z")
    assert len(_datetime._ZONE_OF_SHAPE) == 4096
    beyond = wire_datetime("2019-01-23T18:10:02.57Z")
    assert len(_datetime._ZONE_OF_SHAPE) == 4096 and datetime_text(beyond) == "2019-01-23T18:10:02.57Z"
    # Read again past the table, a style is still one zone: the zones are kept by style.
    assert wire_datetime("2019-01-23T18:10:03.11Z").tzinfo is beyond.tzinfo
    assert wire_datetime("2019-01-23T18:10:03.111Z").tzinfo is first.tzinfo


def test_a_changed_value_keeps_the_style_only_where_it_holds_every_digit() -> None:
    from telnyx_messages._api.types import datetime_text, wire_datetime

    whole = wire_datetime("2019-01-23T18:10:02Z")
    assert datetime_text(whole.replace(microsecond=500000)) == "2019-01-23T18:10:02.500000+00:00"
    assert datetime_text(whole.replace(minute=11)) == "2019-01-23T18:11:02Z"
    millis = wire_datetime("2019-01-23T18:10:02.574Z")
    assert datetime_text(millis.replace(microsecond=0)) == "2019-01-23T18:10:02.000Z"
    assert datetime_text(millis.replace(microsecond=574300)) == "2019-01-23T18:10:02.574300+00:00"
    assert datetime_text(millis.replace(microsecond=500000)) == "2019-01-23T18:10:02.500Z"


def test_a_wire_zone_names_itself_and_converts_from_utc() -> None:
    from telnyx_messages._api.types import DateTimeText, wire_datetime

    assert wire_datetime("2019-01-23T18:10:02Z").tzname() == "UTC"
    assert wire_datetime("2019-01-23T18:10:02+00:00").tzname() == "UTC"
    assert wire_datetime("2019-01-23T18:10:02+01:00").tzname() == "+01:00"
    assert wire_datetime("2019-01-23T18:10:02-0530").tzname() == "-0530"
    assert wire_datetime("2019-01-23T18:10:02+01:00").dst() is None
    zone = wire_datetime("2019-01-23T18:10:02-05:30").tzinfo
    assert zone is not None and repr(zone) == "WireZone('-05:30')"
    moved = datetime.datetime(2019, 1, 23, 18, 0, tzinfo=datetime.UTC).astimezone(zone)
    assert (moved.hour, moved.minute, moved.tzinfo) == (12, 30, zone)
    assert repr(DateTimeText()) == "DateTimeText"


def test_an_offset_of_ten_hours_or_more_and_minus_zero_in_either_form() -> None:
    from telnyx_messages._api.types import datetime_text, wire_datetime

    far = wire_datetime("2019-01-23T18:10:02+10:30")
    assert far.utcoffset() == datetime.timedelta(hours=10, minutes=30)
    assert datetime_text(far) == "2019-01-23T18:10:02+10:30"
    west = wire_datetime("2019-01-23T18:10:02-1100")
    assert west.utcoffset() == -datetime.timedelta(hours=11) and datetime_text(west) == "2019-01-23T18:10:02-1100"
    for text in ("2019-01-23T18:10:02-00:00", "2019-01-23T18:10:02-0000"):
        value = wire_datetime(text)  # "-00:00": the offset is unknown (RFC 3339); written as isoformat
        assert type(value.tzinfo) is not _datetime.WireZone and datetime_text(value) == value.isoformat()
