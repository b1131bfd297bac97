"""A campaign in a process of its own, for the tests that kill or interrupt it:
`python -m tests.support.campaign_child BASE_URL JOURNAL ROWS [RATE [BACKOFF]]` sends ROWS rows (ids
r-0, r-1, ...; texts t0, t1, ...) through a campaign journaled in JOURNAL at RATE messages a second
(default 200), with the API key from TELNYX_API_KEY, by Campaign.run_sync (so Ctrl-C stops it as users
get it), and prints the Report's counts and its stop's reason as JSON. BACKOFF: the first wait before
a row's next attempt after a failure, in seconds (default the engine's own, 0.5 doubling), for tests
whose failures are not about how long the engine waits.

JOURNAL may be a postgresql:// URL: then the campaign is the one named by CAMPAIGN_NAME (default
"child"), and CAMPAIGN_LEASE (seconds), CAMPAIGN_WINDOW and CAMPAIGN_IN_FLIGHT, where set, give the
senders' lease, the rows read ahead and the requests at once (several such children share the
campaign's rows and rate)."""

from __future__ import annotations

import json
import math
import os
import sys

from telnyx_messages import Telnyx, _journals, campaign
from telnyx_messages.campaign import Campaign


def main() -> None:
    base_url, journal, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rate = float(sys.argv[4]) if len(sys.argv) > 4 else 200.0
    if len(sys.argv) > 5:
        campaign._BACKOFF_FIRST = float(sys.argv[5])
    name = os.environ.get("CAMPAIGN_NAME", "child") if journal.startswith("postgres") else None
    if "CAMPAIGN_LEASE" in os.environ:
        _journals.LEASE = float(os.environ["CAMPAIGN_LEASE"])
    window = int(os.environ.get("CAMPAIGN_WINDOW", campaign.DEFAULT_WINDOW))
    in_flight = int(os.environ.get("CAMPAIGN_IN_FLIGHT", "16"))
    rows = ({"id": f"r-{n}", "to": f"+1312{n:07d}", "text": f"t{n}"} for n in range(count))
    with Telnyx(base_url=base_url, timeout=5.0) as client:
        report = Campaign(
            client, rows, journal, name=name, rate=rate, sender_rate=math.inf, window=window, max_in_flight=in_flight
        ).run_sync()
    counts: dict[str, object] = {
        field: getattr(report, field) for field in ("rows", "accepted", "pending", "failed", "unknown")
    }
    counts["stop"] = None if report.stop is None else report.stop.reason
    if name is not None:
        counts["sent"] = report.sent
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    main()
