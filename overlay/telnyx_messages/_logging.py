"""Logging under the `telnyx_messages` logger, switched on by TELNYX_LOG=debug|info.

What is logged: request line, status, duration, retry decisions. Never headers or bodies, so
never the API key.
"""

from __future__ import annotations

import functools
import logging
import os

logger = logging.getLogger("telnyx_messages")


@functools.cache
def setup_logging() -> None:
    """Once per process, whichever client is made first."""
    configure(os.environ.get("TELNYX_LOG", ""))


def configure(level_name: str) -> None:
    """A stderr handler at TELNYX_LOG's level, if it names one (debug or info)."""
    level = level_name.strip().lower()
    if level in {"debug", "info"}:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s %(name)s %(levelname)s] %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG if level == "debug" else logging.INFO)
