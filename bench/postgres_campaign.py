"""The campaign engine's journals side by side: the same N-row (10,000) unpaced campaign against the
loopback bench server, journaled in SQLite (one sender), in PostgreSQL with one sender process, and in
PostgreSQL with three sender processes sharing the campaign (`Campaign(client, rows,
"postgresql://...", name=...)`: the senders share its rows through the journal).

  journals   each contender a turn, in sender processes of their own (this file, `sender`), turns
             interleaved (SQLite, PostgreSQL x1, PostgreSQL x3, then the reverse order, ...), each
             on a fresh journal (a new SQLite file; a new PostgreSQL database). The senders import
             and make their client first, then all start together: a turn's wall is from the first
             sender's start to the last one's end (CLOCK_MONOTONIC, one clock for every process).
             Rows a second of wall, the senders' CPU and the PostgreSQL server's (its postmaster's
             own and its reaped backends') per row, and the rate's ratio to SQLite's in the same turn.
             Each row accepted exactly once, checked and raised on otherwise: the server counted N
             sends and the journal holds the N rows accepted (N distinct rows accepted, at least one
             send each, N sends in all: one each).

The PostgreSQL server is the machine's own, made and run as tests/support/postgres.py does (initdb
and postgres in a temporary directory, as an unprivileged user, on 127.0.0.1, fsync off), stopped at
the end; where PostgreSQL or psycopg is not installed, its contenders are reported skipped, saying why.

    python bench/postgres_campaign.py sender BASE_URL JOURNAL ROWS NAME AT_ONCE   # one sender (a child)
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from campaign import AT_ONCE, KEY, ROWS, SENDER, TEXT, _recipients  # noqa: E402

NAME = "bench"
SQLITE = f"SQLite, 1 sender x {AT_ONCE}"
# Each contender: its sender processes x the requests each keeps in flight (max_in_flight).
CONTENDERS = {
    SQLITE: (1, AT_ONCE),
    f"PostgreSQL, 1 sender x {AT_ONCE}": (1, AT_ONCE),
    f"PostgreSQL, 3 senders x {AT_ONCE}": (3, AT_ONCE),
}
TICKS = os.sysconf("SC_CLK_TCK")


# --- a sender (the child) ------------------------------------------------------------------------------


async def _send(base_url: str, journal: str, rows: int, name: str, at_once: int) -> dict[str, Any]:
    from telnyx_messages import AsyncTelnyx
    from telnyx_messages.campaign import Campaign

    source = ({"id": n, "to": to, "from": SENDER, "text": TEXT} for n, to in enumerate(_recipients(rows)))
    async with AsyncTelnyx(api_key=KEY, base_url=base_url) as client:
        started, cpu_started = time.monotonic(), time.process_time()
        report = await Campaign(
            client,
            source,
            journal,
            name=name,
            rate=math.inf,
            sender_rate=math.inf,
            max_in_flight=at_once,
            total=rows,
        ).run()
        ended, cpu_ended = time.monotonic(), time.process_time()
    return {
        "started": started,
        "ended": ended,
        "cpu_s": cpu_ended - cpu_started,
        "sent": report.sent,
        "accepted": report.accepted,
        "pending": report.pending,
        "failed": report.failed,
        "unknown": report.unknown,
        "rows": report.rows,
    }


def sender(base_url: str, journal: str, rows: int, name: str, at_once: int) -> None:
    """Imports done, says "ready" and waits for a line on stdin; then runs the campaign and prints its figures."""
    import telnyx_messages.campaign  # noqa: F401 (imported before the start, not timed)

    print("ready", flush=True)
    sys.stdin.readline()
    print(json.dumps(asyncio.run(_send(base_url, journal, rows, name, at_once))), flush=True)


# --- the PostgreSQL server -------------------------------------------------------------------------------


class Database(NamedTuple):
    """The bench's PostgreSQL server: its URL for a database name, and its postmaster's pid."""

    url: str
    postmaster: int

    def database_url(self, database: str) -> str:
        return self.url.rsplit("/", 1)[0] + "/" + database


def unavailable() -> str | None:
    """Why the PostgreSQL contenders cannot run here, or None."""
    sys.path.insert(0, str(ROOT))
    from tests.support.postgres import PACKAGE_DIRS, find_programs

    if find_programs() is None:
        return f"PostgreSQL is not installed (no initdb on PATH or in {PACKAGE_DIRS})"
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not installed (pip install 'telnyx-messages[postgres]')"
    return None


@contextlib.contextmanager
def postgres() -> Iterator[Database]:
    """The machine's PostgreSQL, made and started by tests/support/postgres.py's PostgresServer (a
    temporary directory, an unprivileged user, loopback, fsync off) until the block ends."""
    sys.path.insert(0, str(ROOT))
    from tests.support.postgres import PostgresServer, find_programs

    programs = find_programs()
    if programs is None:
        raise RuntimeError("PostgreSQL is not installed")
    with PostgresServer(programs) as server:
        yield Database(server.url, server.pid)


@contextlib.contextmanager
def fresh_database(server: Database) -> Iterator[str]:
    """A new, empty database on the server for one turn, dropped after it: its URL."""
    import psycopg

    database = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        yield server.database_url(database)
    finally:
        with psycopg.connect(server.url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _connections(postmaster: int) -> int:
    """The postmaster's children that serve a connection, or are gone and not reaped yet (zombies):
    their CPU is not yet in its children's count."""
    found = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            state, parent = stat.read_text().rsplit(")", 1)[1].split()[:2]
            if int(parent) != postmaster:
                continue
            title = (stat.parent / "cmdline").read_bytes()
            found += state == "Z" or b"127.0.0.1(" in title or b"[local]" in title
    return found


