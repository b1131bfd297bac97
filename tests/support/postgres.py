"""A real PostgreSQL server for the tests: the machine's own (`initdb` and `postgres` of PostgreSQL
15 or later), made in a temporary directory, run as an unprivileged user, on 127.0.0.1 at a free port
with its Unix socket in that directory, trust authentication for loopback only; stopped and removed
at the end.

One server per test process (each pytest-xdist worker has its own), made lazily by the first test
that asks for it (`postgres_server`, or `postgres_url` for a fresh database per test) and stopped when
the session ends. It is fast: initdb without fsync, the server with fsync off (a test database
needs no durability across power loss; crash tests kill clients, not the server).

The server is a child of the test process started through `setpriv --pdeathsig KILL`: a test process
killed outright takes its server with it, and the next server made on the machine removes the
directories of servers whose owners are gone (`sweep`).

Where PostgreSQL or psycopg is not installed, the tests that need them are skipped locally, saying
so, and fail when CI is set (CI=true): CI must run them (`unavailable`).

Run as a module, it serves one server in a process of its own (for the test that kills its owner):
`python -m tests.support.postgres serve` prints {"pid", "port", "directory"} as JSON and waits.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import glob
import importlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import pytest

# The user a server runs as when the tests run as root (PostgreSQL refuses to run as root).
UNPRIVILEGED_USER = "nobody"
PREFIX = "telnyx-pg-"
SUPERUSER = "postgres"
# Where Debian's packages put the programs when they are not on PATH.
PACKAGE_DIRS = "/usr/lib/postgresql/*/bin"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
# Settings for a disposable test server: no durability, small memory, loopback only (set in start).
SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "32MB",
    "max_connections": "100",
    "max_wal_size": "256MB",
    "log_min_messages": "warning",
    "dynamic_shared_memory_type": "posix",
}
HBA = (
    "# Written by tests/support/postgres.py: loopback TCP and the socket only, no password.\n"
    "local all all trust\n"
    "host all all 127.0.0.1/32 trust\n"
)


def in_ci() -> bool:
    """Whether CI is set (CI=true, as CI runs .ci/run): the PostgreSQL tests must run there."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> NoReturn:
    """Skip the test, saying why; under CI, fail it instead: a CI run must not pass without them."""
    if in_ci():
        pytest.fail(f"{reason}; CI is set, and CI must run the PostgreSQL tests", pytrace=False)
    pytest.skip(f"{reason}: the PostgreSQL tests are skipped (they fail where CI is set)")


@dataclass(frozen=True, slots=True)
class Programs:
    """The server's programs, from one installation."""

    initdb: Path
    postgres: Path

    def version(self) -> int:
        """The major version, as `postgres --version` prints it ("postgres (PostgreSQL) 15.18 ...")."""
        out = subprocess.run([self.postgres, "--version"], capture_output=True, text=True, check=True).stdout
        found = re.search(r"\(PostgreSQL\) (\d+)", out)
        if found is None:
            raise RuntimeError(f"cannot read the version of {self.postgres}: {out!r}")
        return int(found[1])


def find_programs(path: str | None = None, package_dirs: str = PACKAGE_DIRS) -> Programs | None:
    """initdb and postgres: from PATH (`path`, default $PATH), else the newest of `package_dirs`;
    None if there are none. A link on PATH (/usr/local/bin/initdb) is followed to its directory,
    where postgres is too."""
    found = shutil.which("initdb", path=path)
    candidates = [Path(os.path.realpath(found)).parent] if found else []
    candidates += [Path(d) for d in sorted(glob.glob(package_dirs), key=_version_key, reverse=True)]
    for directory in candidates:
        initdb, postgres = directory / "initdb", directory / "postgres"
        if os.access(initdb, os.X_OK) and os.access(postgres, os.X_OK):
            return Programs(initdb, postgres)
    return None


def _version_key(directory: str) -> int:
    name = Path(directory).parent.name
    return int(name) if name.isdigit() else 0


def require_programs() -> Programs:
    programs = find_programs()
    if programs is None:
        unavailable(f"PostgreSQL is not installed (no initdb on PATH or in {PACKAGE_DIRS})")
    return programs


