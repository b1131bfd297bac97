"""Fixtures: a real loopback HTTP server, Prism, and the checks every test runs under.

What the tests share that is not a fixture lives in tests/support/.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings

from .support import API_KEY, background, typecheck
from .support.server import LoopbackServer
from .support.spec import SPEC, SPEC_PATH
from .support.typecheck import Checked

# One profile for every property test: no example database, no deadline on a shared machine, and
# no shrinking, so a failing document is printed as drawn and the suite stays bounded.
settings.register_profile(
    "telnyx",
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)
# make mutation runs the tests once per mutant: fewer examples there (tools/mutation.py sets it).
settings.register_profile("mutation", parent=settings.get_profile("telnyx"), max_examples=10)
settings.load_profile(os.environ.get("TELNYX_MESSAGES_HYPOTHESIS_PROFILE", "telnyx"))


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    return SPEC


@pytest.fixture(scope="session")
def type_checked(tmp_path_factory: pytest.TempPathFactory) -> Checked:
    """mypy --strict on every program registered with tests.support.typecheck.program, in one run."""
    return typecheck.check_registered(tmp_path_factory.mktemp("typecheck"))


@pytest.fixture(scope="session")
def pyright_checked(tmp_path_factory: pytest.TempPathFactory) -> Checked:
    """Pyright on every program registered with tests.support.typecheck.program, in one run."""
    return typecheck.check_registered_pyright(tmp_path_factory.mktemp("pyright"))


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer()
    yield srv
    srv.close()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TELNYX_API_KEY", "TELNYX_BASE_URL", "TELNYX_LOG", "TELNYX_PUBLIC_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _no_key_in_any_log(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every test runs with every logger at DEBUG; none may ever have written the API key."""
    caplog.set_level(logging.DEBUG)
    yield
    assert API_KEY not in caplog.text, "the API key reached a log record"


# What quick_retry_waits scales the client's waits between attempts by.
RETRY_WAIT_SCALE = 0.01


@pytest.fixture
def quick_retry_waits(monkeypatch: pytest.MonkeyPatch) -> float:
    """The waits between attempts cut to RETRY_WAIT_SCALE of what the client chose, for tests of which
    attempts happen rather than of how long they wait (tests/test_retries.py waits for real). The
    client logs each wait it chose, unscaled (`retrying ... in 1.00 s`), for a test to check."""
    from telnyx_messages._client import _BaseClient

    monkeypatch.setattr(_BaseClient, "_retry_delay_scale", RETRY_WAIT_SCALE)
    return RETRY_WAIT_SCALE


FAULT_TABLE: list[tuple[str, ...]] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FAULT_TABLE:
        return
    header = ("fault", "kind", "client", "outcome", "attempts", "accepted")
    rows = [header, *sorted(FAULT_TABLE)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    terminalreporter.section("fault injection: fault x operation kind x client -> outcome")
    for row in rows:
        terminalreporter.write_line("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


@pytest.fixture(scope="session")
def prism() -> Iterator[str]:
    from prism import running_prism

    with running_prism(SPEC_PATH) as base_url:
        yield base_url


def pytest_collection_finish(session: pytest.Session) -> None:
    """The background jobs of the selected tests start now (tests/support/background.py)."""
    if session.config.option.collectonly:
        return
    for item in session.items:
        for mark in item.iter_markers("background"):
            mark.args[0].start()


def pytest_sessionfinish(session: pytest.Session) -> None:
    background.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `pytest -m "not prism"` runs the tests that need no Node tools (make mutation does).
    for item in items:
        if "prism" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.prism)
    # Under make mutation, the quickest tests first: a mutant is caught by the first that fails.
    durations = Path("mutmut-stats.json")
    if os.environ.get("TELNYX_MESSAGES_HYPOTHESIS_PROFILE") == "mutation" and durations.exists():
        seconds = json.loads(durations.read_text()).get("duration_by_test", {})
        items.sort(key=lambda item: seconds.get(item.nodeid, 0.0))
