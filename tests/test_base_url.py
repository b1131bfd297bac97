"""base_url: refused at construction where httpx would refuse it later; the host it names is the one reached."""

from __future__ import annotations

import pytest
from telnyx_messages import (
    Telnyx,
)

from .support import API_KEY
from .support.client_kinds import CLIENTS, OK_GROUP, call_as
from .support.server import LoopbackServer

PRINTABLE = "base_url must be a URL of printable ASCII, got "


NO_QUERY = "base_url must not have a query or fragment (the path is appended to it), got "


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("http://127.0.0.1:abc", "base_url is not a valid URL: "),
        ("http://127.0.0.1:8080/v2\t", PRINTABLE),
        ("http://127.0.0.1:8080/v2\x07", PRINTABLE),
        ("http://127.0.0.1:8080/v 2", PRINTABLE),
        ("http://127.0.0.1:8080/vé", PRINTABLE),
        ("http://127.0.0.1/v2?x=1", NO_QUERY),
        ("http://127.0.0.1/v2#top", NO_QUERY),
        ("http://127.0.0.1/v2?", NO_QUERY),
        ("http://127.0.0.1/v2#", NO_QUERY),
    ],
)
def test_a_base_url_httpx_would_refuse_later_is_refused_now(base_url: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        Telnyx(api_key=API_KEY, base_url=base_url)
    assert str(caught.value).startswith(message)


def test_a_base_url_that_is_no_str_is_a_type_error_and_only_slashes_are_trimmed() -> None:
    with pytest.raises(TypeError, match=r"^base_url must be str, got bytes$"):
        Telnyx(api_key=API_KEY, base_url=b"http://127.0.0.1/v2")  # type: ignore[arg-type]
    assert Telnyx(api_key=API_KEY, base_url="http://127.0.0.1/apiX//").base_url == "http://127.0.0.1/apiX"


@CLIENTS
def test_the_host_named_in_the_base_url_is_the_one_reached(client_kind: str) -> None:
    elsewhere = LoopbackServer(host="127.0.0.2")  # not 127.0.0.1, where a default address would land
    try:
        elsewhere.default = OK_GROUP
        assert call_as(client_kind, elsewhere.base_url).data == []
        assert len(elsewhere.received) == 1
    finally:
        elsewhere.close()
