"""Hostile servers and hostile input: every call ends in the hierarchy (or a ValueError/TypeError
before sending), within bounded time and memory, with no key and no raw control character in any
message. Each test here failed before the fix it names."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import gzip
import importlib
import json
import pickle
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest
from telnyx_messages import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncTelnyx,
    ClientClosedError,
    DefaultAioHttpClient,
    NotFoundError,
    ResponseTooLargeError,
    Telnyx,
    TelnyxError,
    webhooks,
)

from .support import API_KEY, MESSAGE_ID
from .support.server import LoopbackServer, Reply, client_for, use_client

OK_GROUP = Reply(200, {"data": []})


def _call(client_kind: str, base_url: str, **options: Any) -> Any:
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
# The hostile servers, also met through the aiohttp transport.
ALL_CLIENTS = pytest.mark.parametrize("client_kind", ["sync", "async", "aiohttp"])


class RawServer:
    """A TCP server on 127.0.0.1 that writes what `script` yields, with pauses; bounded: each
    connection ends after the script, and the server after `seconds`."""

    def __init__(self, script: Callable[[], Iterator[bytes | float]], seconds: float = 20.0) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.base_url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.script = script
        self.until = time.monotonic() + seconds
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while time.monotonic() < self.until:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            try:
                for step in self.script():
                    if time.monotonic() > self.until:
                        return
                    if isinstance(step, float):
                        time.sleep(step)
                    else:
                        connection.sendall(step)
            except OSError:
                return

    def close(self) -> None:
        self.until = 0
        self.listener.close()

    def __enter__(self) -> RawServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _drip() -> Iterator[bytes | float]:
    yield b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
    for _ in range(200):
        yield b" "
        yield 0.1


def _drip_headers() -> Iterator[bytes | float]:
    for byte in b"HTTP/1.1 200 OK\r\nX-Padding: " + b"x" * 200:
        yield bytes([byte])
        yield 0.1


# --- 2. a deadline per attempt ---------------------------------------------------------------


@pytest.mark.parametrize("script", [_drip, _drip_headers], ids=["the body", "the status line and headers"])
@ALL_CLIENTS
def test_a_server_dripping_a_byte_at_a_time_is_cut_off_at_the_timeout(
    client_kind: str, script: Callable[[], Iterator[bytes | float]]
) -> None:
    with RawServer(script) as server:
        started = time.monotonic()
        with pytest.raises(APITimeoutError) as caught:
            _call(client_kind, server.base_url, timeout=1.0)
        elapsed = time.monotonic() - started
    assert elapsed < 2.5, f"a 1 s timeout took {elapsed:.1f} s"
    # httpx's error is chained, with the request it was about (as every httpx error has one).
    assert isinstance(caught.value.__cause__, httpx2.ReadTimeout)
    assert caught.value.__cause__.request is caught.value.request
    # The socket's read timeout (what was left of the attempt) or the deadline check between reads.
    where = f"GET 127.0.0.1:{server.base_url.rsplit(':', 1)[1]}"
    assert str(caught.value) in (
        f"Request timed out (ReadTimeout) for {where}: timed out",
        f"Request timed out (ReadTimeout) for {where}: the attempt took longer than its timeout",
    )


# --- 3. a maximum response size, memory bounded ------------------------------------------------

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
        _call(client_kind, server.base_url, max_response_bytes=4096)
    assert _call(client_kind, server.base_url, max_response_bytes=8192).data == []


# --- 4, 5. bodies that do not decode -----------------------------------------------------------


@ALL_CLIENTS
def test_a_body_that_is_not_the_gzip_it_claims_is_a_validation_error(client_kind: str, server: LoopbackServer) -> None:
    server.default = Reply(200, b'{"data": []}', {"Content-Encoding": "gzip"})
    with pytest.raises(APIResponseValidationError, match="does not decode"):
        _call(client_kind, server.base_url)


@ALL_CLIENTS
def test_a_deeply_nested_error_body_is_still_the_status_error(client_kind: str, server: LoopbackServer) -> None:
    server.default = Reply(404, b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(NotFoundError):
        _call(client_kind, server.base_url)


# --- 6. a Retry-After the calendar refuses -----------------------------------------------------


@pytest.mark.parametrize(
    "retry_after",
    [
        "Mon, 30 Feb 2026 10:00:00 GMT",
        "Mon, 01 Jan 2026 25:00:00 GMT",
        "Mon, 01 Jan 10000 00:00:00 GMT",
        "Mon, 01 Jan 2026 00:00:00 +9999",
        "1 Jan 2000 00:00:00 +9999999",
        "1 Jan 20000000000 00:00:00 GMT",
    ],
)
@ALL_CLIENTS
@pytest.mark.usefixtures("quick_retry_waits")  # the wait chosen is read from the log, not waited out
def test_a_bad_retry_after_is_no_hint(
    client_kind: str, retry_after: str, server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.reply(Reply(429, {"errors": []}, {"Retry-After": retry_after}), OK_GROUP)
    assert _call(client_kind, server.base_url, max_retries=1).data == []
    assert len(server.received) == 2
    # The client's own backoff before a first retry: half a second, less up to a quarter (jitter).
    (retrying,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retrying ")]
    seconds = float(retrying.removesuffix(" s").rsplit(" in ", 1)[1])
    assert 0.37 <= seconds <= 0.5, retrying


# --- 7. errors pickle without the key --------------------------------------------------------


def _raise_not_found(base_url: str) -> None:
    with Telnyx(api_key=API_KEY, base_url=base_url, max_retries=0) as client:
        client.messages.retrieve(MESSAGE_ID)


def test_status_errors_unpickle_and_carry_no_key(server: LoopbackServer) -> None:
    server.default = Reply(404, {"errors": [{"code": "10005", "title": "Resource not found"}]}, {"x-request-id": "r1"})
    with pytest.raises(NotFoundError) as caught:
        _raise_not_found(server.base_url)
    pickled = pickle.dumps(caught.value)
    assert API_KEY.encode() not in pickled
    copy = pickle.loads(pickled)
    assert (type(copy), str(copy), copy.status_code, copy.request_id) == (
        NotFoundError,
        str(caught.value),
        404,
        "r1",
    )
    assert copy.errors == caught.value.errors and copy.request is None and copy.response is None
    assert caught.value.response is not None and caught.value.request is not None  # the original keeps both
    with concurrent.futures.ProcessPoolExecutor(1) as pool:
        error = pool.submit(_raise_not_found, server.base_url).exception(timeout=60)
    assert isinstance(error, NotFoundError) and error.status_code == 404


# --- 1, 8, 12. keys, headers and options refused before sending, without quoting the key ----------


SURROUNDED = "api_key starts or ends with white space or a line break (read from a file? strip it)"
UNPRINTABLE = "api_key holds a character that is not printable ASCII; a Telnyx key never does"


@pytest.mark.parametrize(
    ("key", "error", "message"),
    [
        (API_KEY + "\n", ValueError, SURROUNDED),
        (API_KEY + "\r\n", ValueError, SURROUNDED),
        (API_KEY + "\0", ValueError, UNPRINTABLE),
        (API_KEY + "é", ValueError, UNPRINTABLE),
        (API_KEY.encode(), TypeError, "api_key must be str, got bytes"),
        ("", TelnyxError, "No API key: pass api_key= or set the TELNYX_API_KEY environment variable."),
    ],
    ids=["LF", "CRLF", "NUL", "non-ASCII", "bytes", "empty"],
)
def test_a_key_that_cannot_be_sent_is_refused_without_quoting_it(
    key: Any, error: type[Exception], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TELNYX_API_KEY", raising=False)
    with pytest.raises(error) as caught:
        Telnyx(api_key=key)
    assert str(caught.value) == message


def test_the_cli_does_not_print_a_key_it_refuses(server: LoopbackServer) -> None:
    cli = [sys.executable, "-m", "telnyx_messages.cli", "--api-key", API_KEY + "\n", "--base-url", server.base_url]
    result = subprocess.run([*cli, "retrieve", "--id", MESSAGE_ID], capture_output=True, text=True)
    assert result.returncode != 0 and "api_key" in result.stderr
    assert API_KEY not in result.stdout + result.stderr
    assert server.received == []


_UNSENDABLE = "default_headers: the value of X-Team holds a control character or one beyond ASCII"
_SPACED = "default_headers: the value of X-Team starts or ends with white space"


@pytest.mark.parametrize(
    ("headers", "error", "message"),
    [
        ({"X-Team": "a\r\nX-Evil: 1"}, ValueError, "default_headers: the value of X-Team holds a line break or NUL"),
        ({"X-Team": 5}, TypeError, "default_headers: the value of X-Team must be str, got int"),
        ({"X-Team": "é"}, ValueError, _UNSENDABLE),
        ({"X-Team": "a\x01b"}, ValueError, _UNSENDABLE),
        ({"X-Team": "X-ray\x1b"}, ValueError, _UNSENDABLE),
        ({"X-Team": "a\x7f"}, ValueError, _UNSENDABLE),
        ({"X-Team": " a"}, ValueError, _SPACED),
        ({"X-Team": "a\t"}, ValueError, _SPACED),
        ({"X Team": "a"}, ValueError, "default_headers: 'X Team' is not a valid header name"),
        ({"": "a"}, ValueError, "default_headers: '' is not a valid header name"),
        ({b"X-Team": "a"}, ValueError, "default_headers: b'X-Team' is not a valid header name"),
    ],
)
def test_a_bad_default_header_is_refused_at_construction(headers: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        Telnyx(api_key=API_KEY, default_headers=headers)
    assert str(caught.value) == message


@pytest.mark.parametrize("value", ["caf\u00e9", "trailing ", "\tleading", "bell\x07"])
def test_a_per_call_header_http_cannot_carry_is_refused_before_sending(server: LoopbackServer, value: str) -> None:
    with (
        client_for(server) as client,
        pytest.raises(ValueError, match=r"^extra_headers: the value of X-Team ") as caught,
    ):
        client.messages.retrieve_group_messages(MESSAGE_ID, extra_headers={"X-Team": value})
    assert value not in str(caught.value)
    assert server.received == []


def test_a_header_name_may_use_every_token_character_and_a_value_any_printable_one(server: LoopbackServer) -> None:
    import string

    token = "!#$%&'*+-.^_`|~" + string.digits + string.ascii_letters  # RFC 9110's tchar
    value = "a b\tc " + "".join(c for c in string.printable if c not in string.whitespace)
    server.default = OK_GROUP
    _call("sync", server.base_url, default_headers={token: value})
    assert server.received[0].headers[token] == value


# --- 9. webhook timestamps ---------------------------------------------------------------------


@pytest.mark.parametrize("timestamp", ["9" * 400, "9" * 5000, "²", "\uff11\uff12\uff13", "-5", ""])
def test_a_malformed_webhook_timestamp_is_a_malformed_webhook(timestamp: str) -> None:
    headers = {"telnyx-timestamp": timestamp, "telnyx-signature-ed25519": "A" * 88}
    with pytest.raises(webhooks.MalformedWebhookError):
        webhooks.verify(b"{}", headers, key="A" * 43 + "=")


# --- 10. other exceptions httpx would raise ---------------------------------------------------


@CLIENTS
def test_a_call_after_close_is_a_telnyx_error(client_kind: str, server: LoopbackServer) -> None:
    server.default = OK_GROUP
    if client_kind == "sync":
        client = Telnyx(api_key=API_KEY, base_url=server.base_url)
        client.close()
        with pytest.raises(ClientClosedError, match=r"^Telnyx is closed: make a new client, or call before close\(\)$"):
            client.messages.retrieve_group_messages(MESSAGE_ID)
        return

    async def run() -> None:
        client = AsyncTelnyx(api_key=API_KEY, base_url=server.base_url)
        await client.close()
        with pytest.raises(ClientClosedError, match=r"^AsyncTelnyx is closed: make a new client"):
            await client.messages.retrieve_group_messages(MESSAGE_ID)

    asyncio.run(run())


PRINTABLE = "base_url must be a URL of printable ASCII, got "
NO_QUERY = "base_url must not have a query or fragment (the path is appended to it), got "


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("http://127.0.0.1:abc", "base_url is not a valid URL: "),
        ("http://127.0.0.1:8080/v2\t", PRINTABLE),
        ("http://127.0.0.1:8080/v2\x07", PRINTABLE),
        ("http://127.0.0.1:8080/v 2", PRINTABLE),
        ("http://127.0.0.1:8080/vé", PRINTABLE),
        ("http://127.0.0.1/v2?x=1", NO_QUERY),
        ("http://127.0.0.1/v2#top", NO_QUERY),
        ("http://127.0.0.1/v2?", NO_QUERY),
        ("http://127.0.0.1/v2#", NO_QUERY),
    ],
)
def test_a_base_url_httpx_would_refuse_later_is_refused_now(base_url: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        Telnyx(api_key=API_KEY, base_url=base_url)
    assert str(caught.value).startswith(message)


def test_a_base_url_that_is_no_str_is_a_type_error_and_only_slashes_are_trimmed() -> None:
    with pytest.raises(TypeError, match=r"^base_url must be str, got bytes$"):
        Telnyx(api_key=API_KEY, base_url=b"http://127.0.0.1/v2")  # type: ignore[arg-type]
    assert Telnyx(api_key=API_KEY, base_url="http://127.0.0.1/apiX//").base_url == "http://127.0.0.1/apiX"


@CLIENTS
def test_a_redirect_loop_through_a_callers_client_ends_in_the_hierarchy(
    client_kind: str, server: LoopbackServer
) -> None:
    server.default = Reply(307, b"", {"Location": f"{server.base_url}/messages/group/{MESSAGE_ID}"})
    if client_kind == "sync":
        with httpx2.Client(follow_redirects=True) as http, pytest.raises(APIConnectionError, match="TooManyRedirects"):
            Telnyx(api_key=API_KEY, base_url=server.base_url, http_client=http).messages.retrieve_group_messages(
                MESSAGE_ID
            )
        return

    async def run() -> None:
        async with httpx2.AsyncClient(follow_redirects=True) as http:
            client = AsyncTelnyx(api_key=API_KEY, base_url=server.base_url, http_client=http)
            with pytest.raises(APIConnectionError, match="TooManyRedirects"):
                await client.messages.retrieve_group_messages(MESSAGE_ID)

    asyncio.run(run())


# --- 11. text from the server, escaped -----------------------------------------------------------

EVIL = "\x1b[2J\x1b[31mpwned\nINFO telnyx_messages: forged line\r\x07"


@pytest.mark.parametrize(
    "reply",
    [
        Reply(404, {"errors": [{"code": "1", "title": EVIL, "detail": EVIL}]}),
        Reply(500, {"title": EVIL, "detail": EVIL}),
        Reply(502, EVIL.encode()),
        Reply(200, {"data": [{"received_at": EVIL}]}),
    ],
    ids=["Telnyx error", "RFC 7807", "plain text", "unparsable success"],
)
@CLIENTS
def test_control_characters_from_the_server_are_escaped(client_kind: str, reply: Reply, server: LoopbackServer) -> None:
    server.default = reply
    with pytest.raises(TelnyxError) as caught:
        _call(client_kind, server.base_url)
    text = str(caught.value)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text), repr(text)
    assert "\\x1b[2J" in text


def test_json_is_what_the_client_sends(server: LoopbackServer) -> None:
    # The escaping is of messages only: what the server sent is kept as sent.
    server.default = Reply(404, {"errors": [{"code": "1", "title": EVIL}]})
    with pytest.raises(NotFoundError) as caught:
        _call("sync", server.base_url)
    assert caught.value.errors[0].title == EVIL
    assert json.loads(caught.value.response.content)["errors"][0]["title"] == EVIL  # type: ignore[union-attr]


# --- HTTPS: the sync client's deadline-bounded streams carry TLS -------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (certificate file, key file), made by openssl."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"]
    subprocess.run(
        ["openssl", *request, "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
        check=True,
        capture_output=True,
    )
    return cert, key


@CLIENTS
def test_a_call_over_https_verifies_the_server_and_succeeds(
    client_kind: str, certificate: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import ssl

    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(*certificate)
    server = LoopbackServer(tls=tls)
    try:
        server.default = OK_GROUP
        # Without trusting the certificate the handshake is refused, naming why.
        with pytest.raises(APIConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
            _call(client_kind, server.base_url)
        monkeypatch.setenv("SSL_CERT_FILE", certificate[0])  # httpx's trust store for new clients
        assert _call(client_kind, server.base_url).data == []
        assert [r.path for r in server.received] == [f"/messages/group/{MESSAGE_ID}"]
    finally:
        server.close()


@CLIENTS
def test_a_tls_handshake_that_never_ends_is_cut_off_at_the_timeout(client_kind: str) -> None:
    with RawServer(lambda: iter([5.0]), seconds=8) as server:  # accepts, reads the ClientHello, says nothing
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            # The connect timeout bounds the handshake, though the attempt has 5 s.
            _call(client_kind, server.base_url.replace("http://", "https://"), timeout=httpx2.Timeout(5.0, connect=0.3))
        assert time.monotonic() - started < 2.5


# --- the sync client's own transport: what reaches the socket ------------------------------------


@CLIENTS
def test_a_per_read_timeout_shorter_than_the_attempt_still_bounds_each_read(
    client_kind: str, server: LoopbackServer
) -> None:
    server.default = Reply(200, {"data": []}, delay=2.0)
    started = time.monotonic()
    with pytest.raises(APITimeoutError) as caught:
        _call(client_kind, server.base_url, timeout=httpx2.Timeout(5.0, read=0.3))
    assert time.monotonic() - started < 1.5
    where = f"GET 127.0.0.1:{server.base_url.rsplit(':', 1)[1]}"
    assert str(caught.value) in (
        f"Request timed out (ReadTimeout) for {where}: timed out",
        f"Request timed out (ReadTimeout) for {where}",
    )
    assert caught.value.request is not None and caught.value.request.url.path == f"/messages/group/{MESSAGE_ID}"


@CLIENTS
def test_no_timeout_for_some_phases_still_works(client_kind: str, server: LoopbackServer) -> None:
    server.default = OK_GROUP
    assert _call(client_kind, server.base_url, timeout=httpx2.Timeout(None, read=2.0)).data == []
    assert _call(client_kind, server.base_url, timeout=None).data == []


@CLIENTS
def test_the_host_named_in_the_base_url_is_the_one_reached(client_kind: str) -> None:
    elsewhere = LoopbackServer(host="127.0.0.2")  # not 127.0.0.1, where a default address would land
    try:
        elsewhere.default = OK_GROUP
        assert _call(client_kind, elsewhere.base_url).data == []
        assert len(elsewhere.received) == 1
    finally:
        elsewhere.close()


@CLIENTS
def test_a_connect_that_hangs_ends_at_the_connect_timeout(client_kind: str) -> None:
    listener = socket.create_server(("127.0.0.1", 0), backlog=0)  # never accepts: its queue fills
    port = listener.getsockname()[1]
    queued = []
    for _ in range(3):
        waiting = socket.socket()
        waiting.setblocking(False)
        waiting.connect_ex(("127.0.0.1", port))  # in progress: it only fills the queue
        queued.append(waiting)
    try:
        started = time.monotonic()
        with pytest.raises(APITimeoutError) as caught:
            _call(client_kind, f"http://127.0.0.1:{port}", timeout=httpx2.Timeout(5.0, connect=0.3))
        assert time.monotonic() - started < 2.0
        assert str(caught.value).startswith(f"Request timed out (ConnectTimeout) for GET 127.0.0.1:{port}")
    finally:
        for waiting in queued:
            waiting.close()
        listener.close()


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


@CLIENTS
def test_the_clients_own_http_client_follows_no_redirect(client_kind: str, server: LoopbackServer) -> None:
    other = LoopbackServer()
    server.default = Reply(307, b"", {"Location": f"{other.base_url}/messages"})
    client_class = Telnyx if client_kind == "sync" else AsyncTelnyx
    try:
        with pytest.raises(APIStatusError) as caught:
            use_client(client_class, server.base_url, lambda m: m.send(to="+13125550002", text="hi"))
        assert caught.value.status_code == 307 and other.received == [] and len(server.received) == 1
    finally:
        other.close()


# --- AsyncTelnyx under trio: anyio's cancel scope bounds the attempt -------------------------------


def test_async_telnyx_runs_under_trio_and_its_attempts_end_at_the_timeout(server: LoopbackServer) -> None:
    import anyio

    server.reply(Reply(503, b"", {"retry-after-ms": "50"}), OK_GROUP)

    async def main(dripping: RawServer) -> float:
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url, max_retries=1) as client:
            assert (await client.messages.retrieve_group_messages(MESSAGE_ID)).data == []  # after a retry
        async with AsyncTelnyx(api_key=API_KEY, base_url=dripping.base_url, max_retries=0, timeout=1.0) as client:
            started = time.monotonic()
            with pytest.raises(APITimeoutError):
                await client.messages.retrieve_group_messages(MESSAGE_ID)
            return time.monotonic() - started

    with RawServer(_drip_headers) as dripping:
        elapsed = anyio.run(main, dripping, backend="trio")
    assert 0.9 < elapsed < 2.5 and len(server.received) == 2


@ALL_CLIENTS
def test_a_refused_connection_names_where_its_cause_and_request(client_kind: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    with pytest.raises(APIConnectionError) as caught:
        _call(client_kind, f"http://127.0.0.1:{port}")
    assert type(caught.value) is APIConnectionError
    prefix = f"Connection error (ConnectError) for GET 127.0.0.1:{port}: "
    assert str(caught.value).startswith(prefix) and len(str(caught.value)) > len(prefix) + 5
    assert isinstance(caught.value.__cause__, httpx2.ConnectError) and API_KEY not in str(caught.value)
    assert caught.value.request is not None and caught.value.request.url.port == port


@CLIENTS
def test_the_size_limit_counts_the_body_as_decoded_and_is_inclusive(client_kind: str, server: LoopbackServer) -> None:
    body = b'{"data": []}'  # 12 bytes
    server.default = Reply(200, body)
    assert _call(client_kind, server.base_url, max_response_bytes=12).data == []
    with pytest.raises(ResponseTooLargeError) as caught:
        _call(client_kind, server.base_url, max_response_bytes=11)
    assert "is over the client's max_response_bytes (11); not read further" in str(caught.value)
    # Compressed, the declared length is not the decoded size: 32 bytes on the wire, 12 decoded.
    server.default = Reply(200, gzip.compress(body), {"Content-Encoding": "gzip"})
    assert _call(client_kind, server.base_url, max_response_bytes=20).data == []


def _declares_more_than_it_sends() -> Iterator[bytes | float]:
    yield b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"
    for _ in range(200):
        yield 0.1


@CLIENTS
def test_a_declared_length_over_the_limit_is_refused_before_any_body_is_awaited(client_kind: str) -> None:
    with RawServer(_declares_more_than_it_sends) as server:
        started = time.monotonic()
        with pytest.raises(ResponseTooLargeError, match=r"max_response_bytes \(4096\)"):
            _call(client_kind, server.base_url, max_response_bytes=4096, timeout=3.0)
        assert time.monotonic() - started < 1.5  # not read until the body's timeout


@CLIENTS
@pytest.mark.parametrize("library", ["httpx2", "httpx"])
def test_a_dripped_body_through_a_callers_http_client_ends_at_the_timeout(client_kind: str, library: str) -> None:
    """A caller's httpx2 or legacy httpx client has a plain transport: the deadline is checked between chunks."""
    module: Any = importlib.import_module(library)
    http_client = module.Client() if client_kind == "sync" else module.AsyncClient()
    with RawServer(_drip) as server:
        started = time.monotonic()
        with pytest.raises(
            APITimeoutError,
            match=r"^Request timed out \(ReadTimeout\) for GET 127\.0\.0\.1:\d+: "
            r"the attempt took longer than its timeout$",
        ) as caught:
            _call(client_kind, server.base_url, timeout=1.0, http_client=http_client)
        assert time.monotonic() - started < 2.5
        assert isinstance(caught.value.__cause__, httpx2.ReadTimeout)
        assert caught.value.__cause__.request is caught.value.request


