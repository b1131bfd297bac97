"""A loopback server that keeps Idempotency-Key as Telnyx's API edge does, and fails on command
*after* it has accepted a message: the failures that leave a caller not knowing whether it went out.

What it does with a key (upstream's `IdempotencyKey` parameter, components.parameters of its
2026-07-16 document): a key that is not 1 to 255 of [A-Za-z0-9_-] gets 400 with error code 10015;
a key seen with another request (method, path, body) gets 422; a key whose first request is still
being handled gets 409; a key whose request succeeded gets that response again, with
`Idempotent-Replayed: true`, and the message is not accepted again. Only successes are stored.

The faults, drawn per accepted message at `fail_rate` (seeded): "drop" (the connection closed
before any answer), "500" (an error answer) and "stall" (no answer until after the client's
timeout). In each, the edge has stored the success first, so a retry with the same key is
answered from it; a request without a key is a new message each time it arrives.
"""

from __future__ import annotations

import collections
import json
import random
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from .server import _QuietServer

__all__ = ["EdgeServer"]

KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,255}").fullmatch
FAULTS = ("drop", "500", "stall")


def _error(code: str, title: str, detail: str) -> bytes:
    return json.dumps({"errors": [{"code": code, "title": title, "detail": detail}]}).encode()


class _Stored:
    """What the edge keeps for a key: the request it came with, and once it succeeded, the answer."""

    def __init__(self, fingerprint: tuple[str, str, bytes]) -> None:
        self.fingerprint = fingerprint
        self.response: bytes | None = None  # None while the first request is in progress


class EdgeServer:
    def __init__(
        self,
        *,
        fail_rate: float = 0.0,
        faults: tuple[str, ...] = FAULTS,
        stall_seconds: float = 1.5,
        seed: int = 42,
        message: dict[str, Any] | None = None,
    ) -> None:
        self.fail_rate = fail_rate
        self.faults = faults
        self.stall_seconds = stall_seconds
        self._random = random.Random(seed)
        self._message = message or {"id": "00000000-0000-4000-8000-000000000000", "type": "SMS"}
        self._lock = threading.Lock()
        self._keys: dict[str, _Stored] = {}
        # Per message text (the tests give each call its own): how many times it was accepted.
        self.accepted: collections.Counter[str] = collections.Counter()
        self.statuses: collections.Counter[str] = collections.Counter()  # "200", "409", "replay", "fault drop", ...
        self.requests = 0
        edge = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if len(body) < length:  # the client gave up while sending: an incomplete request is no request
                    self.close_connection = True
                    return
                edge._handle(self, body)

            do_GET = do_DELETE = do_POST

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)  # quiet about clients that hang up
        self.httpd.daemon_threads = True
        self.httpd.request_queue_size = 1024
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    def _count(self, what: str) -> None:
        with self._lock:
            self.statuses[what] += 1

    def _handle(self, handler: Any, body: bytes) -> None:
        with self._lock:
            self.requests += 1
        key = handler.headers.get("Idempotency-Key")
        fingerprint = (handler.command, handler.path, body)
        stored = None
        if key is not None:
            if not KEY_PATTERN(key):
                self._count("400")
                detail = "The Idempotency-Key header must be 1 to 255 letters, numbers, hyphens or underscores."
                return handler._answer(400, _error("10015", "Invalid Idempotency-Key", detail))
            with self._lock:
                stored = self._keys.get(key)
                if stored is None:
                    stored = self._keys[key] = _Stored(fingerprint)
                    first = True
                else:
                    first = False
            if not first:
                if stored.fingerprint != fingerprint:
                    self._count("422")
                    detail = "This Idempotency-Key was used with a different request."
                    return handler._answer(422, _error("10016", "Idempotency-Key reused", detail))
                if stored.response is None:
                    self._count("409")
                    detail = "A request with this Idempotency-Key is in progress."
                    return handler._answer(409, _error("10017", "Request in progress", detail))
                self._count("replay")
                return handler._answer(200, stored.response, {"Idempotent-Replayed": "true"})
        response = self._accept(body)
        with self._lock:
            fault = self._random.choice(self.faults) if self._random.random() < self.fail_rate else None
        if fault == "stall":
            time.sleep(self.stall_seconds)  # the client has given up by now; the edge finishes all the same
        if stored is not None:
            stored.response = response  # stored before any fault: the message went out
        if fault is None:
            self._count("200")
            return handler._answer(200, response)
        self._count(f"fault {fault}")
        if fault == "500":
            return handler._answer(500, _error("10000", "Internal error", "The edge failed after accepting."))
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        handler.connection.close()
        handler.close_connection = True
        return None

    def _accept(self, body: bytes) -> bytes:
        """The message counted as sent, and the answer for it."""
        try:
            text = str(json.loads(body).get("text"))
        except (ValueError, AttributeError):
            text = ""
        with self._lock:
            self.accepted[text] += 1
        return json.dumps({"data": {**self._message, "text": text}}).encode()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> EdgeServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
