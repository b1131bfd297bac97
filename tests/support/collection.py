"""The suite's test ids, from one `pytest --collect-only -m "not slow"` run (as `make test FAST=1`
selects) per session, for the tests about the suite itself: every test collected, and which of them
the marker leaves out. This module is also the pytest plugin (`-p tests.support.collection`) that
writes them down in that run.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs

from . import ROOT

_REPORT = "TELNYX_MESSAGES_COLLECTION_REPORT"
_DESELECTED: list[str] = []


@attrs.frozen
class Collected:
    selected: tuple[str, ...]  # by `-m "not slow"`
    deselected: tuple[str, ...]  # the slow ones

    @property
    def every(self) -> tuple[str, ...]:
        return self.selected + self.deselected


@functools.cache
def collected() -> Collected:
    """Every test of tests/, and which `-m "not slow"` selects; collected in a subprocess once."""
    report = ROOT / "build" / f"collection-{os.getpid()}.json"
    report.parent.mkdir(exist_ok=True)
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    command += ["-p", "tests.support.collection", "-m", "not slow", "tests"]
    env = {**os.environ, _REPORT: str(report)}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    try:
        written = json.loads(report.read_text())
    finally:
        report.unlink(missing_ok=True)
    return Collected(tuple(written["selected"]), tuple(written["deselected"]))


# --- the plugin, in the collecting run ------------------------------------------------------


def pytest_deselected(items: list[Any]) -> None:
    _DESELECTED.extend(item.nodeid for item in items)


def pytest_collection_finish(session: Any) -> None:
    if path := os.environ.get(_REPORT):
        selected = [item.nodeid for item in session.items]
        Path(path).write_text(json.dumps({"selected": selected, "deselected": _DESELECTED}))
