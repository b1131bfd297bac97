"""Closing a client closes the HTTP client it holds, given or made, as the official SDK's do; copies
share it, so closing any of them closes it for all."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx
import httpx2
import pytest
from telnyx_messages import (
    AsyncTelnyx,
    ClientClosedError,
    DefaultAioHttpClient,
    DefaultAsyncHttpxClient,
    DefaultHttpxClient,
    Telnyx,
)
from telnyx_messages.testing import FakeTelnyx

from .support import API_KEY
from .support import MESSAGE_ID as GROUP_ID
from .support.server import LoopbackServer, Reply

OK = Reply(200, {"data": []})
SEND = {"to": "+13125550002", "from_": "+18445550001", "text": "Hello"}

SYNC_HTTP_CLIENTS: dict[str, Callable[[], Any]] = {
    "httpx2": httpx2.Client,
    "DefaultHttpxClient": DefaultHttpxClient,
    "legacy httpx": httpx.Client,
}
ASYNC_HTTP_CLIENTS: dict[str, Callable[[], Any]] = {
    "httpx2": httpx2.AsyncClient,
    "DefaultAsyncHttpxClient": DefaultAsyncHttpxClient,
    "DefaultAioHttpClient": DefaultAioHttpClient,
    "legacy httpx": httpx.AsyncClient,
}


@pytest.mark.parametrize("make", SYNC_HTTP_CLIENTS.values(), ids=SYNC_HTTP_CLIENTS)
def test_leaving_with_closes_the_given_http_client(make: Callable[[], Any], server: LoopbackServer) -> None:
    server.default = OK
    http = make()
    with Telnyx(api_key=API_KEY, base_url=server.base_url, http_client=http) as client:
        assert client.messages.retrieve_group_messages(GROUP_ID).data == []
        assert not http.is_closed
    assert http.is_closed
    with pytest.raises(ClientClosedError):
        client.messages.retrieve_group_messages(GROUP_ID)
    assert len(server.received) == 1


@pytest.mark.parametrize("make", SYNC_HTTP_CLIENTS.values(), ids=SYNC_HTTP_CLIENTS)
def test_close_closes_the_given_http_client(make: Callable[[], Any], server: LoopbackServer) -> None:
    http = make()
    client = Telnyx(api_key=API_KEY, base_url=server.base_url, http_client=http)
    client.close()
    assert http.is_closed
    client.close()  # again: nothing left to close, no error
    assert http.is_closed


@pytest.mark.parametrize("make", ASYNC_HTTP_CLIENTS.values(), ids=ASYNC_HTTP_CLIENTS)
def test_leaving_async_with_closes_the_given_http_client(make: Callable[[], Any], server: LoopbackServer) -> None:
    server.default = OK

    async def run() -> Any:
        http = make()
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url, http_client=http) as client:
            assert (await client.messages.retrieve_group_messages(GROUP_ID)).data == []
            assert not http.is_closed
        assert http.is_closed
        with pytest.raises(ClientClosedError):
            await client.messages.retrieve_group_messages(GROUP_ID)
        await client.close()  # again: no error
        return http

    http = asyncio.run(run())
    assert http.is_closed and len(server.received) == 1


def test_closing_the_client_closes_the_aiohttp_session(server: LoopbackServer) -> None:
    server.default = OK

    async def run() -> Any:
        client = AsyncTelnyx(api_key=API_KEY, base_url=server.base_url, http_client=DefaultAioHttpClient())
        await client.messages.retrieve_group_messages(GROUP_ID)
        session = client._http._transport.client  # type: ignore[union-attr]
        assert not session.closed
        await client.close()
        return session

    assert asyncio.run(run()).closed


def test_the_readme_aiohttp_example_exits_without_an_unclosed_session(server: LoopbackServer) -> None:
    server.default = OK
    code = (
        "import asyncio\n"
        "from telnyx_messages import AsyncTelnyx, DefaultAioHttpClient\n"
        "async def main():\n"
        f"    async with AsyncTelnyx(api_key='k', base_url={server.base_url!r},"
        " http_client=DefaultAioHttpClient()) as aclient:\n"
        f"        async with aclient.messages.with_streaming_response.retrieve_group_messages({GROUP_ID!r}) as s:\n"
        "            lines = [line async for line in s.iter_lines()]\n"
        "        print(s.is_closed, len(lines) > 0)\n"
        "asyncio.run(main())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (0, "True True\n"), result.stderr
    assert "Unclosed" not in result.stderr
    assert len(server.received) == 1


def test_the_fakes_clients_close_their_http_clients() -> None:
    fake = FakeTelnyx()
    with fake.client() as client:
        client.messages.send(**SEND)
    assert client._http.is_closed
    with pytest.raises(ClientClosedError):
        client.messages.send(**SEND)

    async def run() -> AsyncTelnyx:
        async with fake.async_client() as aclient:
            await aclient.messages.send(**SEND)
        return aclient

    assert asyncio.run(run())._http.is_closed
    assert len(fake.sent) == 2


@pytest.mark.parametrize("closed", ["copy", "original"])
def test_copies_share_the_http_client_so_closing_one_closes_all(closed: str, server: LoopbackServer) -> None:
    server.default = OK
    client = Telnyx(api_key=API_KEY, base_url=server.base_url)
    copies = [client.with_options(max_retries=0), client.copy(timeout=3.0)]
    for each in (client, *copies):
        each.messages.retrieve_group_messages(GROUP_ID)
    (copies[0] if closed == "copy" else client).close()
    assert client._http.is_closed
    for each in (client, *copies):
        with pytest.raises(ClientClosedError):
            each.messages.retrieve_group_messages(GROUP_ID)
    assert len(server.received) == 3


def test_async_copies_share_the_http_client_so_closing_one_closes_all(server: LoopbackServer) -> None:
    server.default = OK

    async def run() -> None:
        http = httpx2.AsyncClient()
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url, http_client=http) as client:
            async with client.with_options(max_retries=0) as copy:
                await copy.messages.retrieve_group_messages(GROUP_ID)
            assert http.is_closed
            with pytest.raises(ClientClosedError):
                await client.messages.retrieve_group_messages(GROUP_ID)

    asyncio.run(run())
    assert len(server.received) == 1


def test_a_client_closes_the_http_client_it_made(server: LoopbackServer) -> None:
    server.default = OK
    with Telnyx(api_key=API_KEY, base_url=server.base_url) as client:
        client.messages.retrieve_group_messages(GROUP_ID)
        assert not client._http.is_closed
    assert client._http.is_closed

    async def run() -> AsyncTelnyx:
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as own:
            await own.messages.retrieve_group_messages(GROUP_ID)
            assert not own._http.is_closed
        return own

    assert asyncio.run(run())._http.is_closed
