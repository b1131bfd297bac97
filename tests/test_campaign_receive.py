"""`telnyx-messages campaign receive`: the webhook receiver served by uvicorn on a campaign's journal, in a
process of its own (tests/support/campaign_cli_child.py) on a loopback port, fed events the fake signed
(FakeTelnyx.webhook) over real HTTP; stopped by SIGINT and SIGTERM; refused at start, before it listens,
without a usable public key, journal or the [receiver] extra."""

from __future__ import annotations

import atexit
import base64
import contextlib
import csv
import datetime
import errno
import http.client
import importlib.abc
import io
import json
import os
import re
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from telnyx_messages import _campaign_cli, cli
from telnyx_messages._journal import Journal
from telnyx_messages.receiver import FINAL_STATUSES, Receiver
from telnyx_messages.testing import FakeTelnyx

from .support import ROOT
from .test_cli import run

COMMAND = "tests.support.campaign_cli_child"  # the command in a process of its own, as forked()'s module
SENDER = "+18445550001"
LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)(/\S*) \(journal (.+)\); Ctrl-C stops")
NOW = datetime.datetime(2026, 12, 7, 8, 0, tzinfo=datetime.UTC)


def recipient(n: int) -> str:
    return f"+1312{n:07d}"


def campaign_journal(path: Path, message_ids: list[str | None]) -> Path:
    """A campaign's journal whose row n went to recipient(n): accepted with message_ids[n], or (None)
    refused by the API."""
    with Journal(path) as journal:
        journal.begin("receipts", {}, NOW)
        for n, message_id in enumerate(message_ids):
            journal.add(f"r-{n}", f"d-{n}", f"key-{n}", recipient(n), SENDER)
            if message_id is None:
                journal.failed(f"r-{n}", "40310", "refused")
            else:
                journal.accepted(f"r-{n}", message_id, None)
    return path


def receipt(fake: FakeTelnyx, message_id: str, to: str, status: str, codes: tuple[str, ...] = ()) -> Any:
    """A delivery update for one recipient as Telnyx delivers it, signed by the fake: (body, headers);
    message.finalized for a final status, else message.sent."""
    sent = fake.client().messages.send(to=to, from_=SENDER, text="Hi")
    assert sent.data is not None
    errors = [{"code": code, "title": "Undeliverable", "detail": f"carrier said {code}"} for code in codes]
    document = {**sent.data.to_dict(mode="json"), "id": message_id, "to": [{"phone_number": to, "status": status}]}
    event_type = "message.finalized" if status in FINAL_STATUSES else "message.sent"
    return fake.webhook(event_type, {**document, "errors": errors})