def server_cpu(server: Database) -> float:
    """The server's CPU seconds so far: the postmaster's own and its reaped children's (the backends
    of the connections gone, and the workers that ended), once no connection's backend is left."""
    deadline = time.monotonic() + 10
    while _connections(server.postmaster) and time.monotonic() < deadline:
        time.sleep(0.02)
    fields = Path(f"/proc/{server.postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(tick) for tick in fields[11:15]) / TICKS  # utime stime cutime cstime


# --- the turns ----------------------------------------------------------------------------------------------


def _sends_counted(base_url: str) -> int:
    return int(httpx2.get(f"{base_url}/_sends").content)


def turn(base_url: str, journal: str, senders: int, at_once: int, rows: int) -> dict[str, Any]:
    """One turn: `senders` sender processes, started together on one campaign; its figures. Raises
    unless each row was accepted exactly once."""
    env = {k: v for k, v in os.environ.items() if k != "TELNYX_LOG"}
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "sender",
        base_url,
        journal,
        str(rows),
        NAME,
        str(at_once),
    ]
    with tempfile.TemporaryFile() as errors:
        children = [
            subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, text=True, env=env)
            for _ in range(senders)
        ]
        try:
            for child in children:
                assert child.stdout is not None and child.stdin is not None
                if child.stdout.readline().strip() != "ready":
                    raise RuntimeError(f"a sender did not start: {_tail(errors)}")
            before = _sends_counted(base_url)
            for child in children:
                assert child.stdin is not None
                child.stdin.write("go\n")
                child.stdin.flush()
            outputs = [child.communicate(timeout=900)[0] for child in children]
        finally:
            for child in children:
                if child.poll() is None:
                    child.kill()
                    child.wait()
        if any(child.returncode for child in children):
            raise RuntimeError(f"a sender failed ({[c.returncode for c in children]}): {_tail(errors)}")
    counted = _sends_counted(base_url) - before
    results = [json.loads(output.splitlines()[-1]) for output in outputs]
    wall = max(r["ended"] for r in results) - min(r["started"] for r in results)
    # The campaign's counts are the journal's, over every sender: the last to end saw them all.
    last = max(results, key=lambda r: r["ended"])
    # What the journal holds: every row accepted, and the attempts it recorded (those past one: sends
    # that went unanswered, re-sent with the row's key).
    from telnyx_messages.campaign import journal_rows

    held = list(journal_rows(journal, name=NAME))
    cell: dict[str, Any] = {
        "senders": senders,
        "at_once": at_once,
        "wall_s": wall,
        "rows_per_s": rows / wall,
        "client_cpu_us_per_row": sum(r["cpu_s"] for r in results) / rows * 1e6,
        "sent_by_each": [r["sent"] for r in results],
        "accepted": last["accepted"],
        "pending": last["pending"],
        "failed": last["failed"],
        "sends_counted": counted,
        "journal_accepted": sum(row.state == "accepted" for row in held),
        "journal_attempts": sum(row.attempts for row in held),
        "rows_retried": sum(row.attempts > 1 for row in held),
    }
    # N distinct rows accepted in the journal, and N sends counted by the server: one send each.
    cell["each_once"] = counted == rows == len(held) == cell["journal_accepted"] == last["accepted"] and all(
        r["pending"] == r["failed"] == r["unknown"] == 0 for r in results
    )
    if not cell["each_once"]:
        raise RuntimeError(f"not each row accepted exactly once ({rows} rows, {senders} senders): {cell} {results}")
    return cell


