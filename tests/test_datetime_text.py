"""Date-times go back as the server wrote them; a changed one in the document's style where it fits."""

from __future__ import annotations

import copy
import datetime
import pickle

import pytest

from .support import MESSAGE_ID
from .support.server import LoopbackServer, Reply, client_for
from .support.spec import message_example


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
    from telnyx_messages_api.types import datetime_text, wire_datetime

    value = wire_datetime(text)
    assert value == datetime.datetime.fromisoformat(text)
    written = datetime_text(value)
    assert written in (text, datetime.datetime.fromisoformat(text).isoformat())
    if text[4] == "-" and text.count(":") >= 2 and not text.endswith("+0100"):
        assert written == text  # the extended forms servers write come back as they were
    assert datetime_text(pickle.loads(pickle.dumps(value))) == written