def post(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """One request over HTTP: the answer's status and text."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", path, body=body, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read().decode()
    finally:
        connection.close()


@dataclass
class Served:
    process: Forked
    port: int
    path: str

    def post(self, body: bytes, headers: dict[str, str], path: str | None = None) -> tuple[int, str]:
        return post(self.port, path or self.path, body, headers)

    def stop(self, number: int) -> tuple[int, str, str]:
        """Signal it; its exit code, the rest of its output and its standard error."""
        self.process.send_signal(number)
        stdout, stderr = self.process.communicate(timeout=20)
        return self.process.returncode, stdout, stderr


def environment(**extra: str) -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name != "TELNYX_PUBLIC_KEY"} | extra


@contextlib.contextmanager
def receiving(journal: Path, *options: str, env: dict[str, str]) -> Iterator[Served]:
    """`campaign receive` on `journal`, on a port of the system's choosing, from the line that says it
    listens until the block ends (killed then, if still running)."""
    command = ["campaign", "receive", "--journal", str(journal), "--port", "0", *options]
    process = forked(COMMAND, *command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # the readiness check: written once uvicorn listens
        found = LISTENING.fullmatch(line.rstrip("\n"))
        if found is None:
            _, stderr = process.communicate(timeout=20)
            raise AssertionError(f"no listening line: {line!r}, status {process.returncode}, stderr {stderr!r}")
        assert found.group(3) == str(journal)
        yield Served(process, int(found.group(1)), found.group(2))
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=20)


# --- commands in processes of their own, started as forks ----------------------------------------

# A Python process that has imported what the commands import, and starts each command given to it as a
# fork of itself (a real process: its own pid, file descriptors, signals and exit status), run as
# `python -m MODULE ARGS...` (or `python -c CODE ARGS...`) would run it: as __main__, at the top level,
# so that SystemExit, an uncaught exception or KeyboardInterrupt end it as they end an interpreter. A
# Python start with these imports costs about half a CPU second; a fork, a hundredth. The commands
# themselves are not imported here: run, they do what their environment asks (CAMPAIGN_NO_RICH before
# rich is imported, which only a command does). One at a time: it sends a fork's pid, then its exit status.
_FORK_SERVER = r"""
import gc, json, os, runpy, socket, sys, threading

import tests.support  # noqa: F401
from telnyx_messages import AsyncTelnyx, Telnyx, _campaign_cli, _journals, campaign, cli  # noqa: F401

cli.build_parser()  # what it imports (the models of the operations' arguments), imported
gc.freeze()  # what a fork inherits is never collected there: its pages stay shared, not copied
assert "rich" not in sys.modules and threading.active_count() == 1  # nothing a fork would not have


def serve():
    control = socket.socket(fileno=int(sys.argv[1]))
    while True:
        message, fds, _, _ = socket.recv_fds(control, 1 << 20, 3)
        if not message:  # the tests' process has closed its end
            sys.exit(0)
        request = json.loads(message)
        pid = os.fork()
        if pid == 0:
            control.close()
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
                os.close(fd)
            os.chdir(request["cwd"])
            os.environ.clear()
            os.environ.update(request["env"])
            for name, value in request["settings"].items():  # "package.module.NAME": value
                where, _, attribute = name.rpartition(".")
                setattr(sys.modules[where], attribute, value)
            return request
        for fd in fds:
            os.close(fd)
        control.send(json.dumps(pid).encode())
        _, status = os.waitpid(pid, 0)
        control.send(json.dumps(os.waitstatus_to_exitcode(status)).encode())


request = serve()
if request["module"] == "-c":
    sys.argv = ["-c", *request["args"][1:]]
    exec(compile(request["args"][0], "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
else:
    sys.argv = ["-m", *request["args"]]
    runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
"""


class Forked:
    """A command started by the fork server: what the tests use of subprocess.Popen (the output
    given as PIPE is read by communicate(), or line by line from `stdout`)."""

    def __init__(self, control: socket.socket, pid: int, pipes: dict[str, Any]) -> None:
        self._control, self.pid = control, pid
        self.stdout, self.stderr = pipes.get("stdout"), pipes.get("stderr")
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self._control], [], [], 0)[0]:
            self.returncode = int(json.loads(self._control.recv(64)))
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self._control], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(f"fork {self.pid}", timeout or 0)
            self.returncode = int(json.loads(self._control.recv(64)))
        return self.returncode

    def send_signal(self, number: int) -> None:
        if self.poll() is None:  # not reaped yet: the pid is still the fork's
            os.kill(self.pid, number)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def communicate(self, timeout: float | None = None) -> tuple[Any, Any]:
        """Its output given as PIPE, read to the end (by threads, as Popen's), once it has ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        read: dict[str, Any] = {}
        readers = [
            threading.Thread(target=lambda name=name, stream=stream: read.__setitem__(name, stream.read()), daemon=True)
            for name, stream in (("stdout", self.stdout), ("stderr", self.stderr))
            if stream is not None
        ]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(None if deadline is None else max(deadline - time.monotonic(), 0))
            if reader.is_alive():
                raise subprocess.TimeoutExpired(f"fork {self.pid}", timeout or 0)
        self.wait(None if deadline is None else max(deadline - time.monotonic(), 0))
        for stream in (self.stdout, self.stderr):
            if stream is not None:
                stream.close()
        return read.get("stdout"), read.get("stderr")


@dataclass
class _ForkServer:
    process: subprocess.Popen[bytes]
    control: socket.socket
    running: Forked | None = None

    def close(self) -> None:
        """Its fork ended, then the server (waited for: its CPU time, and its forks', counted as this
        process's children's)."""
        if self.running is not None:
            self.running.kill()
        self.control.close()
        self.process.wait(30)


# A fork server per process (a process forked from this one, as mutmut's per mutant, starts its own) and
# per Python startup variables (PYTHON*: a fork starts as the server did).
_FORK_SERVERS: dict[tuple[int, frozenset[tuple[str, str]]], _ForkServer] = {}


def _fork_server(env: dict[str, str]) -> _ForkServer:
    """The fork server for commands run with `env` (started at its first use; it ends once this
    process closes its end)."""
    key = (os.getpid(), frozenset((name, value) for name, value in env.items() if name.startswith("PYTHON")))
    if key not in _FORK_SERVERS:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            process = subprocess.Popen(
                [sys.executable, "-c", _FORK_SERVER, str(theirs.fileno())],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                pass_fds=[theirs.fileno()],
            )
        _FORK_SERVERS[key] = server = _ForkServer(process, ours)
        atexit.register(server.close)
    return _FORK_SERVERS[key]


def forked(
    module: str,
    *args: str,
    env: dict[str, str],
    stdin: int = subprocess.DEVNULL,
    stdout: int = subprocess.DEVNULL,
    stderr: int = subprocess.DEVNULL,
    text: bool = False,
    settings: dict[str, Any] | None = None,
) -> Forked:
    """`python -m module args...` (`python -c args...` for module "-c") in ROOT with `env`, started by
    the fork server; stdin, stdout and stderr each DEVNULL, PIPE (then read from the Forked) or a file
    descriptor of this process's. `settings`: module attributes set in the fork before the command
    runs ({"package.module.NAME": value})."""
    server = _fork_server(env)
    if server.running is not None and server.running.poll() is None:  # a failed test's: ended first
        server.running.kill()
        server.running.wait(30)
    given: list[int] = []  # what the fork gets as 0, 1 and 2
    ours: list[int] = []  # what this process closes once they are sent
    pipes: dict[str, Any] = {}
    for name, choice in (("stdin", stdin), ("stdout", stdout), ("stderr", stderr)):
        if choice == subprocess.DEVNULL:
            given.append(os.open(os.devnull, os.O_RDWR))
            ours.append(given[-1])
        elif choice == subprocess.PIPE:
            assert name != "stdin", "no input is written to a fork"
            read, write = os.pipe()
            given.append(write)
            ours.append(write)
            pipes[name] = open(read, encoding="utf-8") if text else open(read, "rb")  # noqa: SIM115
        else:
            given.append(choice)
    try:
        request = {"module": module, "args": list(args), "cwd": str(ROOT), "env": env, "settings": settings or {}}
        socket.send_fds(server.control, [json.dumps(request).encode()], given)
    finally:
        for fd in ours:
            os.close(fd)
    server.running = started = Forked(server.control, int(json.loads(server.control.recv(64))), pipes)
    return started


def run_forked(module: str, *args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """As subprocess.run(..., capture_output=True, text=True) of `python -m module args...`, forked."""
    started = forked(module, *args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = started.communicate(timeout)
    return subprocess.CompletedProcess([module, *args], started.wait(), stdout, stderr)


# --- receiving --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stop", "key_from"),
    [(signal.SIGINT, "option"), (signal.SIGTERM, "environment")],
    ids=["sigint-key-option", "sigterm-key-environment"],
)
def test_signed_events_are_recorded_in_the_journal_and_a_signal_stops_it_with_exit_0(
    tmp_path: Path, stop: int, key_from: str
) -> None:
    fake, other = FakeTelnyx(), FakeTelnyx()
    ids = [str(uuid.uuid4()) for _ in range(4)]
    journal = campaign_journal(tmp_path / "run.db", [None, ids[1], ids[2], ids[3]])
    if key_from == "option":  # the option wins over the variable
        options, env = ["--public-key", fake.public_key], environment(TELNYX_PUBLIC_KEY=other.public_key)
    else:
        options, env = [], environment(TELNYX_PUBLIC_KEY=fake.public_key)
    delivered = receipt(fake, ids[1], recipient(1), "delivered")
    events = [
        receipt(fake, ids[1], recipient(1), "sent"),
        delivered,
        receipt(fake, ids[2], recipient(2), "delivery_failed", ("40008",)),
        receipt(fake, ids[3], recipient(3), "sent"),
        receipt(fake, str(uuid.uuid4()), recipient(9), "delivered"),  # a message of no row: kept too
    ]
    forged = receipt(other, ids[3], recipient(3), "delivered")  # signed with another key
    with receiving(journal, "--path", "/telnyx/receipts", *options, env=env) as served:
        assert served.path == "/telnyx/receipts"
        assert [served.post(*event) for event in events] == [(200, "recorded")] * len(events)
        assert served.post(*delivered) == (200, "duplicate: recorded before")
        assert served.post(*forged)[0] == 401
        assert served.post(*delivered, path="/webhooks/telnyx")[0] == 404  # only --path is served
        code, stdout, stderr = served.stop(stop)
    assert code == 0, stderr
    assert stdout == "" and "Traceback" not in stderr  # the listening line was the only output
    assert fake.public_key not in stderr and other.public_key not in stderr
    with contextlib.closing(sqlite3.connect(journal)) as db:
        assert db.execute("SELECT count(*) FROM events").fetchone() == (len(events),)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    status = run("campaign", "status", str(journal), "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["delivery"] == {"sent": 1, "delivered": 1, "delivery_failed": 1}
    export = run("campaign", "export", str(journal))
    table = [
        (row["id"], row["delivery_status"], row["delivery_error_codes"])
        for row in csv.DictReader(io.StringIO(export.stdout))
    ]
    assert table == [
        ("r-0", "", ""),
        ("r-1", "delivered", ""),
        ("r-2", "delivery_failed", "40008"),
        ("r-3", "sent", ""),
    ]


def test_the_address_and_path_default_to_the_loopback_port_8000_and_webhooks_telnyx() -> None:
    args = vars(cli.build_parser().parse_args(["campaign", "receive", "--journal", "run.db"]))
    assert (args["host"], args["port"], args["path"], args["public_key"]) == (
        "127.0.0.1",
        8000,
        "/webhooks/telnyx",
        None,
    )


# --- refused at start ---------------------------------------------------------------------------------


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port this test listens on: a command that got as far as listening on it would fail to, and
    say so (`cannot listen`), instead of what it was refused for."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def _not_a_journal(tmp_path: Path) -> Path:
    path = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE t (x)")
        db.commit()
    return path


def _receiver_store(tmp_path: Path) -> Path:
    path = tmp_path / "receipts.db"
    Receiver(path, public_key=FakeTelnyx().public_key).close()
    return path


def _text_file(tmp_path: Path) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text("to,text\n+13125550001,Hi\n" * 100, encoding="utf-8")
    return path


KEY = base64.b64encode(bytes(range(32))).decode()
SHORT_KEY = base64.b64encode(bytes(16)).decode()
REFUSALS = [
    # (id, journal maker, options, environment's key, what the one line of standard error says)
    ("no-key", None, [], None, "no public key: pass --public-key or set TELNYX_PUBLIC_KEY"),
    ("key-option-not-base64", None, ["--public-key", "not a key"], KEY, "--public-key must be base64 of the 32-byte"),
    ("key-variable", None, [], SHORT_KEY, "TELNYX_PUBLIC_KEY must be base64 of the 32-byte public key; it is 16"),
    ("no-journal", "missing", [], KEY, "no campaign journal at {journal} (`campaign send --journal {journal}` ma"),
    ("another-sqlite-file", _not_a_journal, [], KEY, "JournalError: {journal} is an SQLite file, but not a campaign"),
    ("a-receiver-store", _receiver_store, [], KEY, "JournalError: {journal} is an SQLite file, but not a campaign"),
    ("not-sqlite", _text_file, [], KEY, "JournalError: {journal} is not a campaign journal"),
]  # fmt: skip


@pytest.mark.parametrize(("made", "options", "key", "said"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_a_key_journal_or_path_it_cannot_use_is_refused_before_it_listens(
    tmp_path: Path, held_port: int, made: Any, options: list[str], key: str | None, said: str
) -> None:
    if made is None:
        journal = campaign_journal(tmp_path / "run.db", [str(uuid.uuid4())])
    elif made == "missing":
        journal = tmp_path / "run.db"
    else:
        journal = made(tmp_path)
    before = journal.read_bytes() if journal.exists() else None
    files = sorted(tmp_path.iterdir())
    env = environment(**({} if key is None else {"TELNYX_PUBLIC_KEY": key}))
    command = ["campaign", "receive", "--journal", str(journal), "--port", str(held_port), *options]
    done = run_forked(COMMAND, *command, env=env)
    assert done.returncode == 3, done.stderr
    assert done.stdout == "" and len(done.stderr.splitlines()) == 1, done.stderr
    assert said.format(journal=journal) in done.stderr
    made_beside = sorted(set(tmp_path.iterdir()) - set(files))
    if made == _receiver_store:  # a WAL file: reading it at all makes SQLite's index of its (empty) log
        assert made_beside == [Path(f"{journal}-shm"), Path(f"{journal}-wal")]
        assert Path(f"{journal}-wal").stat().st_size == 0  # nothing written
    else:
        assert made_beside == []  # nothing made beside it
    if before is not None:
        assert journal.read_bytes() == before  # a file refused is left as it was


@pytest.mark.parametrize(("made", "options", "key", "said"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_the_same_refusals_in_this_process(
    tmp_path: Path, held_port: int, made: Any, options: list[str], key: str | None, said: str
) -> None:
    # (Where mutation testing sees them: the real process above runs the same code.)
    journal = tmp_path / "run.db" if made == "missing" else campaign_journal(tmp_path / "run.db", [str(uuid.uuid4())])
    if made not in (None, "missing"):
        journal = made(tmp_path)
    env = environment(**({} if key is None else {"TELNYX_PUBLIC_KEY": key}))
    done = run("campaign", "receive", "--journal", str(journal), "--port", str(held_port), *options, env=env)
    assert done.returncode == 3 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and said.format(journal=journal) in done.stderr, done.stderr


@pytest.mark.parametrize(("module", "named"), [("uvicorn", "uvicorn"), ("nacl", "PyNaCl")])
def test_without_the_receiver_extra_it_says_what_to_install(
    tmp_path: Path, held_port: int, module: str, named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = campaign_journal(tmp_path / "run.db", [str(uuid.uuid4())])
    for name in [name for name in sys.modules if name == module or name.startswith(f"{module}.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)  # `import module` raises ImportError
    done = run(
        "campaign",
        "receive",
        "--journal",
        str(journal),
        "--port",
        str(held_port),
        env=environment(TELNYX_PUBLIC_KEY=KEY),
    )
    assert done.returncode == 3 and done.stdout == ""
    assert done.stderr == (
        f"telnyx-messages: campaign receive needs uvicorn and PyNaCl ({named} is missing): "
        "pip install 'telnyx-messages[receiver]'\n"
    )


@pytest.mark.parametrize(
    ("missing", "named"),
    [(None, "a module"), ("nacl.bindings.crypto_sign", "PyNaCl")],
    ids=["no-module-named", "a-submodule"],
)
def test_an_extra_that_fails_to_import_is_named_by_its_package(
    tmp_path: Path, held_port: int, monkeypatch: pytest.MonkeyPatch, missing: str | None, named: str
) -> None:
    class Broken(importlib.abc.MetaPathFinder):  # PyNaCl broken: its libsodium, or a part of it, missing
        def find_spec(self, name: str, path: Any, target: Any = None) -> None:
            if name == "nacl" or name.startswith("nacl."):
                raise ImportError("libsodium could not be loaded", name=missing)

    journal = campaign_journal(tmp_path / "run.db", [str(uuid.uuid4())])
    for name in [name for name in sys.modules if name == "nacl" or name.startswith("nacl.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [Broken(), *sys.meta_path])
    env = environment(TELNYX_PUBLIC_KEY=KEY)
    done = run("campaign", "receive", "--journal", str(journal), "--port", str(held_port), env=env)
    assert done.returncode == 3 and done.stdout == ""
    assert done.stderr == (
        f"telnyx-messages: campaign receive needs uvicorn and PyNaCl ({named} is missing): "
        "pip install 'telnyx-messages[receiver]'\n"
    )


@pytest.mark.parametrize("port", ["0", "65535"])
def test_ports_0_and_65535_are_in_range(tmp_path: Path, port: str) -> None:
    # Checked before the journal: a port in range goes on to the journal's refusal (there is none here).
    journal = tmp_path / "run.db"
    done = run("campaign", "receive", "--journal", str(journal), "--port", port, env=environment(TELNYX_PUBLIC_KEY=KEY))
    assert done.returncode == 3 and done.stdout == ""
    assert done.stderr == (
        f"telnyx-messages: no campaign journal at {journal} (`campaign send --journal {journal}` makes it)\n"
    ), done.stderr


def test_a_port_in_use_or_out_of_range_or_a_path_without_its_slash_is_refused_naming_it(
    tmp_path: Path, held_port: int
) -> None:
    journal = campaign_journal(tmp_path / "run.db", [str(uuid.uuid4())])
    env = environment(TELNYX_PUBLIC_KEY=KEY)
    in_use = run("campaign", "receive", "--journal", str(journal), "--port", str(held_port), env=env)
    assert in_use.returncode == 3 and in_use.stdout == ""
    assert in_use.stderr == (
        f"telnyx-messages: campaign receive: cannot listen on 127.0.0.1:{held_port}: Address already in use\n"
    )
    out_of_range = run("campaign", "receive", "--journal", str(journal), "--port", "65536", env=env)
    assert out_of_range.returncode == 3
    assert out_of_range.stderr == "telnyx-messages: campaign receive: --port must be 0 to 65535, got 65536\n"
    no_slash = run(
        "campaign", "receive", "--journal", str(journal), "--path", "hooks", "--port", str(held_port), env=env
    )
    assert no_slash.returncode == 3
    assert no_slash.stderr == "telnyx-messages: campaign receive: --path must start with '/', got 'hooks'\n"
    with Journal(journal, create=False) as opened:  # still the campaign's journal, nothing lost
        assert [row.identity for row in opened.rows()] == ["r-0"]


# --- in this process (where mutation testing sees it) ------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answering(port: int, host: str = "127.0.0.1", seconds: float = 30.0) -> None:
    """Once the server answers HTTP on the port (a GET: 405). Only then has uvicorn taken the signals:
    the socket listens, and takes connections, from before it starts."""
    deadline = time.monotonic() + seconds
    while True:
        connection = http.client.HTTPConnection(host, port, timeout=10)
        try:
            connection.request("GET", "/webhooks/telnyx")
            assert connection.getresponse().status == 405
            return
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
        finally:
            connection.close()


def _serving_here(journal: Path, port: int, key: str, feed: Callable[[], None], *options: str) -> Any:
    """`campaign receive` run here (the main thread: it takes the signals) while `feed` runs on a thread
    of its own; what the command did."""
    failures: list[BaseException] = []

    def fed() -> None:
        try:
            feed()
        except BaseException as exc:  # shown by the test
            failures.append(exc)

    thread = threading.Thread(target=fed)
    thread.start()
    try:
        env = environment(TELNYX_PUBLIC_KEY=key)
        return run("campaign", "receive", "--journal", str(journal), "--port", str(port), *options, env=env)
    finally:
        thread.join(30)
        assert not failures, failures


def _stop_serving(number: int) -> None:
    """Signal this process, as Ctrl-C or a service manager would, if the server has taken the signal
    (its handler in place): a command that has already failed is not sent a SIGTERM that would end the
    tests' process instead (an AssertionError then)."""
    if signal.getsignal(number) in (signal.SIG_DFL, signal.default_int_handler):
        raise AssertionError(f"the server is not serving: signal {number} would not reach it")
    os.kill(os.getpid(), number)


def test_here_it_says_where_it_listens_records_and_a_sigterm_stops_it_restoring_the_handlers(
    tmp_path: Path,
) -> None:
    fake = FakeTelnyx()
    message_id = str(uuid.uuid4())
    journal = campaign_journal(tmp_path / "run.db", [message_id])
    port = _free_port()
    event = receipt(fake, message_id, recipient(0), "delivered")
    answers: list[tuple[int, str]] = []
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)

    def feed() -> None:
        _answering(port)
        answers.append(post(port, "/webhooks/telnyx", *event))
        answers.append(post(port, "/webhooks/other", *event))  # only its path is served
        _stop_serving(signal.SIGTERM)  # only once it answered: uvicorn holds the signal

    done = _serving_here(journal, port, fake.public_key, feed)
    assert done.returncode == 0, done.stderr
    assert answers == [(200, "recorded"), (404, "not found")]
    assert done.stdout == f"listening on http://127.0.0.1:{port}/webhooks/telnyx (journal {journal}); Ctrl-C stops\n"
    assert done.stderr == ""  # uvicorn's own lines (its start, each request) are not shown
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers
    assert json.loads(run("campaign", "status", str(journal), "--json").stdout)["delivery"] == {"delivered": 1}


def _stall(port: int, held: list[socket.socket]) -> None:
    """Once the command answers on `port`, a request whose body never comes (its socket kept in
    `held`, open until the command has returned): a first Ctrl-C waits for it, a second does not."""
    _answering(port)
    stalled = socket.create_connection(("127.0.0.1", port), timeout=10)
    held.append(stalled)
    stalled.sendall(b"POST /webhooks/telnyx HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    time.sleep(0.3)


def test_here_a_second_ctrl_c_stops_it_without_waiting_for_a_request_that_never_ends(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    journal = campaign_journal(tmp_path / "run.db", [str(uuid.uuid4())])
    port = _free_port()
    second: list[float] = []
    held: list[socket.socket] = []

    def feed() -> None:
        _stall(port, held)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.5)
        second.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    try:
        done = _serving_here(journal, port, fake.public_key, feed)
        stopped = time.monotonic()
    finally:
        for sock in held:
            sock.close()
    assert done.returncode == 0, done.stderr
    assert second and stopped - second[0] < 5, stopped - second[0]


def test_here_a_first_ctrl_c_waits_for_a_request_being_answered_up_to_the_graceful_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_campaign_cli, "_GRACEFUL_SECONDS", 1)
    fake = FakeTelnyx()
    journal = campaign_journal(tmp_path / "run.db", [str(uuid.uuid4())])
    port = _free_port()
    first: list[float] = []
    held: list[socket.socket] = []

    def feed() -> None:
        _stall(port, held)
        first.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    try:
        done = _serving_here(journal, port, fake.public_key, feed)
        stopped = time.monotonic()
    finally:
        for sock in held:
            sock.close()
    assert done.returncode == 0, done.stderr
    assert first and 0.9 < stopped - first[0] < 5, stopped - first[0]  # waited for it, then gave up on it


class _Unflushable(io.StringIO):
    """Standard output whose first flush fails (a terminal gone: EIO)."""

    flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        if self.flushes == 1:
            raise OSError(errno.EIO, "Input/output error")


def test_here_a_standard_output_that_cannot_be_flushed_does_not_stop_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeTelnyx()
    journal = campaign_journal(tmp_path / "run.db", [str(uuid.uuid4())])
    port = _free_port()
    failures: list[BaseException] = []

    def feed() -> None:
        try:
            _answering(port)
            _stop_serving(signal.SIGTERM)
        except BaseException as exc:  # shown below
            failures.append(exc)

    out = _Unflushable()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setenv("TELNYX_PUBLIC_KEY", fake.public_key)
    thread = threading.Thread(target=feed)
    thread.start()
    try:
        code = cli.main(["campaign", "receive", "--journal", str(journal), "--port", str(port)])
    finally:
        thread.join(30)
    assert not failures, failures
    assert code == 0 and out.flushes >= 1
    assert out.getvalue().startswith(f"listening on http://127.0.0.1:{port}/webhooks/telnyx (journal {journal})")


def test_here_on_the_ipv6_loopback_the_line_writes_the_address_in_brackets(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    journal = campaign_journal(tmp_path / "run.db", [str(uuid.uuid4())])
    with socket.socket(socket.AF_INET6) as probe:
        probe.bind(("::1", 0))
        port = int(probe.getsockname()[1])

    def feed() -> None:
        _answering(port, "::1")
        _stop_serving(signal.SIGTERM)

    done = _serving_here(journal, port, fake.public_key, feed, "--host", "::1")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"listening on http://[::1]:{port}/webhooks/telnyx (journal {journal}); Ctrl-C stops\n"