def test_each_write_is_bounded_by_what_is_left_of_the_attempt() -> None:
    """Unit: a request body larger than the socket buffers blocks in write, which no loopback test
    can make happen (the client sends at most 1 MB and Linux buffers more); a write with no timeout
    of its own gets what is left of the attempt."""
    import httpcore2
    from telnyx_messages import _deadline

    timeouts: list[float | None] = []

    class Recording(httpcore2.NetworkStream):
        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            timeouts.append(timeout)

    stream = _deadline._Stream(Recording())
    with _deadline.attempt_deadline(time.monotonic() + 60):
        stream.write(b"x", None)
        stream.write(b"x", 2.0)
    stream.write(b"x", 3.0)
    first, second, third = timeouts
    assert first is not None and 59 < first <= 60
    assert (second, third) == (2.0, 3.0)


def test_a_read_that_would_start_after_the_deadline_is_refused() -> None:
    """Unit: a deadline already passed is a timeout, not a negative socket timeout (a ValueError)."""
    import httpcore2
    from telnyx_messages import _deadline

    with _deadline.attempt_deadline(time.monotonic() - 0.001), pytest.raises(httpcore2.ReadTimeout) as caught:
        _deadline._bounded(5.0)
    assert str(caught.value) == "the attempt took longer than its timeout"  # what APITimeoutError says after its name
    with _deadline.attempt_deadline(time.monotonic() + 60):
        assert _deadline._bounded(5.0) == 5.0
        assert 59 < (_deadline._bounded(None) or 0) <= 60
    assert _deadline._bounded(5.0) == 5.0  # no attempt running: the read's own timeout


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
            _call(client_kind, server.base_url, max_response_bytes=4096, timeout=5.0)
        assert time.monotonic() - started < 3.0  # at the fifth chunk, not after the stall
        assert caught.value.status_code == 200


