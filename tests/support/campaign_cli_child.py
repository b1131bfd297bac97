"""`telnyx-messages` in a process of its own, for the tests that signal or kill it, or give it a
terminal: `python -m tests.support.campaign_cli_child ARGS...` runs the command with ARGS.
CAMPAIGN_PLAIN_EVERY (seconds) sets how often the plain progress lines come; CAMPAIGN_NO_RICH=1
runs it as if the `campaign` extra (rich) were not installed."""

from __future__ import annotations

import os
import sys

if os.environ.get("CAMPAIGN_NO_RICH") == "1":
    sys.modules["rich"] = None  # type: ignore[assignment]  # `import rich...` raises ImportError

from telnyx_messages import _campaign_cli, cli

if "CAMPAIGN_PLAIN_EVERY" in os.environ:
    _campaign_cli.PLAIN_EVERY = float(os.environ["CAMPAIGN_PLAIN_EVERY"])

if __name__ == "__main__":
    sys.exit(cli.main(sys.argv[1:]))
