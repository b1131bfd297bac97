"""Headers: default and per-call headers HTTP cannot carry are refused before sending; every token
character and printable value goes; what every request says it accepts and who sends it."""

from __future__ import annotations

from typing import Any

import pytest
from telnyx_messages import (
    Telnyx,
)
from telnyx_messages._calls import NOT_GIVEN, CallOptions, HeaderParameter, NotGiven, Operation
from telnyx_messages._request_building import new_idempotency_key, prepare

from .support import API_KEY, MESSAGE_ID
from .support.client_kinds import CLIENTS, OK_GROUP, call_as
from .support.server import LoopbackServer, client_for

_UNSENDABLE = "default_headers: the value of X-Team holds a control character or one beyond ASCII"


_SPACED = "default_headers: the value of X-Team starts or ends with white space"


@pytest.mark.parametrize(
    ("headers", "error", "message"),
    [
        ({"X-Team": "a\r\nX-Evil: 1"}, ValueError, "default_headers: the value of X-Team holds a line break or NUL"),
        ({"X-Team": 5}, TypeError, "default_headers: the value of X-Team must be str, got int"),
        ({"X-Team": "é"}, ValueError, _UNSENDABLE),
        ({"X-Team": "a\x01b"}, ValueError, _UNSENDABLE),
        ({"X-Team": "X-ray\x1b"}, ValueError, _UNSENDABLE),
        ({"X-Team": "a\x7f"}, ValueError, _UNSENDABLE),
        ({"X-Team": " a"}, ValueError, _SPACED),
        ({"X-Team": "a\t"}, ValueError, _SPACED),
        ({"X Team": "a"}, ValueError, "default_headers: 'X Team' is not a valid header name"),
        ({"": "a"}, ValueError, "default_headers: '' is not a valid header name"),
        ({b"X-Team": "a"}, ValueError, "default_headers: b'X-Team' is not a valid header name"),
    ],
)
def test_a_bad_default_header_is_refused_at_construction(headers: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        Telnyx(api_key=API_KEY, default_headers=headers)
    assert str(caught.value) == message


@pytest.mark.parametrize("value", ["caf\u00e9", "trailing ", "\tleading", "bell\x07"])
def test_a_per_call_header_http_cannot_carry_is_refused_before_sending(server: LoopbackServer, value: str) -> None:
    with (
        client_for(server) as client,
        pytest.raises(ValueError, match=r"^extra_headers: the value of X-Team ") as caught,
    ):
        client.messages.retrieve_group_messages(MESSAGE_ID, extra_headers={"X-Team": value})
    assert value not in str(caught.value)
    assert server.received == []


def test_a_header_name_may_use_every_token_character_and_a_value_any_printable_one(server: LoopbackServer) -> None:
    import string

    token = "!#$%&'*+-.^_`|~" + string.digits + string.ascii_letters  # RFC 9110's tchar
    value = "a b\tc " + "".join(c for c in string.printable if c not in string.whitespace)
    server.default = OK_GROUP
    call_as("sync", server.base_url, default_headers={token: value})
    assert server.received[0].headers[token] == value


@CLIENTS
def test_every_request_says_what_it_accepts_and_who_sends_it(client_kind: str, server: LoopbackServer) -> None:
    server.default = OK_GROUP
    call_as(client_kind, server.base_url)
    headers = server.received[0].headers
    assert (headers["Accept"], headers["User-Agent"]) == ("application/json", "telnyx-messages-python")


def test_a_made_idempotency_key_varies_its_variant_digit_apart_from_the_digits_after_it() -> None:
    # A version 4 UUID's 122 random bits: the variant digit's two random bits are drawn on their own,
    # so every variant digit (8, 9, a, b) meets every digit after it. 3,000 keys miss one of the 64
    # pairs with a chance under 1e-18.
    pairs = {new_idempotency_key()[19:21] for _ in range(3000)}
    assert pairs == {variant + digit for variant in "89ab" for digit in "0123456789abcdef"}


def _source_then_key(
    self: object, *, x_source: str | NotGiven = NOT_GIVEN, idempotency_key: str | NotGiven | None = NOT_GIVEN
) -> None:
    """A method of an operation that declares two headers, another before the key (as a later spec may)."""


def test_a_header_argument_not_given_leaves_the_headers_after_it_read() -> None:
    """Unit: prepare() over an operation whose first header parameter is not the key."""
    operation: Operation[Any] = Operation(
        "Two",
        "POST",
        "/two",
        (),
        (),
        (HeaderParameter("x_source", "X-Source"), HeaderParameter("idempotency_key", "Idempotency-Key")),
        (),
        False,
        "None",
        None,
    )

    def sent(**arguments: Any) -> tuple[dict[str, str], str | None]:
        given = {"x_source": NOT_GIVEN, "idempotency_key": NOT_GIVEN, **arguments}
        prepared = prepare(operation, _source_then_key, given, CallOptions(), {})
        return prepared.headers, prepared.idempotency_key

    assert sent(idempotency_key="k-1") == ({"Idempotency-Key": "k-1"}, "k-1")
    assert sent(x_source="web", idempotency_key="k-2") == ({"X-Source": "web", "Idempotency-Key": "k-2"}, "k-2")
    headers, key = sent()
    assert key is not None and headers == {"Idempotency-Key": key}  # made: the source before it was not given
