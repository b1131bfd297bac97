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


def _start(
    kind: str, store: Path | str | None, public_key: str, tolerance: int, callback_log: Path | None
) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tests.support.receiver_server", kind]
    command += [str(store)] if store is not None else []
    command += [str(callback_log)] if callback_log is not None else []
    env = {**os.environ, "TELNYX_PUBLIC_KEY": public_key, "RECEIVER_TOLERANCE": str(tolerance)}
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)


def _listening(kind: str, process: subprocess.Popen[str]) -> Served:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line, f"the {kind} receiver exited before listening (status {process.wait(10)})"
    return Served(json.loads(line)["port"], process)


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    if process.stdout is not None:
        process.stdout.close()


@contextmanager
def served(
    kind: str,
    store: Path | str | None,
    public_key: str,
    *,
    tolerance: int = 300,
    callback_log: Path | None = None,
) -> Iterator[Served]:
    """The receiver of `kind` on `store` (a file, or a PostgreSQL URL) in a child process, until the
    block ends (then SIGTERM: the server's own shutdown; SIGKILL if it is still running after 10 s)."""
    process = _start(kind, store, public_key, tolerance, callback_log)
    try:
        yield _listening(kind, process)
    finally:
        _stop(process)


@contextmanager
def served_many(
    kind: str, store: Path | str, public_key: str, count: int, *, tolerance: int = 300
) -> Iterator[list[Served]]:
    """`count` receivers of `kind` on one `store`, each a process of its own on a port of its own,
    started at once (their imports and connections overlap), stopped as served() stops one."""
    processes = [_start(kind, store, public_key, tolerance, None) for _ in range(count)]
    try:
        yield [_listening(kind, process) for process in processes]
    finally:
        for process in processes:
            _stop(process)
