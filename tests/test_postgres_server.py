"""The tests' PostgreSQL server (tests/support/postgres.py): it starts, answers, listens on loopback
only, runs unprivileged, is stopped and removed afterwards (and dies with a test process killed
outright); where PostgreSQL or psycopg is missing, its tests are skipped locally and fail under CI."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .support import ROOT
from .support.postgres import (
    PREFIX,
    PostgresServer,
    alive,
    find_programs,
    in_ci,
    listening,
    postgres_server,
    refuses,
    require_programs,
    require_psycopg,
    sweep,
    unavailable,
)

__all__ = ["postgres_server"]  # the fixture, used by the tests below


def _uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid line for process {pid}")


def _gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_server_answers_queries(postgres_server: PostgresServer) -> None:
    psycopg = require_psycopg()
    with psycopg.connect(postgres_server.url) as db:
        version = db.execute("SHOW server_version_num").fetchone()[0]
        assert int(version) >= 150000
        assert db.execute("SELECT 6 * 7").fetchone()[0] == 42
        # fsync off: a disposable server, fast.
        assert db.execute("SHOW fsync").fetchone()[0] == "off"


def test_server_listens_on_loopback_only(postgres_server: PostgresServer) -> None:
    psycopg = require_psycopg()
    assert listening(postgres_server.port) == ["127.0.0.1"]
    with psycopg.connect(postgres_server.url) as db:
        assert db.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"
        assert db.execute("SHOW unix_socket_directories").fetchone()[0] == str(postgres_server.socket_directory)
        # No password: trust, and only for the socket and 127.0.0.1 (pg_hba.conf as the server read it).
        rules = db.execute("SELECT type, address, auth_method FROM pg_hba_file_rules ORDER BY line_number").fetchall()
    assert rules == [("local", None, "trust"), ("host", "127.0.0.1", "trust")]
    # The socket in the server's own directory answers too.
    with psycopg.connect(host=str(postgres_server.socket_directory), port=postgres_server.port, user="postgres") as db:
        assert db.execute("SELECT current_user").fetchone()[0] == "postgres"


def test_server_runs_unprivileged(postgres_server: PostgresServer) -> None:
    assert _uid(postgres_server.pid) != 0
    assert postgres_server.data.stat().st_uid == _uid(postgres_server.pid)


def test_server_is_stopped_and_removed() -> None:
    server = PostgresServer(require_programs()).start()
    pid, port, directory = server.pid, server.port, server.directory
    assert directory is not None and directory.name.startswith(PREFIX)
    assert listening(port) == ["127.0.0.1"]
    server.stop()
    assert _gone(pid, 5.0)
    assert refuses(port)
    assert not directory.exists()
    server.stop()  # a second stop does nothing


def test_server_dies_with_a_killed_test_process() -> None:
    """A test process killed outright (SIGKILL: no teardown) takes its server with it; the next
    server's start removes what it left."""
    require_programs()
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.support.postgres", "serve"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        started = json.loads(child.stdout.readline())
        assert listening(started["port"]) == ["127.0.0.1"]
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        assert _gone(started["pid"], 10.0), "the server outlived the process that started it"
        # (Its port is not checked again: another test process may listen on it the moment it is free,
        # as a fresh-clone CI run with three workers saw.)
        directory = Path(started["directory"])
        assert directory.exists()
        assert directory in sweep(str(directory.parent))
        assert not directory.exists()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_sweep_leaves_a_live_owners_server(postgres_server: PostgresServer) -> None:
    assert postgres_server.directory is not None
    assert postgres_server.directory not in sweep(str(postgres_server.directory.parent))
    assert postgres_server.directory.exists()


def test_programs_are_found_on_path_or_in_the_package_directory(tmp_path: Path) -> None:
    found = require_programs()
    assert found.version() >= 15
    assert found.postgres.parent == found.initdb.parent
    # Not on PATH: the package directory (Debian's /usr/lib/postgresql/N/bin).
    assert find_programs(path=str(tmp_path), package_dirs=str(found.initdb.parent)) == found
    # Neither: none.
    assert find_programs(path=str(tmp_path), package_dirs=str(tmp_path / "none" / "*")) is None


def test_missing_postgres_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert not in_ci()
    with pytest.raises(pytest.skip.Exception, match=r"PostgreSQL is not installed.*skipped"):
        unavailable("PostgreSQL is not installed")
    with pytest.raises(pytest.skip.Exception, match="no_such_psycopg is not installed"):
        require_psycopg("no_such_psycopg")


@pytest.mark.parametrize("value", ["true", "1", "yes"])
def test_missing_postgres_fails_under_ci(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    assert in_ci()
    with pytest.raises(pytest.fail.Exception, match="PostgreSQL is not installed; CI is set"):
        unavailable("PostgreSQL is not installed")
    with pytest.raises(pytest.fail.Exception, match="no_such_psycopg is not installed"):
        require_psycopg("no_such_psycopg")


@pytest.mark.parametrize("value", ["", "false", "0"])
def test_ci_unset_by_false_values(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    assert not in_ci()
    with pytest.raises(pytest.skip.Exception):
        unavailable("PostgreSQL is not installed")
