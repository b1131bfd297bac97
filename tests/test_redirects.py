"""Redirects: the client's own HTTP client follows none; a loop through a caller's client ends in the hierarchy."""

from __future__ import annotations

import asyncio

import httpx2
import pytest
from telnyx_messages import (
    APIConnectionError,
    APIStatusError,
    AsyncTelnyx,
    Telnyx,
)

from .support import API_KEY, MESSAGE_ID
from .support.client_kinds import CLIENTS
from .support.server import LoopbackServer, Reply, use_client


@CLIENTS
def test_a_redirect_loop_through_a_callers_client_ends_in_the_hierarchy(
    client_kind: str, server: LoopbackServer
) -> None:
    server.default = Reply(307, b"", {"Location": f"{server.base_url}/messages/group/{MESSAGE_ID}"})
    if client_kind == "sync":
        with httpx2.Client(follow_redirects=True) as http, pytest.raises(APIConnectionError, match="TooManyRedirects"):
            Telnyx(api_key=API_KEY, base_url=server.base_url, http_client=http).messages.retrieve_group_messages(
                MESSAGE_ID
            )
        return

    async def run() -> None:
        async with httpx2.AsyncClient(follow_redirects=True) as http:
            client = AsyncTelnyx(api_key=API_KEY, base_url=server.base_url, http_client=http)
            with pytest.raises(APIConnectionError, match="TooManyRedirects"):
                await client.messages.retrieve_group_messages(MESSAGE_ID)

    asyncio.run(run())


@CLIENTS
def test_the_clients_own_http_client_follows_no_redirect(client_kind: str, server: LoopbackServer) -> None:
    other = LoopbackServer()
    server.default = Reply(307, b"", {"Location": f"{other.base_url}/messages"})
    client_class = Telnyx if client_kind == "sync" else AsyncTelnyx
    try:
        with pytest.raises(APIStatusError) as caught:
            use_client(client_class, server.base_url, lambda m: m.send(to="+13125550002", text="hi"))
        assert caught.value.status_code == 307 and other.received == [] and len(server.received) == 1
    finally:
        other.close()
