"""A Retry-After the calendar refuses is no hint: the client waits as it would without one."""

from __future__ import annotations

import pytest

from .support.client_kinds import ALL_CLIENTS, OK_GROUP, call_as
from .support.server import LoopbackServer, Reply


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
    assert call_as(client_kind, server.base_url, max_retries=1).data == []
    assert len(server.received) == 2
    # The client's own backoff before a first retry: half a second, less up to a quarter (jitter).
    (retrying,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retrying ")]
    seconds = float(retrying.removesuffix(" s").rsplit(" in ", 1)[1])
    assert 0.37 <= seconds <= 0.5, retrying
