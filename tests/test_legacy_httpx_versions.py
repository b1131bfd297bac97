"""The legacy-client adapter on each later httpx release a user may hold (tools/legacy_httpx.py):
tests/test_legacy_httpx.py again, in a subprocess with that release first on the path."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from legacy_httpx import VERSIONS, environment

from .support import ROOT


@pytest.mark.slow  # installs the release from PyPI on a machine's first run (then about 10 s)
@pytest.mark.parametrize("version", VERSIONS)
def test_the_legacy_client_tests_pass_on_a_later_httpx_release(version: str) -> None:
    env = environment(version) | {"TELNYX_TESTS_LEGACY_HTTPX": version}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_legacy_httpx.py"]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    summary = run.stdout.strip().splitlines()[-1]
    # Every test passed: none skipped, none deselected, and the release check among them.
    assert re.fullmatch(r"\d+ passed in \S+( \(.*\))?", summary), summary
