"""Shared test fixtures: the pinned spec, a real loopback HTTP server, and Prism."""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
# Another spec version can be put under the same tests (tests/test_spec_changes.py does).
SPEC_PATH = Path(os.environ.get("TELNYX_MESSAGES_TEST_SPEC") or ROOT / "openapi" / "messages.yml")
API_KEY = "KEY-tests-0123456789-SECRET"


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    return dict(yaml.safe_load(SPEC_PATH.read_bytes()))


def schema_example(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(spec["components"]["schemas"][name]["example"])


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


class LoopbackServer:
    """A real HTTP/1.1 server on 127.0.0.1: answers from a script, records what it received."""

    def __init__(self) -> None:
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

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
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


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer()
    yield srv
    srv.close()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TELNYX_API_KEY", "TELNYX_BASE_URL", "TELNYX_LOG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _no_key_in_any_log(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every test runs with every logger at DEBUG; none may ever have written the API key."""
    caplog.set_level(logging.DEBUG)
    yield
    assert API_KEY not in caplog.text, "the API key reached a log record"


FAULT_TABLE: list[tuple[str, ...]] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FAULT_TABLE:
        return
    header = ("fault", "kind", "outcome", "attempts", "accepted")
    rows = [header, *sorted(FAULT_TABLE)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    terminalreporter.section("fault injection: fault x operation kind -> outcome")
    for row in rows:
        terminalreporter.write_line("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


@pytest.fixture(scope="session")
def prism() -> Iterator[str]:
    from prism import running_prism

    with running_prism(SPEC_PATH) as base_url:
        yield base_url


sys.path.insert(0, str(ROOT / "tools"))


def normalised(document: Any) -> Any:
    """A JSON document with its date-time strings as datetimes, to compare round-trips by meaning."""
    import datetime
    import re

    if isinstance(document, dict):
        return {k: normalised(v) for k, v in document.items()}
    if isinstance(document, list):
        return [normalised(v) for v in document]
    if isinstance(document, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)?", document):
        return datetime.datetime.fromisoformat(document)
    return document


def generate(spec: Path, into: Path) -> Path:
    """Generate the client from `spec` into `into`, as `make generate` does; return the package."""
    import subprocess

    out = into / "telnyx_messages_api"
    bin_dir = Path(sys.executable).parent
    command = [str(bin_dir / "openapi-python-client"), "generate", "--path", str(spec)]
    command += ["--config", "generator-config.yaml", "--custom-template-path", "templates"]
    command += ["--meta", "none", "--output-path", str(out)]
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    return out
