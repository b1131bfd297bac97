"""Real servers on 127.0.0.1 in a thread of the test's process, for apps the test builds itself (a
receiver with a callback of the test's, a framework's app): waitress for WSGI, uvicorn for ASGI."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import uvicorn
from waitress.server import create_server


def _socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@contextmanager
def wsgi_serving(app: Any, *, threads: int = 8) -> Iterator[int]:
    """`app` under waitress until the block ends; its port."""
    sock = _socket()
    server = create_server(app, sockets=[sock], threads=threads)
    closing = threading.Event()

    def run() -> None:
        try:
            server.run()
        except (OSError, ValueError):  # its sockets closed under its loop, as the block ends
            if not closing.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        closing.set()
        server.close()
        thread.join(10)


@contextmanager
def asgi_serving(app: Any, *, lifespan: Literal["on", "off"] = "off", root_path: str = "") -> Iterator[int]:
    """`app` under uvicorn until the block ends (its lifespan messages sent if `lifespan` is "on");
    its port."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        # Handed over in a function of three arguments: uvicorn calls an app with none to tell a
        # factory, and under mutmut ASGIReceiver.__call__ is a trampoline that takes none.
        await app(scope, receive, send)

    sock = _socket()
    server = uvicorn.Server(
        uvicorn.Config(
            asgi, log_level="warning", access_log=False, lifespan=lifespan, interface="asgi3", root_path=root_path
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "uvicorn did not start"
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
