"""Bodies that do not decode: a gzip that is not one, an error body nested too deep."""

from __future__ import annotations

import pytest
from telnyx_messages import (
    APIResponseValidationError,
    NotFoundError,
)

from .support.client_kinds import ALL_CLIENTS, call_as
from .support.server import LoopbackServer, Reply


@ALL_CLIENTS
def test_a_body_that_is_not_the_gzip_it_claims_is_a_validation_error(client_kind: str, server: LoopbackServer) -> None:
    server.default = Reply(200, b'{"data": []}', {"Content-Encoding": "gzip"})
    with pytest.raises(APIResponseValidationError, match="does not decode"):
        call_as(client_kind, server.base_url)


@ALL_CLIENTS
def test_a_deeply_nested_error_body_is_still_the_status_error(client_kind: str, server: LoopbackServer) -> None:
    server.default = Reply(404, b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(NotFoundError):
        call_as(client_kind, server.base_url)
