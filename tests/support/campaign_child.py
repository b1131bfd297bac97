"""A campaign in a process of its own, for the tests that kill or interrupt it:
`python -m tests.support.campaign_child BASE_URL JOURNAL ROWS [RATE [BACKOFF]]` sends ROWS rows (ids
r-0, r-1, ...; texts t0, t1, ...) through a campaign journaled in JOURNAL at RATE messages a second
(default 200), with the API key from TELNYX_API_KEY, by Campaign.run_sync (so Ctrl-C stops it as users
get it), and prints the Report's counts and its stop's reason as JSON. BACKOFF: the first wait before
a row's next attempt after a failure, in seconds (default the engine's own, 0.5 doubling), for tests
whose failures are not about how long the engine waits."""

from __future__ import annotations

import json
import math
import sys

from telnyx_messages import Telnyx, campaign
from telnyx_messages.campaign import Campaign


def main() -> None:
    base_url, journal, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rate = float(sys.argv[4]) if len(sys.argv) > 4 else 200.0
    if len(sys.argv) > 5:
        campaign._BACKOFF_FIRST = float(sys.argv[5])
    rows = ({"id": f"r-{n}", "to": f"+1312{n:07d}", "text": f"t{n}"} for n in range(count))
    with Telnyx(base_url=base_url, timeout=5.0) as client:
        report = Campaign(client, rows, journal, rate=rate, sender_rate=math.inf, max_in_flight=16).run_sync()
    counts: dict[str, object] = {
        name: getattr(report, name) for name in ("rows", "accepted", "pending", "failed", "unknown")
    }
    counts["stop"] = None if report.stop is None else report.stop.reason
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    main()
