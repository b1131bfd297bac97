"""AsyncTelnyx's streamed responses (telnyx_messages/_response.py): the twins of the sync ones that
tests/test_official_surface.py reads over a loopback server, without Prism."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator

import httpx2
import pytest
from telnyx_messages import AsyncStreamedAPIResponse, BodyConsumedError, ResponseTooLargeError

from .support import MESSAGE_ID
from .support.server import LoopbackServer, Reply, async_client_for
from .support.spec import message_example


async def test_an_async_streamed_response_gives_status_and_headers_before_the_body(server: LoopbackServer) -> None:
    server.reply(Reply(200, {"data": [message_example()]}, {"x-request-id": "req-1"}))
    async with async_client_for(server) as client:
        stream = client.messages.with_streaming_response.retrieve_group_messages
        async with stream(MESSAGE_ID) as response:
            assert isinstance(response, AsyncStreamedAPIResponse)
            assert response.status_code == 200 and response.request_id == "req-1" and not response.is_closed
            assert repr(response) == f"<AsyncStreamedAPIResponse [200] GET /messages/group/{MESSAGE_ID}>"
            group = await response.parse()
            assert group._request_id == "req-1"
            assert await response.parse() == group  # read once, parsed again from what was read
            assert (await response.json())["data"][0]["id"] == message_example()["id"]
        assert response.is_closed


async def test_async_text_lines_and_chunks_read_the_same_body(server: LoopbackServer) -> None:
    body = "first line\r\nsecond, caf\u00e9\nthird\rlast".encode()
    server.default = Reply(200, body, {"Content-Type": "text/plain; charset=utf-8"})
    async with async_client_for(server) as client:
        stream = client.messages.with_streaming_response.retrieve_group_messages
        async with stream(MESSAGE_ID) as response:
            lines = [line async for line in response.iter_lines()]
            assert lines == ["first line", "second, caf\u00e9", "third", "last"]
        async with stream(MESSAGE_ID) as response:
            assert "".join([text async for text in response.iter_text(chunk_size=3)]) == body.decode()
        async with stream(MESSAGE_ID) as response:
            chunks = [chunk async for chunk in response.iter_bytes(chunk_size=4)]
            assert b"".join(chunks) == body and {len(c) for c in chunks[:-1]} == {4} and len(chunks[-1]) <= 4
            with pytest.raises(BodyConsumedError, match="already iterated"):
                await response.read()
        async with stream(MESSAGE_ID) as response:
            assert await response.text() == body.decode() and await response.read() == body
            assert b"".join([chunk async for chunk in response.iter_bytes()]) == body  # from what was read
            await response.close()
            assert response.is_closed


async def _chunks_of(body: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(body), size):
        yield body[i : i + size]


async def test_async_lines_split_across_chunks_are_joined() -> None:
    """iter_lines of one body however it arrives: a character, a CRLF or a line split between chunks."""
    body = "ab\r\ncd\u00e9\n\nlast".encode()
    request = httpx2.Request("GET", "http://127.0.0.1/")
    for size in range(1, len(body) + 1):
        response = httpx2.Response(200, request=request)
        streamed = AsyncStreamedAPIResponse(response, _chunks_of(body, size), lambda b: b)
        assert [line async for line in streamed.iter_lines()] == ["ab", "cd\u00e9", "", "last"], size


async def test_async_text_in_the_declared_charset() -> None:
    body = "caf\u00e9".encode("latin-1")
    request = httpx2.Request("GET", "http://127.0.0.1/")
    response = httpx2.Response(200, request=request, headers={"Content-Type": "text/plain; charset=latin-1"})
    streamed = AsyncStreamedAPIResponse(response, _chunks_of(body, 1), lambda b: b)
    assert "".join([text async for text in streamed.iter_text()]) == "caf\u00e9"
    streamed = AsyncStreamedAPIResponse(response, _chunks_of(body, 1), lambda b: b)
    assert await streamed.text() == "caf\u00e9"


@pytest.mark.parametrize("declared", [True, False])
async def test_an_async_streamed_body_is_held_to_the_size_limit(server: LoopbackServer, declared: bool) -> None:
    body = b"x" * 10_000
    if declared:
        server.default = Reply(200, body)
    else:  # a length that is not what the body inflates to: known only while reading
        server.default = Reply(200, gzip.compress(body), {"Content-Encoding": "gzip"})
    async with async_client_for(server, max_response_bytes=4096) as client:
        stream = client.messages.with_streaming_response.retrieve_group_messages
        if declared:  # refused before the block: its length says it is over
            with pytest.raises(ResponseTooLargeError, match=r"max_response_bytes \(4096\)"):
                async with stream(MESSAGE_ID):
                    pytest.fail("entered")
        else:
            async with stream(MESSAGE_ID) as response:
                with pytest.raises(ResponseTooLargeError, match=r"max_response_bytes \(4096\)") as caught:
                    await response.read()
                assert caught.value.idempotency_key is None
            assert response.is_closed


async def test_an_async_streamed_body_at_the_size_limit_is_read(server: LoopbackServer) -> None:
    server.default = Reply(200, gzip.compress(b"y" * 4096), {"Content-Encoding": "gzip"})
    async with async_client_for(server, max_response_bytes=4096) as client:
        stream = client.messages.with_streaming_response.retrieve_group_messages
        async with stream(MESSAGE_ID) as response:
            assert await response.read() == b"y" * 4096
