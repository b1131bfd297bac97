"""API keys refused before anything is sent (white space, unprintable characters, a `Bearer ` scheme),
without quoting the key, by the clients and the CLI."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from telnyx_messages import (
    AsyncTelnyx,
    Telnyx,
    TelnyxError,
)

from .support import API_KEY, MESSAGE_ID
from .support.server import LoopbackServer, Reply

SURROUNDED = "api_key starts or ends with white space or a line break (read from a file? strip it)"


UNPRINTABLE = "api_key holds a character that is not printable ASCII; a Telnyx key never does"


@pytest.mark.parametrize(
    ("key", "error", "message"),
    [
        (API_KEY + "\n", ValueError, SURROUNDED),
        (API_KEY + "\r\n", ValueError, SURROUNDED),
        (API_KEY + "\0", ValueError, UNPRINTABLE),
        (API_KEY + "é", ValueError, UNPRINTABLE),
        (API_KEY.encode(), TypeError, "api_key must be str, got bytes"),
        ("", TelnyxError, "No API key: pass api_key= or set the TELNYX_API_KEY environment variable."),
    ],
    ids=["LF", "CRLF", "NUL", "non-ASCII", "bytes", "empty"],
)
def test_a_key_that_cannot_be_sent_is_refused_without_quoting_it(
    key: Any, error: type[Exception], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TELNYX_API_KEY", raising=False)
    with pytest.raises(error) as caught:
        Telnyx(api_key=key)
    assert str(caught.value) == message


def test_the_cli_does_not_print_a_key_it_refuses(server: LoopbackServer) -> None:
    cli = [sys.executable, "-m", "telnyx_messages.cli", "--api-key", API_KEY + "\n", "--base-url", server.base_url]
    result = subprocess.run([*cli, "retrieve", "--id", MESSAGE_ID], capture_output=True, text=True)
    assert result.returncode != 0 and "api_key" in result.stderr
    assert API_KEY not in result.stdout + result.stderr
    assert server.received == []


@pytest.mark.parametrize("key", [f"Bearer {API_KEY}", f"bearer {API_KEY}", f"BEARER {API_KEY}"])
def test_a_key_given_with_bearer_is_refused_without_quoting_it(key: str) -> None:
    for client_class in (Telnyx, AsyncTelnyx):
        with pytest.raises(ValueError, match="pass the key alone") as caught:
            client_class(api_key=key)
        assert API_KEY not in str(caught.value)
    with pytest.raises(ValueError, match="pass the key alone"):
        Telnyx(api_key=API_KEY).with_options(api_key=key)


def test_a_key_that_merely_starts_with_bearer_letters_is_kept(server: LoopbackServer) -> None:
    server.reply(Reply(200, {"data": []}))
    with Telnyx(api_key="BearerKEY123", base_url=server.base_url) as client:
        client.messages.retrieve_group_messages(MESSAGE_ID)
    assert server.received[0].headers["Authorization"] == "Bearer BearerKEY123"
