"""Work a test waits for that runs in other processes (the generator, a pytest run under another
document): queued once the session has selected the test (tests/conftest.py queues the job of each
selected test marked `background`) and run one job at a time, on a second core while the tests before
it run on the first. Unselected, a job never runs; a test that asks before its job has begun runs it
itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="background")
_SCRATCH: list[tempfile.TemporaryDirectory[str]] = []  # made when the first job runs
_RUNNING: set[subprocess.Popen[str]] = set()
_LOCK = threading.Lock()
_STOPPING = threading.Event()


class Job(Generic[T]):
    """`work(directory)` run once, in the background or by the first to ask for its result, whichever
    comes first (a test asking waits for no other job); `directory` is its own."""

    def __init__(self, name: str, work: Callable[[Path], T]) -> None:
        self.name = name
        self._work = work
        self._started = False
        self._lock = threading.Lock()  # held while the work runs
        self._outcome: tuple[T] | BaseException | None = None

    def start(self) -> None:
        """Queue the work in the background (once)."""
        if not self._started:
            self._started = True
            _POOL.submit(self._run)

    def result(self) -> T:
        """The work's result (its exception raised again here), once it is done."""
        self._run()
        outcome = self._outcome
        if isinstance(outcome, BaseException):
            raise outcome
        assert outcome is not None
        return outcome[0]

    def _run(self) -> None:
        with self._lock:
            if self._outcome is not None:
                return
            if not _SCRATCH:
                _SCRATCH.append(tempfile.TemporaryDirectory(prefix="telnyx-background-"))
            directory = Path(tempfile.mkdtemp(prefix=f"{self.name}-", dir=_SCRATCH[0].name))
            try:
                self._outcome = (self._work(directory),)
            except BaseException as error:  # a failed assertion, or the session stopping it
                self._outcome = error


def run(command: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
    """subprocess.run(command, capture_output=True, text=True, **options), in a process group that
    stop() ends if the session ends first."""
    if _STOPPING.is_set():
        raise RuntimeError("the session is over")
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, **options
    )
    with _LOCK:
        _RUNNING.add(process)
    try:
        stdout, stderr = process.communicate()
    finally:
        with _LOCK:
            _RUNNING.discard(process)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def stop() -> None:
    """End what is still running (the session ended before a test asked for it), and wait for it."""
    _STOPPING.set()
    with _LOCK:
        running = list(_RUNNING)
    for process in running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    _POOL.shutdown(wait=True, cancel_futures=True)
    for scratch in _SCRATCH:
        scratch.cleanup()
