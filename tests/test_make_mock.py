"""`make mock`, the local mock the README's Usage examples run against: the README says how to start
it and what to export, and it starts Prism on 127.0.0.1 and answers as the API would."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from prism import free_port
from telnyx_messages import APIConnectionError, Telnyx

from .support import MESSAGE_ID, ROOT

README = (ROOT / "README.md").read_text()
USAGE = README.split("\n## Usage\n", 1)[1].split("\n## ", 1)[0]
EXPORT = re.compile(r"export TELNYX_BASE_URL=(?P<base_url>[^\s\"]+) TELNYX_API_KEY=(?P<api_key>[^\s\"]+)")


def test_the_usage_section_says_how_to_start_the_mock_before_its_examples() -> None:
    assert "make mock" in USAGE
    assert USAGE.index("make mock") < USAGE.index("```python")
    readme_export = EXPORT.search(USAGE)
    assert readme_export is not None
    # What `make mock` prints at its default port is what the README exports.
    planned = subprocess.run(["make", "-n", "--no-print-directory", "mock"], cwd=ROOT, capture_output=True, text=True)
    assert planned.returncode == 0, planned.stderr
    printed = EXPORT.search(planned.stdout)
    assert printed is not None and printed.group(0) == readme_export.group(0)
    assert readme_export["base_url"].startswith("http://127.0.0.1:")


@pytest.mark.prism  # Prism from tools/node_modules, as the prism fixture's tests
@pytest.mark.timeout(180)
def test_make_mock_starts_prism_on_loopback_and_it_answers(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "make-mock.log"
    environment = {name: value for name, value in os.environ.items() if name not in ("MAKEFLAGS", "MAKELEVEL")}
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "mock", f"MOCK_PORT={port}"],
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,  # its own process group: make, and Prism under it, stop together
        )
    try:
        deadline = time.monotonic() + 120
        while (printed := EXPORT.search(log.read_text())) is None:
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert printed["base_url"] == f"http://127.0.0.1:{port}"
        with Telnyx(api_key=printed["api_key"], base_url=printed["base_url"], max_retries=0) as client:
            while True:
                try:
                    group = client.messages.retrieve_group_messages(MESSAGE_ID)
                    break
                except APIConnectionError:
                    assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                    time.sleep(0.5)
        assert group.data  # the spec's example messages
        assert f"Prism is listening on http://127.0.0.1:{port}" in log.read_text()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
