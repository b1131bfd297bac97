"""HTTPS: the server verified, and a TLS handshake that never ends cut off at the timeout."""

from __future__ import annotations

import ssl
import subprocess
import time
from pathlib import Path

import httpx2
import pytest
from telnyx_messages import (
    APIConnectionError,
    APITimeoutError,
    AsyncTelnyx,
    Telnyx,
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


def _certificate_store(client: Telnyx | AsyncTelnyx) -> ssl.SSLContext:
    context = client._http._transport._pool._ssl_context  # type: ignore[union-attr]
    assert isinstance(context, ssl.SSLContext)
    return context


def test_clients_share_the_certificates_loaded_once_for_each_setting_of_ssl_cert_file(
    certificate: tuple[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    clients = [Telnyx(api_key="k"), AsyncTelnyx(api_key="k"), Telnyx(api_key="k").with_options(max_retries=1)]
    system = {id(_certificate_store(client)) for client in clients}
    assert len(system) == 1
    monkeypatch.setenv("SSL_CERT_FILE", certificate[0])
    trusting = [_certificate_store(Telnyx(api_key="k")), _certificate_store(AsyncTelnyx(api_key="k"))]
    assert trusting[0] is trusting[1] and id(trusting[0]) not in system
    assert [dict(c["subject"][0])["commonName"] for c in trusting[0].get_ca_certs()] == ["127.0.0.1"]
    monkeypatch.delenv("SSL_CERT_FILE")
    assert {id(_certificate_store(Telnyx(api_key="k")))} == system
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))  # a folder of certificates: another store again
    from_folder = _certificate_store(AsyncTelnyx(api_key="k"))
    assert id(from_folder) not in system and from_folder is not trusting[0]
    assert from_folder is _certificate_store(Telnyx(api_key="k"))


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
