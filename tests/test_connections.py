"""Connections: one the server closed after answering is not reused."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from telnyx_messages import (
    AsyncTelnyx,
    Telnyx,
)

from .support.client_kinds import CLIENTS
from .support.raw_server import RawServer
from .support.server import use_client


@CLIENTS
def test_a_connection_the_server_closed_after_answering_is_not_reused(client_kind: str) -> None:
    answer = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{"data": {}}'
    with RawServer(lambda: iter([answer, 0.05])) as server:  # answers, keeps nothing alive: closes

        def send_twice(messages: Any) -> Any:
            first = messages.send(to="+13125550002", text="one")
            time.sleep(0.3)  # the server has closed that connection by now
            return first, messages.send(to="+13125550002", text="two")

        async def send_twice_async(messages: Any) -> Any:
            first = await messages.send(to="+13125550002", text="one")
            await asyncio.sleep(0.3)
            return first, await messages.send(to="+13125550002", text="two")

        client_class = Telnyx if client_kind == "sync" else AsyncTelnyx
        call = send_twice if client_kind == "sync" else send_twice_async
        first, second = use_client(client_class, server.base_url, call, max_retries=0)
        assert first.data is not None and second.data is not None
