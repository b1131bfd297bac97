"""A Campaign's checks of its settings and its rows, as units: each refusal's whole message (the
names and values it gives, which a caller reads to fix the call or the row)."""

from __future__ import annotations

import datetime
import math
from pathlib import Path
from typing import Any

import pytest
from telnyx_messages._request_building import MAX_BODY_BYTES
from telnyx_messages.campaign import Campaign, CampaignError, _check_arguments
from telnyx_messages.testing import FakeTelnyx


@pytest.mark.parametrize(
    ("settings", "error", "message"),
    [
        ({"rate": 0}, ValueError, "rate must be a number of messages per second above 0 (math.inf: no limit), got 0"),
        (
            {"sender_rate": -1.5},
            ValueError,
            "sender_rate must be a number of messages per second above 0 (math.inf: no limit), got -1.5",
        ),
        (
            {"rate": True},
            ValueError,
            "rate must be a number of messages per second above 0 (math.inf: no limit), got True",
        ),
        ({"max_queue_wait": 0}, ValueError, "max_queue_wait must be a number of seconds above 0, got 0"),
        ({"max_queue_wait": "5"}, ValueError, "max_queue_wait must be a number of seconds above 0, got '5'"),
        ({"total": -1}, ValueError, "total must be an int of at least 0, got -1"),
        ({"total": True}, ValueError, "total must be an int of at least 0, got True"),
        ({"window": 0}, ValueError, "window must be an int of at least 1, got 0"),
        ({"max_in_flight": 1.0}, ValueError, "max_in_flight must be an int of at least 1, got 1.0"),
        ({"name": 5}, TypeError, "name must be a str, got int"),
    ],
)
def test_a_bad_setting_is_refused_with_its_name_its_bound_and_the_value_given(
    tmp_path: Path, settings: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as raised:
        Campaign(FakeTelnyx().async_client(), [], tmp_path / "run.db", **settings)
    assert str(raised.value) == message
    assert not (tmp_path / "run.db").exists()


def test_a_bad_client_or_rows_is_refused_with_the_type_given(tmp_path: Path) -> None:
    with pytest.raises(TypeError) as raised:
        Campaign(object(), [], tmp_path / "run.db")  # type: ignore[arg-type]
    assert str(raised.value) == "client must be an AsyncTelnyx or a Telnyx, got object"
    for rows, name in (
        ("+13125550001", "str"),
        (b"+13125550001", "bytes"),
        ({"to": "+13125550001"}, "dict"),
        (7, "int"),
    ):
        with pytest.raises(TypeError) as raised:
            Campaign(None, rows)  # type: ignore[arg-type]
        assert str(raised.value) == f"rows must be an iterable of dicts of send arguments, got {name}"


def test_settings_at_their_bounds_are_taken() -> None:
    campaign = Campaign(
        None, [], rate=math.inf, sender_rate=0.001, max_queue_wait=0.5, total=0, window=1, max_in_flight=1
    )
    assert campaign.parameters() == {
        "rate": math.inf,
        "sender_rate": 0.001,
        "max_queue_wait": 0.5,
        "resend_unknown": False,
    }


def test_a_run_without_a_client_or_a_journal_or_run_twice_says_what_it_needs(tmp_path: Path) -> None:
    with pytest.raises(CampaignError) as raised:
        Campaign(None, [], tmp_path / "run.db").run_sync()
    assert str(raised.value) == "a run needs a client (only dry_run() goes without one)"
    with pytest.raises(CampaignError) as raised:
        Campaign(FakeTelnyx().async_client(), []).run_sync()
    assert str(raised.value) == "a run needs a journal: a file path, made if it does not exist"
    assert not (tmp_path / "run.db").exists()
    campaign = Campaign(FakeTelnyx().async_client(), [], tmp_path / "run.db")
    campaign.run_sync()
    with pytest.raises(CampaignError) as raised:
        campaign.run_sync()
    assert str(raised.value) == "a Campaign reads its rows once: make another (with the same journal) to run again"
    with pytest.raises(CampaignError) as raised:
        campaign.dry_run_sync()
    assert str(raised.value) == "a Campaign reads its rows once: make another (with the same journal) to run again"


def test_a_row_of_exactly_the_clients_largest_body_is_not_refused_for_its_size() -> None:
    def row(size: int) -> dict[str, Any]:  # its JSON: {"text":"x...x","to":"+13125550001"}, 31 bytes and the text
        return {"to": "+13125550001", "text": "x" * (size - 31)}

    largest = MAX_BODY_BYTES
    plan = Campaign(None, [row(largest), row(largest + 1)]).dry_run_sync()
    at, over = (refusal.reason for refusal in plan.refusals)
    assert "bytes of JSON" not in at and "parts" in at  # refused for what it is, a text of too many parts
    assert over == f"row 2 is {largest + 1:,} bytes of JSON, over the {largest:,} the client sends"
    # Counted in UTF-8 as sent: 200,000 "é" are 400,031 bytes (as \u00e9 escapes they would be 1.2 MB).
    (wide,) = Campaign(None, [{"to": "+13125550001", "text": "\u00e9" * 200_000}]).dry_run_sync().refusals
    assert "bytes of JSON" not in wide.reason and "parts" in wide.reason


def test_a_row_whose_id_comes_first_keeps_every_column_after_it() -> None:
    plan = Campaign(None, [{"id": "a", "to": "+13125550001", "from": "+18445550001", "text": "hello"}]).dry_run_sync()
    assert (plan.messages, plan.refused, plan.senders) == (1, 0, {"+18445550001": 1})


def test_the_send_arguments_check_names_the_missing_required_ones() -> None:
    # check_row refuses a row without `to` before; the client's own check, called alone, names it too.
    with pytest.raises(TypeError) as raised:
        _check_arguments({"text": "x"})
    assert str(raised.value) == "send(): missing the required arguments ['to']"


def test_a_rows_content_is_the_same_whatever_the_order_of_its_columns_and_may_hold_a_datetime() -> None:
    at = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    rows = [
        {"to": "+13125550001", "text": "x", "send_at": at},
        {"send_at": at, "text": "x", "to": "+13125550001"},  # the same row, its columns in another order
    ]
    plan = Campaign(None, rows).dry_run_sync()
    assert (plan.messages, plan.duplicates, plan.refused) == (1, 1, 0)
