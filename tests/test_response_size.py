"""The maximum response size: refused while reading (a gzip bomb, a huge body, a declared length, many
chunks), with memory bounded; the limit is the client's to set, a positive int."""

from __future__ import annotations

import functools
import gzip
import struct
import subprocess
import sys
import textwrap
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from telnyx_messages import (
    APIResponseValidationError,
    ResponseTooLargeError,
    Telnyx,
)

from .support import API_KEY
from .support.client_kinds import ALL_CLIENTS, CLIENTS, call_as
from .support.raw_server import RawServer
from .support.server import LoopbackServer, Reply

MEMORY_PROBE = textwrap.dedent(
    """
    import sys
    from telnyx_messages import Telnyx, TelnyxError
    try:
        with Telnyx(api_key="k", base_url=sys.argv[1], max_retries=int(sys.argv[2])) as client:
            client.messages.retrieve_group_messages("182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e")
    except TelnyxError as exc:
        print(type(exc).__name__)
    status = open("/proc/self/status").read()
    print(next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")))
    """
)


@functools.cache
def _bomb(megabytes: int) -> bytes:
    """A gzip body that inflates to `megabytes` MiB of zeros, made without holding them or deflating
    them all: a full flush empties the compressor's window, so each MiB deflates to the same bytes."""
    chunk = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    mebibyte = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    last_block = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush()
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(chunk, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # gzip, deflate, no name, no time (RFC 1952)
    trailer = struct.pack("<II", crc, (megabytes << 20) & 0xFFFFFFFF)
    return header + mebibyte * megabytes + last_block + trailer


def test_the_bomb_inflates_to_what_it_claims() -> None:
    assert gzip.decompress(_bomb(3)) == bytes(3 << 20)


def _peak_rss_of_a_call(base_url: str, max_retries: int = 0) -> tuple[str, int]:
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, base_url, str(max_retries)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    outcome, peak_kb = result.stdout.split()
    return outcome, int(peak_kb) // 1024


@pytest.mark.slow
@pytest.mark.parametrize(
    "reply",
    # Made when the test runs, not at every collection.
    [
        lambda: Reply(200, _bomb(1024), {"Content-Encoding": "gzip"}),
        lambda: Reply(500, _bomb(1024), {"Content-Encoding": "gzip"}),
        lambda: Reply(200, b"[" + b"0," * (50 << 20) + b"0]"),
    ],
    ids=["gzip bomb of 1 GB", "the bomb on a retried 500", "50 MB body"],
)
def test_a_huge_body_is_refused_while_reading_and_memory_stays_bounded(
    server: LoopbackServer, reply: Callable[[], Reply]
) -> None:
    server.default = reply()
    outcome, peak_mb = _peak_rss_of_a_call(server.base_url, max_retries=1)
    assert outcome == "ResponseTooLargeError"
    assert peak_mb < 400, f"peak RSS {peak_mb} MB"


@ALL_CLIENTS
def test_the_size_limit_is_the_clients_to_set(client_kind: str, server: LoopbackServer) -> None:
    server.default = Reply(200, {"data": [], "padding": "x" * 5000})
    with pytest.raises(ResponseTooLargeError, match=r"max_response_bytes \(4096\)"):
        call_as(client_kind, server.base_url, max_response_bytes=4096)
    assert call_as(client_kind, server.base_url, max_response_bytes=8192).data == []


@CLIENTS
def test_the_size_limit_counts_the_body_as_decoded_and_is_inclusive(client_kind: str, server: LoopbackServer) -> None:
    body = b'{"data": []}'  # 12 bytes
    server.default = Reply(200, body)
    assert call_as(client_kind, server.base_url, max_response_bytes=12).data == []
    with pytest.raises(ResponseTooLargeError) as caught:
        call_as(client_kind, server.base_url, max_response_bytes=11)
    assert "is over the client's max_response_bytes (11); not read further" in str(caught.value)
    # Compressed, the declared length is not the decoded size: 32 bytes on the wire, 12 decoded.
    server.default = Reply(200, gzip.compress(body), {"Content-Encoding": "gzip"})
    assert call_as(client_kind, server.base_url, max_response_bytes=20).data == []


def _declares_more_than_it_sends() -> Iterator[bytes | float]:
    yield b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"
    for _ in range(200):
        yield 0.1


@CLIENTS
def test_a_declared_length_over_the_limit_is_refused_before_any_body_is_awaited(client_kind: str) -> None:
    with RawServer(_declares_more_than_it_sends) as server:
        started = time.monotonic()
        with pytest.raises(ResponseTooLargeError, match=r"max_response_bytes \(4096\)"):
            call_as(client_kind, server.base_url, max_response_bytes=4096, timeout=3.0)
        assert time.monotonic() - started < 1.5  # not read until the body's timeout


def _chunks_then_stall() -> Iterator[bytes | float]:
    """A chunked body (no declared length) of 1,000-byte chunks, then nothing for longer than the test waits."""
    yield b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    for _ in range(6):
        yield b"3e8\r\n" + b" " * 1000 + b"\r\n"
        yield 0.05
    for _ in range(100):
        yield 0.1


@CLIENTS
def test_a_body_of_many_chunks_is_counted_whole_and_refused_as_it_arrives(client_kind: str) -> None:
    with RawServer(_chunks_then_stall) as server:
        started = time.monotonic()
        with pytest.raises(ResponseTooLargeError, match=r"max_response_bytes \(4096\)") as caught:
            call_as(client_kind, server.base_url, max_response_bytes=4096, timeout=5.0)
        assert time.monotonic() - started < 3.0  # at the fifth chunk, not after the stall
        assert caught.value.status_code == 200


@pytest.mark.parametrize("limit", [0, -1, "4096", 4096.0, None])
def test_max_response_bytes_must_be_a_positive_int(limit: Any) -> None:
    with pytest.raises(ValueError) as caught:
        Telnyx(api_key=API_KEY, max_response_bytes=limit)
    assert str(caught.value) == f"max_response_bytes must be a positive int, got {limit!r}"


def test_the_smallest_size_limit_is_one_byte(server: LoopbackServer) -> None:
    server.default = Reply(200, b"1")
    with pytest.raises(APIResponseValidationError, match="does not parse"):  # read whole (1 byte), then parsed
        call_as("sync", server.base_url, max_response_bytes=1)
