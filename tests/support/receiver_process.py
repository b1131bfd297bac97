"""Start tests/support/receiver_server.py in a process of its own and stop it (or kill it)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import ROOT


@dataclass
class Served:
    port: int
    process: subprocess.Popen[str]

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


@contextmanager
def served(
    kind: str, store: Path | None, public_key: str, *, tolerance: int = 300, callback_log: Path | None = None
) -> Iterator[Served]:
    """The receiver of `kind` on `store` in a child process, until the block ends (then SIGTERM: the
    server's own shutdown; SIGKILL if it is still running after 10 s)."""
    command = [sys.executable, "-m", "tests.support.receiver_server", kind]
    command += [str(store)] if store is not None else []
    command += [str(callback_log)] if callback_log is not None else []
    env = {**os.environ, "TELNYX_PUBLIC_KEY": public_key, "RECEIVER_TOLERANCE": str(tolerance)}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, f"the {kind} receiver exited before listening (status {process.wait(10)})"
        yield Served(json.loads(line)["port"], process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
