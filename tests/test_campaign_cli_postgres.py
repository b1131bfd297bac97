"""`telnyx-messages campaign` (send, status, export, receive) on a PostgreSQL journal: `--journal
postgresql://...` (or postgres://) with the campaign's `--name`, against the machine's PostgreSQL server
started by the tests (tests/support/postgres.py: skipped where PostgreSQL or psycopg is missing, failed
there under CI) and loopback servers; in this process through cli.main, and in a process of its own.

The URLs carry a password (the test server trusts loopback, so any password connects): it never
appears in what a command prints."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from telnyx_messages import _campaign_cli, _journals
from telnyx_messages._postgres import PostgresJournal
from telnyx_messages.receiver import Receiver
from telnyx_messages.testing import FakeTelnyx

from .support import API_KEY, ROOT
from .support.loopback import serving
from .support.postgres import postgres_server, postgres_url
from .support.server import LoopbackServer, Reply
from .test_campaign_cli import CHILD, SENDER, error, message, numbered, scripted, write_rows
from .test_campaign_receive import KEY, _answering, _free_port, environment, post, receipt
from .test_cli import Ran, run

__all__ = ["postgres_server", "postgres_url"]  # the fixtures, used by the tests below

PASSWORD = "Pw-7f3c9d1e-never-shown"
COUNTS = ("rows", "accepted", "pending", "failed", "unknown")

server = pytest.fixture(serving)


@pytest.fixture
def url(postgres_url: str) -> str:
    """The test's database, as a URL with a password in it."""
    scheme, rest = postgres_url.split("://", 1)
    user, host = rest.split("@", 1)
    return f"{scheme}://{user}:{PASSWORD}@{host}"


def hidden(url: str) -> str:
    """The URL as the commands show it."""
    return url.replace(f":{PASSWORD}@", ":***@")


def send(rows: Path, url: str, name: str | None, base_url: str, *extra: str) -> Ran:
    named = [] if name is None else ["--name", name]
    return run(
        "campaign", "send", str(rows), "--journal", url, *named, "--from", SENDER, "--text", "Hi {name}",
        "--api-key", API_KEY, "--base-url", base_url, *extra,
    )  # fmt: skip


def status_of(url: str, name: str) -> dict[str, Any]:
    result = run("campaign", "status", url, "--name", name, "--json")
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def exported(url: str, name: str) -> list[dict[str, str]]:
    result = run("campaign", "export", url, "--name", name)
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


def by_number(body: dict[str, Any], n: int) -> Reply:
    """Row r-k accepted as message(k) (its text is "Hi nk")."""
    return Reply(200, message(int(body["text"][4:])))


# --- send, status, export ----------------------------------------------------------------------------


