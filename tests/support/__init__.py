"""What the tests share: the spec and its cases (spec), the loopback server (server), the schema
walker (contract), openapi-core's view of an httpx request (openapi_httpx), and the constants below."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HISTORY = ROOT.parent / "shared" / "spec" / "history"
API_KEY = "KEY-tests-0123456789-SECRET"
# A message id as the API writes them; every operation with an id in its path takes it.
MESSAGE_ID = "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"