def test_an_operation_whose_answer_the_spec_gives_no_model_returns_the_document() -> None:
    """Unit: a later spec may answer an operation with no schema; the generated Operation then has
    no result model, and the client returns the decoded JSON as it is."""
    from telnyx_messages_api.types import Operation

    operation: Operation[Any] = Operation("Untyped", "GET", "/untyped", (), (), (), (), False, None, None)  # type: ignore[arg-type]
    response = httpx2.Response(200, content=b'{"data": {"n": 1}}', request=httpx2.Request("GET", "http://127.0.0.1/"))
    assert Telnyx._parse(operation, response) == {"data": {"n": 1}}


@pytest.mark.parametrize("limit", [0, -1, "4096", 4096.0, None])
def test_max_response_bytes_must_be_a_positive_int(limit: Any) -> None:
    with pytest.raises(ValueError) as caught:
        Telnyx(api_key=API_KEY, max_response_bytes=limit)
    assert str(caught.value) == f"max_response_bytes must be a positive int, got {limit!r}"


def test_the_smallest_size_limit_is_one_byte(server: LoopbackServer) -> None:
    server.default = Reply(200, b"1")
    with pytest.raises(APIResponseValidationError, match="does not parse"):  # read whole (1 byte), then parsed
        _call("sync", server.base_url, max_response_bytes=1)


@CLIENTS
def test_every_request_says_what_it_accepts_and_who_sends_it(client_kind: str, server: LoopbackServer) -> None:
    server.default = OK_GROUP
    _call(client_kind, server.base_url)
    headers = server.received[0].headers
    assert (headers["Accept"], headers["User-Agent"]) == ("application/json", "telnyx-messages-python")
