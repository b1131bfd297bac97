"""A loopback HTTP/1.1 keep-alive server cheap enough that the client's overhead dominates.

It answers `POST /messages` (a send) with one message, counting the sends it took (`GET /_sends`
gives the count, so the bench can check that no call sent twice), and `GET /messages/group/{id}`
with N messages, N read from the id's last group
(`...-000000000008` is 8), each the spec's OutboundMessagePayload example with its own id and
phone numbers and Z-suffixed timestamps. Each N has VARIANTS responses, served in turn, whose
message ids differ: more distinct ids than a client could remember between two calls, so that
a client caching what it parsed cannot make the benchmark say more than it would do for real
traffic. Responses are built once; serving is a lookup.

    python bench/server.py SPEC PORT_FILE   # writes the port it listens on, then serves
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from telnyx_messages._spec_refs import resolve

SIZES = (1, 8, 100)
VARIANTS = 32


def load_spec(spec: Path) -> dict[str, Any]:
    """The document, read by libyaml where PyYAML has it (a tenth of the pure-Python loader's CPU, the same
    data): the server and the parse-only section each read it once a run."""
    document: dict[str, Any] = yaml.load(spec.read_bytes(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return document


def group_id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def message_example(spec: dict[str, Any]) -> dict[str, Any]:
    """The example of one message of a group, reached through GetGroupMmsMessages' answer."""
    (operation,) = (
        op for item in spec["paths"].values() for op in item.values() if op.get("operationId") == "GetGroupMmsMessages"
    )
    response = resolve(spec, operation["responses"]["200"])
    answer = resolve(spec, response["content"]["application/json"]["schema"])
    data = resolve(spec, answer["properties"]["data"])
    example: dict[str, Any] = resolve(spec, data["items"])["example"]
    return example


def messages(spec: dict[str, Any], n: int, variant: int = 0) -> dict[str, Any]:
    example = message_example(spec)
    data = []
    for i in range(n):
        message = copy.deepcopy(example)
        message["id"] = str(uuid.UUID(int=variant << 32 | i + 1))
        message["from"]["phone_number"] = f"+1844555{i:04d}"
        message["to"][0]["phone_number"] = f"+1866555{i:04d}"
        message["received_at"] = f"2019-01-23T18:10:{i % 60:02d}.574Z"
        message["sent_at"] = f"2019-01-23T18:11:{i % 60:02d}.000Z"
        message["completed_at"] = f"2019-01-23T18:12:{i % 60:02d}.000Z"
        data.append(message)
    return {"data": data}


def responses(spec: dict[str, Any]) -> dict[bytes, Iterator[bytes]]:
    table: dict[bytes, Iterator[bytes]] = {}
    for n in SIZES:
        variants = []
        for variant in range(VARIANTS):
            body = json.dumps(messages(spec, n, variant)).encode()
            head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            variants.append(head.encode() + body)
        table[f"/messages/group/{group_id(n)}".encode()] = itertools.cycle(variants)
    one = [messages(spec, 1, variant)["data"][0] for variant in range(VARIANTS)]
    sent = [_response(json.dumps({"data": message}).encode()) for message in one]
    table[b"/messages"] = itertools.cycle(sent)
    return table


def _response(body: bytes) -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


NOT_FOUND = b'HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"errors":[]}'


async def serve(table: dict[bytes, Iterator[bytes]], port_file: Path) -> None:
    sends = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal sends
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                method, path, _ = head.split(b" ", 2)
                if method == b"POST":
                    await reader.readexactly(_content_length(head))
                    sends += path == b"/messages"
                if path == b"/_sends":
                    writer.write(_response(str(sends).encode()))
                    continue
                variants = table.get(path)
                writer.write(NOT_FOUND if variants is None else next(variants))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    port_file.write_text(str(server.sockets[0].getsockname()[1]))
    async with server:
        await server.serve_forever()


@contextlib.contextmanager
def running_server(spec: Path) -> Iterator[str]:
    """This server, answering from `spec`, in a process of its own (this Python) until the block
    ends: its base URL once it listens."""
    with tempfile.TemporaryDirectory() as scratch:
        port_file = Path(scratch) / "port"
        process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), str(spec), str(port_file)])
        try:
            deadline = time.monotonic() + 30
            while not port_file.exists() or not port_file.read_text():
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the bench server did not start")
                time.sleep(0.05)
            yield f"http://127.0.0.1:{port_file.read_text()}"
        finally:
            process.terminate()
            process.wait(10)


if __name__ == "__main__":
    spec = load_spec(Path(sys.argv[1]))
    asyncio.run(serve(responses(spec), Path(sys.argv[2])))