def test_a_campaign_sent_on_a_postgresql_journal_by_its_name_is_sent_once_and_shown_by_status_and_export(
    tmp_path: Path, server: LoopbackServer, url: str
) -> None:
    server.default = scripted(by_number)
    rows = numbered(tmp_path / "rows.csv", 5)
    result = send(rows, url, "reminders", server.base_url, "--rate", "inf")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("5 rows: 5 accepted, 0 failed, 0 pending, 0 unknown")
    assert PASSWORD not in result.stdout + result.stderr
    assert sorted(r.json()["text"] for r in server.received) == [f"Hi n{n}" for n in range(5)]
    again = send(rows, url, "reminders", server.base_url, "--rate", "inf")
    assert again.returncode == 0 and len(server.received) == 5  # nothing sent again
    with PostgresJournal(url, "reminders") as journal:  # the rows are in the database, by the campaign's name
        assert journal.campaign() is not None
        assert [row.identity for row in journal.rows()] == [f"r-{n}" for n in range(5)]
        assert {row.idempotency_key for row in journal.rows()} == {
            r.headers["Idempotency-Key"] for r in server.received
        }
    document = status_of(url, "reminders")
    assert {name: document[name] for name in COUNTS} == {
        "rows": 5,
        "accepted": 5,
        "pending": 0,
        "failed": 0,
        "unknown": 0,
    }
    assert document["name"] == "reminders" and document["delivery"] == {}
    assert all(type(document[name]) is int for name in COUNTS)
    assert document["parameters"]["rate"] == "inf"
    text = run("campaign", "status", url, "--name", "reminders")
    assert text.returncode == 0
    assert text.stdout.splitlines()[0] == f"campaign  {document['campaign_id']} (reminders)"
    assert text.stdout.splitlines()[2:] == [
        "rows      5",
        "accepted  5",
        "pending   0",
        "failed    0",
        "unknown   0",
        "delivery  none recorded (telnyx-messages campaign receive records them)",
    ]
    table = exported(url, "reminders")
    assert list(table[0]) == list(_campaign_cli.EXPORT_COLUMNS)
    assert [row["id"] for row in table] == [f"r-{n}" for n in range(5)]
    assert [row["message_id"] for row in table] == [message(n)["data"]["id"] for n in range(5)]
    assert [row["wait_seconds"] for row in table] == [str(n / 10) for n in range(5)]
    assert [row["to"] for row in table] == [f"+1312{n:07d}" for n in range(5)]
    assert {(row["state"], row["from"], row["attempts"], row["delivery_status"]) for row in table} == {
        ("accepted", SENDER, "1", "")
    }
    assert all(row["first_attempt_at"].endswith("+00:00") for row in table)
    assert all(row["last_attempt_at"] == row["first_attempt_at"] for row in table)  # one attempt each
    assert {row["idempotency_key"] for row in table} == {r.headers["Idempotency-Key"] for r in server.received}
    postgres_scheme = "postgres://" + url.split("://", 1)[1]  # the other scheme names the same database
    assert status_of(postgres_scheme, "reminders")["campaign_id"] == document["campaign_id"]


def test_two_campaigns_in_one_database_are_each_their_own_with_their_own_deliveries(
    tmp_path: Path, server: LoopbackServer, url: str
) -> None:
    def answer(body: dict[str, Any], n: int) -> Reply:
        number = int(body["text"][4:])
        return error(422, "40310") if number == 4 else Reply(200, message(number))

    server.default = scripted(answer)
    first = numbered(tmp_path / "first.csv", 3)  # r-0..r-2, messages 0..2
    second = write_rows(
        tmp_path / "second.csv", ["id", "to", "name"], [[f"s-{n}", f"+1312{n:07d}", f"n{n}"] for n in (3, 4)]
    )
    assert send(first, url, "first", server.base_url, "--rate", "inf").returncode == 0
    failed = send(second, url, "second", server.base_url, "--rate", "inf")
    assert failed.returncode == 1
    # What to run next names the campaign, and the URL without its password.
    assert f"1 rows failed: see telnyx-messages campaign export {hidden(url)} --name second" in failed.stderr
    assert PASSWORD not in failed.stdout + failed.stderr
    ids = [message(n)["data"]["id"] for n in range(5)]
    fake = FakeTelnyx()
    events = [
        receipt(fake, ids[0], "+13120000000", "sent"),
        receipt(fake, ids[0], "+13120000000", "delivered"),
        receipt(fake, ids[1], "+13120000001", "delivery_failed", ("40008", "40300")),
        receipt(fake, ids[3], "+13120000003", "delivered"),
        receipt(fake, "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e", "+13120000001", "delivered"),  # of no row
    ]
    with Receiver(url, public_key=fake.public_key) as receiver:
        assert all(receiver.receive(*event).new for event in events)
    first_status, second_status = status_of(url, "first"), status_of(url, "second")
    assert first_status["delivery"] == {"delivered": 1, "delivery_failed": 1}
    assert list(first_status["delivery"]) == ["delivered", "delivery_failed"]  # the API's order
    assert {name: second_status[name] for name in COUNTS} == {
        "rows": 2,
        "accepted": 1,
        "pending": 0,
        "failed": 1,
        "unknown": 0,
    }
    assert second_status["delivery"] == {"delivered": 1}
    assert first_status["campaign_id"] != second_status["campaign_id"]
    text = run("campaign", "status", url, "--name", "first")
    assert text.stdout.splitlines()[-1] == "delivery  1 delivered, 1 delivery_failed"
    table = exported(url, "first")
    assert [(row["id"], row["delivery_status"], row["delivery_error_codes"]) for row in table] == [
        ("r-0", "delivered", ""),
        ("r-1", "delivery_failed", "40008,40300"),
        ("r-2", "", ""),
    ]
    assert [error["code"] for error in json.loads(table[1]["delivery_errors"])] == ["40008", "40300"]
    assert table[0]["delivery_occurred_at"] != "" and table[2]["delivery_occurred_at"] == ""
    assert table[0]["delivery_errors"] == "" and table[2]["delivery_errors"] == ""
    second_table = exported(url, "second")
    assert [(row["id"], row["state"], row["error_code"], row["delivery_status"]) for row in second_table] == [
        ("s-3", "accepted", "", "delivered"),
        ("s-4", "failed", "40310", ""),
    ]
    assert second_table[0]["error_detail"] == "" and "error 40310" in second_table[1]["error_detail"]


