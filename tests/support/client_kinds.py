"""One call through each kind of client (Telnyx, AsyncTelnyx, AsyncTelnyx on DefaultAioHttpClient), and
the parametrize marks naming them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telnyx_messages import AsyncTelnyx, DefaultAioHttpClient, Telnyx

from . import API_KEY, MESSAGE_ID
from .server import Reply, use_client

OK_GROUP = Reply(200, {"data": []})  # an answer to retrieve_group_messages


def call_as(client_kind: str, base_url: str, **options: Any) -> Any:
    """retrieve_group_messages through Telnyx, AsyncTelnyx, or AsyncTelnyx on DefaultAioHttpClient,
    without retries unless given."""
    options = {"max_retries": 0, **options}
    if client_kind == "aiohttp":

        async def on_aiohttp() -> Any:
            async with DefaultAioHttpClient() as http:
                client = AsyncTelnyx(api_key=API_KEY, base_url=base_url, http_client=http, **options)
                return await client.messages.retrieve_group_messages(MESSAGE_ID)

        return asyncio.run(on_aiohttp())
    client_class = Telnyx if client_kind == "sync" else AsyncTelnyx

    def retrieve(messages: Any) -> Any:  # a coroutine on AsyncTelnyx, which use_client awaits
        return messages.retrieve_group_messages(MESSAGE_ID)

    return use_client(client_class, base_url, retrieve, **options)


CLIENTS = pytest.mark.parametrize("client_kind", ["sync", "async"])
# For servers that misbehave: met through the aiohttp transport too.
ALL_CLIENTS = pytest.mark.parametrize("client_kind", ["sync", "async", "aiohttp"])