def require_psycopg(name: str = "psycopg") -> ModuleType:
    """psycopg 3 (the `postgres` extra), or the test skipped (failed under CI)."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        unavailable(f"{name} is not installed ({exc}); pip install 'telnyx-messages[postgres]'")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie, dead and not reaped yet, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc: kill(0) said it is there
    return state not in ("Z", "X")


def sweep(base: str | None = None) -> list[Path]:
    """Remove the directories of servers whose owner process is gone (killed before it could stop
    its server; the server died with it); the directories removed."""
    removed = []
    for directory in Path(base or tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            owner = int((directory / "owner.pid").read_text())
        except (OSError, ValueError):
            continue
        if alive(owner):
            continue
        postmaster = _postmaster_pid(directory / "data")
        if postmaster is not None and alive(postmaster):
            continue
        shutil.rmtree(directory, ignore_errors=True)
        removed.append(directory)
    return removed


def _postmaster_pid(data: Path) -> int | None:
    try:
        return int((data / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


class PostgresServer:
    """One server: `start()` makes and starts it, `stop()` stops it and removes its directory.
    `url` reaches the `postgres` database as the superuser over loopback TCP; `database_url(name)`
    another database."""

    def __init__(self, programs: Programs, *, user: str = UNPRIVILEGED_USER) -> None:
        self.programs = programs
        self.user = user
        self.directory: Path | None = None
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def data(self) -> Path:
        assert self.directory is not None, "the server is not started"
        return self.directory / "data"

    @property
    def socket_directory(self) -> Path:
        assert self.directory is not None, "the server is not started"
        return self.directory

    @property
    def pid(self) -> int:
        assert self.process is not None, "the server is not started"
        return self.process.pid

    @property
    def url(self) -> str:
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{name}"

    def _as_user(self) -> tuple[list[str], int, int]:
        """The command prefix that runs a program as the server's user (nothing when not root)."""
        if os.geteuid() != 0:
            return [], os.getuid(), os.getgid()
        entry = pwd.getpwnam(self.user)
        prefix = [
            "setpriv",
            f"--reuid={entry.pw_uid}",
            f"--regid={entry.pw_gid}",
            "--clear-groups",
        ]
        return prefix, entry.pw_uid, entry.pw_gid

    def start(self) -> PostgresServer:
        sweep()
        prefix, uid, gid = self._as_user()
        self.directory = Path(tempfile.mkdtemp(prefix=PREFIX))
        (self.directory / "owner.pid").write_text(str(os.getpid()))
        os.chown(self.directory, uid, gid)
        try:
            environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "HOME": str(self.directory)}
            subprocess.run(
                [
                    *prefix,
                    self.programs.initdb,
                    f"--pgdata={self.data}",
                    f"--username={SUPERUSER}",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                    "--no-instructions",
                ],
                env=environment,
                capture_output=True,
                check=True,
                cwd=self.directory,
            )
            (self.data / "pg_hba.conf").write_text(HBA)
            for _attempt in range(3):
                if self._run(prefix, environment):
                    return self
            raise RuntimeError(f"PostgreSQL did not start: {self._log_tail()}")
        except BaseException as exc:
            if isinstance(exc, subprocess.CalledProcessError):
                detail = (exc.stderr or b"").decode(errors="replace")
                self.stop()
                raise RuntimeError(f"initdb failed ({exc.returncode}): {detail}") from None
            self.stop()
            raise

    def _run(self, prefix: list[str], environment: dict[str, str]) -> bool:
        """Start the server at a free port; False if the port was taken meanwhile."""
        self.port = free_port()
        settings = {
            **SETTINGS,
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_directory),
        }
        options = [item for name, value in settings.items() for item in ("-c", f"{name}={value}")]
        log = open(self.socket_directory / "server.log", "ab")  # noqa: SIM115 (the child holds it)
        with log:
            self.process = subprocess.Popen(
                [*(prefix or ["setpriv"]), "--pdeathsig=KILL", self.programs.postgres, "-D", self.data, *options],
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=self.directory,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                if "could not bind" in self._log_tail() or "already in use" in self._log_tail():
                    return False
                raise RuntimeError(f"PostgreSQL exited at start: {self._log_tail()}")
            if self._ready():
                return True
            time.sleep(0.02)
        raise RuntimeError(f"PostgreSQL did not become ready in {START_TIMEOUT} s: {self._log_tail()}")

    def _ready(self) -> bool:
        """The server's own word (postmaster.pid's status line, as pg_ctl reads it): ready."""
        try:
            lines = (self.data / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[7].strip() == "ready"

    def _log_tail(self) -> str:
        try:
            return (self.socket_directory / "server.log").read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Stop the server (an immediate shutdown, SIGQUIT: its data is thrown away, so nothing is
        checkpointed; SIGKILL if it takes too long) and remove its directory. Idempotent."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGQUIT)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        directory, self.directory = self.directory, None
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- the one server of this process ---------------------------------------------------------------

_SHARED: list[PostgresServer] = []


def shared_server() -> PostgresServer:
    """This process's server, started on first use (skipped, or failed under CI, where PostgreSQL
    is not installed), stopped when the session ends or at the latest when the process exits."""
    if not _SHARED:
        server = PostgresServer(require_programs()).start()
        _SHARED.append(server)
        atexit.register(stop_shared)
    return _SHARED[0]


def stop_shared() -> None:
    while _SHARED:
        _SHARED.pop().stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The test process's PostgreSQL server (one for the session, made by the first test asking)."""
    yield shared_server()
    stop_shared()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database on the shared server, dropped after the test: its URL. Needs psycopg."""
    psycopg = require_psycopg()
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server.url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield postgres_server.database_url(name)
    with psycopg.connect(postgres_server.url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def listening(port: int) -> list[str]:
    """The local addresses a TCP socket listens on at `port`, as /proc/net/tcp and tcp6 list them
    ("127.0.0.1", "0.0.0.0", "::", ...)."""
    found = []
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if fields[3] != "0A" or int(port_hex, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)
            # The kernel writes each 32-bit word in host (little-endian) order.
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.append(socket.inet_ntop(family, words))
    return found


def refuses(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a TCP connection to host:port is refused (nothing listens there)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(2.0)
        try:
            probe.connect((host, port))
        except OSError as exc:
            return exc.errno == errno.ECONNREFUSED
        return False


def main() -> None:
    if sys.argv[1:] != ["serve"]:
        raise SystemExit("usage: python -m tests.support.postgres serve")
    programs = find_programs()
    if programs is None:
        raise SystemExit("PostgreSQL is not installed")
    server = PostgresServer(programs).start()
    print(json.dumps({"pid": server.pid, "port": server.port, "directory": str(server.directory)}), flush=True)
    sys.stdin.read()  # until the test closes stdin (or kills this process)
    server.stop()


if __name__ == "__main__":
    main()