def test_a_row_s_delivery_is_its_recipient_s_or_its_message_s_only_one(
    tmp_path: Path, server: LoopbackServer, url: str
) -> None:
    # Telnyx may write a recipient otherwise than the row did: a message's one delivery is the row's.
    server.default = scripted(by_number)
    rows = write_rows(
        tmp_path / "rows.csv", ["id", "to", "name"], [["a", "+13120000000", "n0"], ["b", "+13120000001", "n1"]]
    )
    assert send(rows, url, "reminders", server.base_url, "--rate", "inf").returncode == 0
    ids = [message(n)["data"]["id"] for n in range(2)]
    fake = FakeTelnyx()
    events = [
        receipt(fake, ids[0], "+13129999999", "delivered"),  # message 0's one delivery, to another
        receipt(fake, ids[1], "+13125550000", "sent"),  # message 1 to another recipient as well
        receipt(fake, ids[1], "+13120000001", "delivery_failed", ("40008",)),
    ]
    with Receiver(url, public_key=fake.public_key) as receiver:
        assert all(receiver.receive(*event).new for event in events)
    assert [(row["id"], row["delivery_status"]) for row in exported(url, "reminders")] == [
        ("a", "delivered"),
        ("b", "delivery_failed"),
    ]
    # Recipients, a message once: message 1's two recipients count.
    assert status_of(url, "reminders")["delivery"] == {"sent": 1, "delivered": 1, "delivery_failed": 1}


