"""HTTPS: the server verified, and a TLS handshake that never ends cut off at the timeout."""

from __future__ import annotations

import subprocess
import time

import httpx2
import pytest
from telnyx_messages import (
    APIConnectionError,
    APITimeoutError,
)

from .support import MESSAGE_ID
from .support.client_kinds import CLIENTS, OK_GROUP, call_as
from .support.raw_server import RawServer
from .support.server import LoopbackServer


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
            call_as(client_kind, server.base_url)
        monkeypatch.setenv("SSL_CERT_FILE", certificate[0])  # httpx's trust store for new clients
        assert call_as(client_kind, server.base_url).data == []
        assert [r.path for r in server.received] == [f"/messages/group/{MESSAGE_ID}"]
    finally:
        server.close()


@CLIENTS
def test_a_tls_handshake_that_never_ends_is_cut_off_at_the_timeout(client_kind: str) -> None:
    with RawServer(lambda: iter([5.0]), seconds=8) as server:  # accepts, reads the ClientHello, says nothing
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            # The connect timeout bounds the handshake, though the attempt has 5 s.
            call_as(
                client_kind, server.base_url.replace("http://", "https://"), timeout=httpx2.Timeout(5.0, connect=0.3)
            )
        assert time.monotonic() - started < 2.5
