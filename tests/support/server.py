"""A real HTTP/1.1 server on 127.0.0.1 that answers from a script and records what it received."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs
from telnyx_messages import AsyncTelnyx, Telnyx

from . import API_KEY


@attrs.define
class Reply:
    status: int = 200
    body: bytes | Any = b""
    headers: dict[str, str] = attrs.field(factory=dict)
    delay: float = 0.0
    # "reset" closes the connection without an answer; "truncate" sends half the body, then closes.
    action: str | None = None

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


@attrs.define
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    # The status the server answered with (None until it answers).
    status: int | None = None

    def json(self) -> Any:
        return json.loads(self.body)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up mid-request (on purpose, in the fault tests): not the test's output


class LoopbackServer:
    """A real HTTP/1.1 server on 127.0.0.1: answers from a script, records what it received."""

    def __init__(self, tls: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> None:
        self.replies: list[Reply] = []
        self.default: Reply | Callable[[Received], Reply] = Reply(404, {"errors": []})
        self.received: list[Received] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received = Received(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
                with server._lock:
                    server.received.append(received)
                    reply = server.replies.pop(0) if server.replies else server.default
                if callable(reply):
                    reply = reply(received)
                received.status = reply.status
                if reply.delay:
                    threading.Event().wait(reply.delay)
                if reply.action == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.connection.close()
                    self.close_connection = True
                    return
                payload = reply.payload()
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", **reply.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if reply.action == "truncate":
                    self.wfile.write(payload[: len(payload) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = _handle

        self.httpd = _QuietServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        self.base_url = f"{scheme}://{host}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    def reply(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def accepted_messages(self) -> int:
        """Message-creating POSTs that reached the server and were not refused with a 429."""
        return sum(1 for r in self.received if r.method == "POST" and r.status != 429)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def client_for(server: LoopbackServer, client_class: type[Telnyx] = Telnyx, **options: Any) -> Telnyx:
    return client_class(api_key=API_KEY, base_url=server.base_url, **options)


def async_client_for(server: LoopbackServer, **options: Any) -> AsyncTelnyx:
    return AsyncTelnyx(api_key=API_KEY, base_url=server.base_url, **options)


def use_client(client_class: type[Telnyx] | type[AsyncTelnyx], base_url: str, call: Any, **options: Any) -> Any:
    """call(client.messages) on a new client of client_class (awaited, on AsyncTelnyx), closed after."""
    options = {"api_key": API_KEY, "base_url": base_url, **options}
    if client_class is Telnyx:
        with Telnyx(**options) as client:
            return call(client.messages)

    async def run() -> Any:
        async with AsyncTelnyx(**options) as client:
            return await call(client.messages)

    return asyncio.run(run())
