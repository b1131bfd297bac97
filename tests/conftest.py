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


# The type checkers' runs over every program registered with tests.support.typecheck.program: one run
# of each per session (under xdist too), started in the background once a selected test asks for it.
TYPE_CHECKS = {
    "type_checked": background.Job("mypy", typecheck.check_registered),
    "pyright_checked": background.Job("pyright", typecheck.check_registered_pyright),
}


@pytest.fixture(scope="session")
def type_checked() -> Checked:
    """mypy --strict on every program registered with tests.support.typecheck.program, in one run."""
    return TYPE_CHECKS["type_checked"].result()


@pytest.fixture(scope="session")
def pyright_checked() -> Checked:
    """Pyright on every program registered with tests.support.typecheck.program, in one run."""
    return TYPE_CHECKS["pyright_checked"].result()


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


# A test appends its rows here; they travel on its report (from an xdist worker too) to the summary.
FAULT_TABLE: list[tuple[str, ...]] = []
_FAULT_ROW = "fault injection"
_FAULT_SUMMARY: list[tuple[str, ...]] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    report: pytest.TestReport = yield
    report.user_properties.extend((_FAULT_ROW, row) for row in FAULT_TABLE)
    FAULT_TABLE.clear()
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _FAULT_SUMMARY.extend(tuple(row) for name, row in report.user_properties if name == _FAULT_ROW)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _FAULT_SUMMARY:
        return
    header = ("fault", "kind", "client", "outcome", "attempts", "accepted")
    rows = [header, *sorted(_FAULT_SUMMARY)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    terminalreporter.section("fault injection: fault x operation kind x client -> outcome")
    for row in rows:
        terminalreporter.write_line("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


@pytest.fixture(scope="session")
def prism() -> Iterator[str]:
    from prism import running_prism

    with running_prism(SPEC_PATH) as base_url:
        yield base_url


_SHARED = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """The session's directory for background outcomes: an xdist worker's is its controller's."""
    shared = getattr(config, "workerinput", {}).get("telnyx_background")
    config.stash[_SHARED] = background.configure(Path(shared) if shared else None)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    node.workerinput["telnyx_background"] = str(node.config.stash[_SHARED])


def pytest_collection_finish(session: pytest.Session) -> None:
    """The background jobs of the selected tests start now (tests/support/background.py)."""
    if session.config.option.collectonly:
        return
    for item in session.items:
        for fixture in TYPE_CHECKS.keys() & set(getattr(item, "fixturenames", ())):
            TYPE_CHECKS[fixture].start()
        for mark in item.iter_markers("background"):
            mark.args[0].start()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # An xdist worker finishes the job it is on, which a test on another worker may be waiting for.
    worker = hasattr(session.config, "workerinput")
    background.stop(finish_running=worker and exitstatus != pytest.ExitCode.INTERRUPTED)


def pytest_unconfigure(config: pytest.Config) -> None:
    background.remove_shared()


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
    else:
        items.sort(key=_scheduled)


def _scheduled(item: pytest.Item) -> int:
    """The long tests (marked slow) first, so that no worker is left with one at the end, and those that
    wait for a background job last, so that it has had the longest to run."""
    if item.get_closest_marker("background"):
        return 2
    return 0 if item.get_closest_marker("slow") else 1


@pytest.fixture
def first_datetime_readings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test reads its date-times as the first of their shape and style: the process-wide tables
    (_datetime._ZONES, _ZONE_OF_SHAPE) start empty, so the reading of a style is what is tested,
    not what an earlier test left there."""
    from telnyx_messages import _datetime

    monkeypatch.setattr(_datetime, "_ZONES", {})
    monkeypatch.setattr(_datetime, "_ZONE_OF_SHAPE", {})
