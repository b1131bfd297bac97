"""Work a test waits for that runs in other processes (the generator, a pytest run under another
document, mypy): queued once the session has selected the test (tests/conftest.py queues the job of
each selected test marked `background`) and run one job at a time per test process, beside the tests.
Unselected, a job never runs; a test that asks before its job has begun runs it itself.

Under pytest-xdist every worker queues the jobs of the tests it collected, and a job is done once for
the whole session: its outcome is kept (pickled) in the session's shared directory under a file lock,
so the worker that comes first does the work and the others read what it left.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="background")
_RUNNING: set[subprocess.Popen[str]] = set()
_LOCK = threading.Lock()
_STOPPING = threading.Event()
_SHARED: list[Path] = []  # the session's directory: set by configure(), else made on first use
_OWNED: list[Path] = []  # made by this process, removed by stop()


def configure(shared: Path | None) -> Path:
    """Use `shared` (the directory the xdist controller made) for the outcomes, or a new one this
    process owns and removes at stop(); the directory either way."""
    if shared is None:
        shared = Path(tempfile.mkdtemp(prefix="telnyx-background-"))
        _OWNED.append(shared)
    _SHARED[:] = [shared]
    return shared


def _shared() -> Path:
    return _SHARED[0] if _SHARED else configure(None)


class Job(Generic[T]):
    """`work(directory)` run once per session, in the background or by the first to ask for its
    result, whichever comes first (a test asking waits for no other job); `directory` is its own."""

    def __init__(self, name: str, work: Callable[[Path], T]) -> None:
        self.name = name
        self._work = work
        self._started = False
        self._outcome: tuple[T] | BaseException | None = None

    def start(self) -> None:
        """Queue the work in the background (once); another process already on it is left to it."""
        if not self._started:
            self._started = True
            _POOL.submit(self._run, False)

    def result(self) -> T:
        """The work's result (its exception raised again here), once it is done."""
        if self._outcome is None:
            self._run(True)
        outcome = self._outcome
        if isinstance(outcome, BaseException):
            raise outcome
        assert outcome is not None
        return outcome[0]

    def _run(self, wait: bool) -> None:
        place = _shared() / self.name
        with _locked(place.parent / f"{self.name}.lock", wait) as held:
            if not held or self._outcome is not None:
                return
            kept = place.parent / f"{self.name}.outcome"
            if kept.exists():
                self._outcome = pickle.loads(kept.read_bytes())
                return
            if _STOPPING.is_set():  # the session is over: not started now
                if wait:
                    self._outcome = RuntimeError("the session is over")
                return
            shutil.rmtree(place, ignore_errors=True)
            place.mkdir(parents=True)
            try:
                outcome: tuple[T] | BaseException = (self._work(place),)
            except BaseException as error:  # a failed assertion, or the session stopping it
                outcome = error
            self._outcome = outcome
            kept.write_bytes(_pickled(outcome))


@contextlib.contextmanager
def _locked(path: Path, wait: bool) -> Iterator[bool]:
    """An exclusive lock on `path` (also between threads of one process); without `wait`, False at
    once if another holds it."""
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pickled(outcome: object) -> bytes:
    try:
        return pickle.dumps(outcome)
    except Exception as error:  # an outcome that cannot travel: its description does
        return pickle.dumps(RuntimeError(f"{outcome!r} (not picklable: {error})"))


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


def stop(*, finish_running: bool = False) -> None:
    """Queued work is dropped; what is running is ended (the session ended before a test asked for
    it), or, with `finish_running` (an xdist worker done while others may still ask), waited for."""
    if not finish_running:
        _STOPPING.set()
        with _LOCK:
            running = list(_RUNNING)
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    _POOL.shutdown(wait=True, cancel_futures=True)
    _STOPPING.set()


def remove_shared() -> None:
    """Remove the session's directory, if this process made it (after its workers are done)."""
    for shared in _OWNED:
        shutil.rmtree(shared, ignore_errors=True)
