"""Logging under the `telnyx_messages` logger, switched on by TELNYX_LOG=debug|info.

What is logged: request line, status, duration, retry decisions. Never headers or bodies, so
never the API key.
"""

from __future__ import annotations

import logging
import os

logger = logging.getLogger("telnyx_messages")

_configured = False


def setup_logging() -> None:
    global _configured
    if _configured:
        return
    _configured = True
    level = os.environ.get("TELNYX_LOG", "").strip().lower()
    if level in {"debug", "info"}:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s %(name)s %(levelname)s] %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG if level == "debug" else logging.INFO)