def test_status_and_export_run_in_a_process_of_their_own(tmp_path: Path, server: LoopbackServer, url: str) -> None:
    server.default = scripted(by_number)
    assert send(numbered(tmp_path / "rows.csv", 3), url, "reminders", server.base_url).returncode == 0
    for command in (["status", url, "--name", "reminders", "--json"], ["export", url, "--name", "reminders"]):
        done = subprocess.run([*CHILD, "campaign", *command], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stderr == "" and PASSWORD not in done.stdout
        if command[0] == "status":
            assert json.loads(done.stdout)["accepted"] == 3
        else:
            assert [row["id"] for row in csv.DictReader(io.StringIO(done.stdout))] == ["r-0", "r-1", "r-2"]
    missing = subprocess.run(
        [*CHILD, "campaign", "status", url, "--name", "other"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 3 and missing.stdout == ""
    assert missing.stderr == f"telnyx-messages: JournalError: {hidden(url)} holds no campaign 'other'\n"


def test_an_sqlite_journal_records_the_name_and_refuses_another(tmp_path: Path, server: LoopbackServer) -> None:
    server.default = scripted(by_number)
    rows, journal = numbered(tmp_path / "rows.csv", 2), str(tmp_path / "run.db")
    assert send(rows, journal, "reminders", server.base_url).returncode == 0
    assert status_of(journal, "reminders")["name"] == "reminders"
    unnamed = run("campaign", "status", journal, "--json")
    assert unnamed.returncode == 0 and json.loads(unnamed.stdout)["name"] == "reminders"
    other = send(rows, journal, "other", server.base_url)
    assert other.returncode == 3 and len(server.received) == 2
    assert "is the journal of campaign 'reminders', not 'other'" in other.stderr
    for command in ("status", "export"):
        refused = run("campaign", command, journal, "--name", "other")
        assert refused.returncode == 3 and refused.stdout == ""
        assert refused.stderr == (
            f"telnyx-messages: JournalError: {journal} is the journal of campaign 'reminders', not 'other'\n"
        )


# --- refused ------------------------------------------------------------------------------------------


def _refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed: nothing listens there


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port this test listens on: `receive` getting as far as listening would say so instead."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def _command(command: str, rows: Path, url: str, name: str | None, base_url: str, port: int) -> Ran:
    named = [] if name is None else ["--name", name]
    if command == "send":
        return send(rows, url, name, base_url)
    if command == "receive":
        return run("campaign", "receive", "--journal", url, "--port", str(port), env=environment(TELNYX_PUBLIC_KEY=KEY))
    return run("campaign", command, url, *named)


@pytest.mark.parametrize("command", ["send", "status", "export"])
def test_a_postgresql_journal_without_a_name_is_a_usage_error_and_nothing_is_sent(
    tmp_path: Path, server: LoopbackServer, url: str, command: str
) -> None:
    done = _command(command, numbered(tmp_path / "rows.csv", 2), url, None, server.base_url, 0)
    assert done.returncode == 2 and done.stdout == "" and server.received == []
    assert done.stderr == (
        f"telnyx-messages: campaign {command}: {hidden(url)} holds many campaigns: name this one with --name NAME\n"
    )


@pytest.mark.parametrize("command", ["status", "export"])
def test_a_campaign_name_the_database_does_not_hold_is_refused(
    tmp_path: Path, server: LoopbackServer, url: str, command: str
) -> None:
    server.default = scripted(by_number)
    assert send(numbered(tmp_path / "rows.csv", 1), url, "reminders", server.base_url).returncode == 0
    done = run("campaign", command, url, "--name", "remindres")
    assert done.returncode == 3 and done.stdout == ""
    assert done.stderr == f"telnyx-messages: JournalError: {hidden(url)} holds no campaign 'remindres'\n"


@pytest.mark.parametrize("command", ["send", "status", "export", "receive"])
def test_a_url_it_cannot_connect_to_is_refused_in_one_line_without_its_password(
    tmp_path: Path, server: LoopbackServer, held_port: int, command: str
) -> None:
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{_refused_port()}/nowhere"
    done = _command(command, numbered(tmp_path / "rows.csv", 2), url, "reminders", server.base_url, held_port)
    assert done.returncode == 3 and done.stdout == "" and server.received == []
    assert done.stderr.count("\n") == 1 and PASSWORD not in done.stderr
    assert f"{hidden(url)}: cannot connect to PostgreSQL (" in done.stderr
    expected = "StoreError" if command == "receive" else "JournalError"
    assert done.stderr.startswith(f"telnyx-messages: {expected}: "), done.stderr


@pytest.mark.parametrize("command", ["send", "status", "export", "receive"])
def test_without_psycopg_a_postgresql_journal_says_what_to_install(
    tmp_path: Path, server: LoopbackServer, held_port: int, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [name for name in sys.modules if name == "psycopg" or name.startswith("psycopg.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` raises ImportError
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{_refused_port()}/nowhere"
    done = _command(command, numbered(tmp_path / "rows.csv", 2), url, "reminders", server.base_url, held_port)
    assert done.returncode == 3 and done.stdout == "" and server.received == []
    assert done.stderr.count("\n") == 1 and PASSWORD not in done.stderr
    prefix = "campaign receive: " if command == "receive" else ""
    assert done.stderr.startswith(f"telnyx-messages: {prefix}a PostgreSQL journal needs psycopg 3 ("), done.stderr
    assert done.stderr.endswith("): pip install 'telnyx-messages[postgres]'\n"), done.stderr


# --- receive -------------------------------------------------------------------------------------------


def test_receive_records_into_the_postgresql_journal_and_status_shows_it_by_campaign(
    tmp_path: Path, server: LoopbackServer, url: str
) -> None:
    server.default = scripted(by_number)
    assert send(numbered(tmp_path / "rows.csv", 2), url, "reminders", server.base_url).returncode == 0
    ids = [message(n)["data"]["id"] for n in range(2)]
    fake = FakeTelnyx()
    events = [
        receipt(fake, ids[0], "+13120000000", "delivered"),
        receipt(fake, ids[1], "+13120000001", "sent"),
    ]
    port = _free_port()
    answers: list[tuple[int, str]] = []
    failures: list[BaseException] = []

    def feed() -> None:
        try:
            _answering(port)
        except BaseException as exc:  # shown below; not listening, so no signal to stop it
            failures.append(exc)
            return
        try:
            answers.extend(post(port, "/webhooks/telnyx", *event) for event in [*events, events[0]])
        except BaseException as exc:
            failures.append(exc)
        finally:
            # Ctrl-C: uvicorn's to take, once it answered (a SIGTERM it had not taken would end the tests' process).
            os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=feed)
    thread.start()
    try:
        env = environment(TELNYX_PUBLIC_KEY=FakeTelnyx().public_key)  # another key: the option's wins
        done = run(
            "campaign", "receive", "--journal", url, "--port", str(port), "--public-key", fake.public_key, env=env
        )
    finally:
        thread.join(30)
    assert not failures, failures
    assert done.returncode == 0, done.stderr
    assert answers == [(200, "recorded"), (200, "recorded"), (200, "duplicate: recorded before")]
    assert done.stdout == (
        f"listening on http://127.0.0.1:{port}/webhooks/telnyx (journal {hidden(url)}); Ctrl-C stops\n"
    )
    assert done.stderr == "" and PASSWORD not in done.stdout
    assert status_of(url, "reminders")["delivery"] == {"sent": 1, "delivered": 1}
    assert [(row["id"], row["delivery_status"]) for row in exported(url, "reminders")] == [
        ("r-0", "delivered"),
        ("r-1", "sent"),
    ]


def test_the_options_name_a_postgresql_journal_in_their_help() -> None:
    for command in ("send", "status", "export", "receive"):
        done = run("campaign", command, "--help")
        assert done.returncode == 0
        assert "postgresql://" in " ".join(done.stdout.split()), command
    for command in ("send", "status", "export"):
        assert "--name NAME" in run("campaign", command, "--help").stdout


def test_the_rows_of_a_postgresql_campaign_are_read_a_batch_at_a_time_each_with_its_delivery(
    tmp_path: Path, server: LoopbackServer, url: str
) -> None:
    server.default = scripted(by_number)
    assert send(numbered(tmp_path / "rows.csv", 3), url, "reminders", server.base_url).returncode == 0
    fake = FakeTelnyx()
    with Receiver(url, public_key=fake.public_key) as receiver:
        assert receiver.receive(*receipt(fake, message(1)["data"]["id"], "+13120000001", "delivered")).new
    with _journals.open_existing(url, "reminders") as journal:
        assert isinstance(journal, PostgresJournal)
        rows = _campaign_cli._postgres_rows_delivered(journal)
        first = next(rows)
        # A server-side cursor (DECLAREd, read in batches), not the whole campaign fetched at once.
        cursors = [name for (name,) in journal._db.execute("SELECT name FROM pg_cursors").fetchall()]
        assert [name for name in cursors if name.startswith("delivered_")] != [], cursors
        read = [first, *rows]
    assert [row.seq for row, _ in read] == sorted({row.seq for row, _ in read})  # the campaign's order
    assert [(row.identity, row.attempts, row.error_detail) for row, _ in read] == [
        (f"r-{n}", 1, None) for n in range(3)
    ]
    assert [delivery is None for _, delivery in read] == [True, False, True]  # None: no delivery recorded
    assert read[1][1] is not None and read[1][1].status == "delivered"
    assert all(row.last_attempt_at is not None and row.last_attempt_at.tzinfo is not None for row, _ in read)
