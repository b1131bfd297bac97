"""The webhook receiver (`telnyx_messages.receiver`): how many events a second it records, as its ASGI
app under uvicorn (one worker, in a process of its own), beside a bare ASGI app under the same uvicorn
that reads each body and answers 200; the same signed events posted to each, turns interleaved.

  python bench/receiver.py [--events N] [--turns T] [--connections C]

N events (5,000) are made and signed once by telnyx_messages.testing's fake (message.sent and
message.finalized updates of N/2 messages); each turn posts all of them over C keep-alive connections
(64) at once to a fresh server (the receiver with a fresh SQLite store, synchronous=FULL), and the
receiver's turns check that each event was recorded once. Prints each turn's events/s, the medians,
and the receiver/bare ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

PATH = "/webhooks/telnyx"


# --- the servers (this file run with --serve) ---------------------------------------------------


async def bare(scope: Any, receive: Any, send: Any) -> None:
    """Reads the body, answers 200: uvicorn's own cost per request."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def serve(kind: str, store: str | None) -> None:
    import uvicorn
    from telnyx_messages.receiver import ASGIReceiver, Receiver

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    app: Any = bare if kind == "bare" else ASGIReceiver(Receiver(str(store)), path=PATH)
    print(json.dumps({"port": sock.getsockname()[1]}), flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", backlog=1024)
    uvicorn.Server(config).run(sockets=[sock])


# --- the load ---------------------------------------------------------------------------------


def make_events(count: int) -> tuple[list[bytes], str]:
    """`count` signed events as raw HTTP requests, and the key they verify with."""
    from telnyx_messages.testing import FakeTelnyx

    fake = FakeTelnyx()
    sent = fake.client().messages.send(to="+13125550002", from_="+18445550001", text="Your order shipped")
    assert sent.data is not None
    base = sent.data.to_dict(mode="json")
    requests = []
    for number in range(count):
        message_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-{number // 2}"))
        event_type, status = ("message.sent", "sent") if number % 2 == 0 else ("message.finalized", "delivered")
        document = {**base, "id": message_id, "to": [{"phone_number": f"+1312{number // 2:07d}", "status": status}]}
        body, headers = fake.webhook(event_type, document)
        head = f"POST {PATH} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: {len(body)}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        requests.append(head.encode() + b"\r\n" + body)
    return requests, fake.public_key


async def _connection(port: int, requests: list[bytes], statuses: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for request in requests:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            statuses.append(status)
    finally:
        writer.close()
        await writer.wait_closed()


async def _post(port: int, requests: list[bytes], connections: int) -> tuple[float, list[int]]:
    statuses: list[int] = []
    shares = [requests[n::connections] for n in range(connections)]
    started = time.perf_counter()
    await asyncio.gather(*(_connection(port, share, statuses) for share in shares))
    return time.perf_counter() - started, statuses


def turn(kind: str, requests: list[bytes], key: str, connections: int, folder: Path) -> float:
    """One turn: a fresh server of `kind`, every request posted; events a second."""
    store = folder / f"{uuid.uuid4().hex}.db"
    command = [sys.executable, __file__, "--serve", kind, str(store)]
    env = {**os.environ, "TELNYX_PUBLIC_KEY": key}
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        port = json.loads(child.stdout.readline())["port"]
        seconds, statuses = asyncio.run(_post(port, requests, connections))
    finally:
        child.terminate()
        child.wait(30)
        if child.stdout is not None:
            child.stdout.close()
    assert statuses == [200] * len(requests), sorted(set(statuses))
    if kind == "receiver":
        with sqlite3.connect(store) as db:
            recorded = db.execute("SELECT count(*), count(DISTINCT event_id) FROM events").fetchone()
        assert recorded == (len(requests), len(requests)), recorded
    return len(requests) / seconds


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    requests, key = make_events(args.events)
    rates: dict[str, list[float]] = {"bare": [], "receiver": []}
    with tempfile.TemporaryDirectory() as folder:
        for number in range(args.turns):
            for kind in ("bare", "receiver"):
                rate = turn(kind, requests, key, args.connections, Path(folder))
                rates[kind].append(rate)
                print(f"turn {number + 1} {kind:8} {rate:8.0f} events/s", flush=True)
    bare_rate, receiver_rate = (statistics.median(rates[kind]) for kind in ("bare", "receiver"))
    print(
        f"receiver (ASGI, uvicorn, 1 worker, SQLite synchronous=FULL): {receiver_rate:.0f} events/s recorded; "
        f"bare uvicorn app answering 200: {bare_rate:.0f} requests/s; ratio {receiver_rate / bare_rate:.2f}"
    )


if __name__ == "__main__":
    main()