def _tail(errors: Any) -> str:
    errors.seek(0)
    text: str = errors.read().decode(errors="replace")
    return text[-3000:]


def run(base_url: str, rows: int = ROWS, turns: int = 2) -> dict[str, Any]:
    """`turns` turns of each contender, interleaved, the order reversed each turn; medians and ratios to SQLite's."""
    skipped = unavailable()
    contenders = {SQLITE: CONTENDERS[SQLITE]} if skipped else dict(CONTENDERS)
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in contenders}
    with tempfile.TemporaryDirectory() as scratch, contextlib.ExitStack() as stack:
        server = None if skipped else stack.enter_context(postgres())
        for number in range(turns):
            for name in list(contenders) if number % 2 == 0 else list(reversed(contenders)):
                if server is None or name == SQLITE:
                    samples[name].append(turn(base_url, str(Path(scratch) / f"{number}.db"), *contenders[name], rows))
                    continue
                with fresh_database(server) as url:
                    cpu = server_cpu(server)
                    cell = turn(base_url, url, *contenders[name], rows)
                    cell["server_cpu_us_per_row"] = (server_cpu(server) - cpu) / rows * 1e6
                samples[name].append(cell)
    results: dict[str, Any] = {"rows": rows, "turns": samples}
    floor = statistics.median(cell["rows_per_s"] for cell in samples[SQLITE])
    floor_cpu = statistics.median(cell["client_cpu_us_per_row"] for cell in samples[SQLITE])
    for name, cells in samples.items():
        rate = statistics.median(cell["rows_per_s"] for cell in cells)
        cpu = statistics.median(cell["client_cpu_us_per_row"] for cell in cells)
        results[name] = {
            "rows_per_s": rate,
            "ratio": rate / floor,
            # Each turn's figure against SQLite's in the same turn: the side-by-side ratios.
            "turn_ratios": [
                cell["rows_per_s"] / s["rows_per_s"] for cell, s in zip(cells, samples[SQLITE], strict=True)
            ],
            "client_cpu_us_per_row": cpu,
            "client_cpu_ratio": cpu / floor_cpu,
        }
        if "server_cpu_us_per_row" in cells[0]:
            results[name]["server_cpu_us_per_row"] = statistics.median(c["server_cpu_us_per_row"] for c in cells)
    for name in CONTENDERS:
        if name not in contenders:
            results[name] = {"skipped": skipped}
    results["each_once"] = all(cell["each_once"] for cells in samples.values() for cell in cells)
    return results


def report(results: dict[str, Any]) -> list[str]:
    lines = [
        f"campaign journals: {results['rows']:,} rows, unpaced, senders x requests at once each, the sender"
        " processes started together, turns interleaved (rows/s of wall, x SQLite's in the same turn; CPU a row;"
        " rows re-sent with their key after an unanswered attempt):"
    ]
    for name in CONTENDERS:
        summary = results[name]
        if "skipped" in summary:
            lines.append(f"  {name:<28} skipped: {summary['skipped']}")
            continue
        for number, cell in enumerate(results["turns"][name], 1):
            server = cell.get("server_cpu_us_per_row")
            lines.append(
                f"  {name:<28} turn {number}  {cell['wall_s']:6.2f} s  {cell['rows_per_s']:6.0f} rows/s"
                f"  x{summary['turn_ratios'][number - 1]:.2f}  senders' CPU {cell['client_cpu_us_per_row']:5.0f} us/row"
                + ("" if server is None else f"  server's CPU {server:5.0f} us/row")
                + f"  sent {'+'.join(map(str, cell['sent_by_each']))}, counted by the server {cell['sends_counted']}"
                + f", re-sent {cell['rows_retried']}"
            )
    for name in CONTENDERS:
        summary = results[name]
        if "skipped" not in summary:
            server = summary.get("server_cpu_us_per_row")
            lines.append(
                f"  median {name:<28} {summary['rows_per_s']:6.0f} rows/s  x{summary['ratio']:.2f}"
                f"  senders' CPU x{summary['client_cpu_ratio']:.2f}"
                + ("" if server is None else f"  server's CPU {server:.0f} us/row")
            )
    lines.append(f"  each row accepted exactly once: {results['each_once']}")
    return lines


if __name__ == "__main__":
    if sys.argv[1:2] != ["sender"] or len(sys.argv) != 7:
        raise SystemExit("usage: python bench/postgres_campaign.py sender BASE_URL JOURNAL ROWS NAME AT_ONCE")
    sender(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], int(sys.argv[6]))
