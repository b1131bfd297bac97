"""`telnyx-messages campaign` (send, status, export) against real loopback servers: in this process
through cli.main, and in a process of its own for Ctrl-C, SIGKILL and a terminal's progress bar."""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime
import io
import json
import math
import os
import pty
import random
import re
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from telnyx_messages import _campaign_cli, cli
from telnyx_messages.receiver import DELIVERY_STATUSES, Receiver
from telnyx_messages.testing import FakeTelnyx

from .support import API_KEY
from .support.edge import EdgeServer
from .support.loopback import serving
from .support.server import LoopbackServer, Received, Reply
from .test_campaign import assert_the_kills_landed_midway, killed_at_random_points, until
from .test_campaign_receive import COMMAND, forked, receipt
from .test_cli import Ran, run

SENDER = "+18445550001"
CHILD = [sys.executable, "-m", "tests.support.campaign_cli_child"]  # (as a command line: the PostgreSQL tests)


def write_rows(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def numbered(path: Path, count: int) -> Path:
    """`count` rows with ids r-0..., recipients and names of their own (texts "Hi n0", ...)."""
    return write_rows(path, ["id", "to", "name"], [[f"r-{n}", f"+1312{n:07d}", f"n{n}"] for n in range(count)])


def send(rows: Path, journal: Path, base_url: str, *extra: str) -> Ran:
    return run(
        "campaign", "send", str(rows), "--journal", str(journal), "--from", SENDER, "--text", "Hi {name}",
        "--api-key", API_KEY, "--base-url", base_url, *extra,
    )  # fmt: skip


def status_of(journal: Path) -> dict[str, Any]:
    result = run("campaign", "status", str(journal), "--json")
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def exported(journal: Path) -> list[dict[str, str]]:
    result = run("campaign", "export", str(journal))
    assert result.returncode == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


def message(n: int) -> dict[str, Any]:
    return {"data": {"id": f"00000000-0000-4000-8000-{n:012d}", "type": "SMS", "wait_seconds": n / 10}}


def scripted(answer: Callable[[dict[str, Any], int], Reply]) -> Callable[[Received], Reply]:
    """A LoopbackServer default that answers each send by its body and its place (0 = the first)."""
    count = iter(range(10**9))

    def reply(received: Received) -> Reply:
        return answer(received.json(), next(count))

    return reply


def ok(n: int) -> Reply:
    return Reply(200, message(n))


def error(status_code: int, code: str) -> Reply:
    return Reply(status_code, {"errors": [{"code": code, "title": "refused", "detail": f"error {code}"}]})


server = pytest.fixture(serving)


# --- sending --------------------------------------------------------------------------------------


def test_each_row_is_sent_once_with_its_columns_and_template_and_a_rerun_sends_none(
    tmp_path: Path, server: LoopbackServer
) -> None:
    server.default = scripted(lambda body, n: Reply(200, message(n)))
    rows = write_rows(
        tmp_path / "rows.csv",
        ["id", "to", "name", "code", "media_urls", "subject", "from", "use_profile_webhooks"],
        [
            ["a", "+13125550001", "Ann", "11", "", "", "", ""],
            ["b", "+13125550002", "Bob", "22", "https://e.com/1.png https://e.com/2.png", "Hello", "", "false"],
            ["", "+13125550003", "Cy", "33", "", "", "+18445550009", "true"],
        ],
    )
    journal = tmp_path / "run.db"
    args = ["--text", "Hi {name}, code {code}", "--api-key", API_KEY, "--base-url", server.base_url]
    result = run("campaign", "send", str(rows), "--journal", str(journal), "--from", SENDER, *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("3 rows: 3 accepted, 0 failed, 0 pending, 0 unknown")
    bodies = sorted((r.json() for r in server.received), key=lambda body: body["to"])
    assert bodies == [
        {"to": "+13125550001", "from": SENDER, "text": "Hi Ann, code 11"},
        {
            "to": "+13125550002",
            "from": SENDER,
            "text": "Hi Bob, code 22",
            "media_urls": ["https://e.com/1.png", "https://e.com/2.png"],
            "subject": "Hello",
            "use_profile_webhooks": False,
        },
        {"to": "+13125550003", "from": "+18445550009", "text": "Hi Cy, code 33", "use_profile_webhooks": True},
    ]
    keys = {r.headers["Idempotency-Key"] for r in server.received}
    assert len(keys) == 3
    rerun = run("campaign", "send", str(rows), "--journal", str(journal), "--from", SENDER, *args)
    assert rerun.returncode == 0 and len(server.received) == 3  # nothing sent again
    counts = status_of(journal)
    assert {name: counts[name] for name in ("rows", "accepted", "pending", "failed", "unknown")} == {
        "rows": 3,
        "accepted": 3,
        "pending": 0,
        "failed": 0,
        "unknown": 0,
    }
    table = exported(journal)
    assert [row["id"] for row in table[:2]] == ["a", "b"] and table[2]["id"].startswith("sha256:")
    assert {row["state"] for row in table} == {"accepted"}
    assert {row["idempotency_key"] for row in table} == keys
    assert sorted(row["message_id"] for row in table) == [message(n)["data"]["id"] for n in range(3)]
    assert {row["to"]: row["from"] for row in table}["+13125550003"] == "+18445550009"


def test_a_messaging_profile_sends_rows_without_a_sender(tmp_path: Path, server: LoopbackServer) -> None:
    server.default = scripted(lambda body, n: Reply(200, message(n)))
    rows = write_rows(tmp_path / "rows.csv", ["to", "text"], [["+13125550001", "one"], ["+13125550002", "two"]])
    base = ["--api-key", API_KEY, "--base-url", server.base_url]
    result = run(
        "campaign", "send", str(rows), "--journal", str(tmp_path / "run.db"), "--messaging-profile-id", "p-1", *base
    )
    assert result.returncode == 0, result.stderr
    assert sorted((r.json()["text"], r.json()["messaging_profile_id"]) for r in server.received) == [
        ("one", "p-1"),
        ("two", "p-1"),
    ]
    assert "from" not in server.received[0].json()


def test_from_and_a_messaging_profile_are_one_or_the_other(tmp_path: Path) -> None:
    rows = numbered(tmp_path / "rows.csv", 1)
    result = run(
        "campaign", "send", str(rows), "--journal", str(tmp_path / "run.db"),
        "--from", SENDER, "--messaging-profile-id", "p-1", "--text", "x",
    )  # fmt: skip
    assert result.returncode == 2 and "not allowed with argument" in result.stderr


def test_the_key_and_base_url_come_from_the_environment(tmp_path: Path, server: LoopbackServer) -> None:
    server.default = scripted(lambda body, n: Reply(200, message(n)))
    rows = numbered(tmp_path / "rows.csv", 2)
    environment = {"TELNYX_API_KEY": API_KEY, "TELNYX_BASE_URL": server.base_url, "PATH": "/usr/bin:/bin"}
    result = run(
        "campaign", "send", str(rows), "--journal", str(tmp_path / "run.db"), "--from", SENDER, "--text", "{name}",
        env=environment,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert {r.headers["Authorization"] for r in server.received} == {f"Bearer {API_KEY}"}


def test_without_an_api_key_nothing_is_sent_and_the_exit_is_3(tmp_path: Path, server: LoopbackServer) -> None:
    rows = numbered(tmp_path / "rows.csv", 2)
    result = run(
        "campaign", "send", str(rows), "--journal", str(tmp_path / "run.db"), "--from", SENDER, "--text", "{name}",
        "--base-url", server.base_url, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 3 and "--api-key" in result.stderr
    assert server.received == [] and not (tmp_path / "run.db").exists()


# --- refused before sending ------------------------------------------------------------------------

BAD_FILES: list[tuple[str, list[str], list[list[str]], list[str], str]] = [
    ("no-to", ["id", "number", "name"], [["a", "+13125550001", "Ann"]], [], "has no `to` column"),
    (
        "bad-number",
        ["id", "to", "name"],
        [["a", "+13125550001", "Ann"], ["b", "3125550002", "Bob"]],
        [],
        "rows.csv line 3: to must be an E.164 number",
    ),
    ("literal", ["to", "name"], [["+13125550001", "Ann"]], ["--text", "{{x}} {nme}"], "--text names {nme}"),
    ("placeholder", ["id", "to", "name"], [["a", "+13125550001", "Ann"]], ["--text", "Hi {nme}"], "--text names {nme}"),
    (
        "empty-placeholder",
        ["to", "name"],
        [["+13125550001", "Ann"]],
        ["--text", "Hi {}"],
        "{} or {0}): write {column}\n",
    ),
    ("bad-template", ["to", "name"], [["+13125550001", "Ann"]], ["--text", "Hi {name"], "--text is not a template"),
    ("unknown-column", ["to", "nmae"], [["+13125550001", "Ann"]], ["--text", "Hi"], "the column 'nmae' is no argument"),
    ("text-twice", ["to", "text"], [["+13125550001", "Ann"]], ["--text", "Hi"], "a text column and --text"),
    ("key-column", ["to", "idempotency_key"], [["+13125550001", "k"]], [], "the campaign sets idempotency_key"),
    ("from-twice", ["to", "from", "from_"], [["+13125550001", SENDER, SENDER]], [], "gives from_ twice"),
    (
        "fields",
        ["to", "name"],
        [["+13125550001", "Ann", "extra"]],
        ["--text", "{name}"],
        "line 2 has 3 fields, the header 2 (a comma in a value needs the value in double quotes)",
    ),
    (
        "bool",
        ["to", "name", "use_profile_webhooks"],
        [["+13125550001", "Ann", "maybe"]],
        ["--text", "{name}"],
        "line 2: use_profile_webhooks must be true or false, got 'maybe'",
    ),
    ("choice", ["to", "name", "type"], [["+13125550001", "Ann", "FAX"]], ["--text", "{name}"], "rows.csv line 2: "),
    ("empty-header", [""], [], [], "empty: it needs a header row"),
    ("blank-name", ["to", " "], [["+13125550001", "x"]], [], "an empty column name"),
    (
        "field-over-the-csv-limit",
        ["to", "text"],
        [["+13125550001", "Hi"], ["+13125550002", "x" * 200_000]],
        [],
        "rows.csv line 3: field larger than field limit (131072)",
    ),
]


@pytest.mark.parametrize(("header", "rows", "options", "expected"), [case[1:] for case in BAD_FILES])
def test_a_bad_file_is_refused_before_anything_is_sent(
    tmp_path: Path, server: LoopbackServer, header: list[str], rows: list[list[str]], options: list[str], expected: str
) -> None:
    server.default = scripted(lambda body, n: Reply(200, message(n)))
    path = write_rows(tmp_path / "rows.csv", header, rows)
    journal = tmp_path / "run.db"
    result = run(
        "campaign", "send", str(path), "--journal", str(journal), "--from", SENDER,
        *(options or ["--text", "Hi {name}"] if "name" in header else options),
        "--api-key", API_KEY, "--base-url", server.base_url,
    )  # fmt: skip
    assert result.returncode == 3, result.stderr
    assert expected in result.stderr, result.stderr
    assert server.received == [] and not journal.exists()
    assert result.stdout == ""


def test_every_refused_row_is_named_before_anything_is_sent(tmp_path: Path, server: LoopbackServer) -> None:
    rows = [[f"+1312{n:07d}" if n % 5 else "nope", f"n{n}"] for n in range(60)]  # lines 2, 7, 12, ...: bad
    path = write_rows(tmp_path / "rows.csv", ["to", "name"], rows)
    result = send(path, tmp_path / "run.db", server.base_url)
    assert result.returncode == 3 and server.received == []
    named = [line for line in result.stderr.splitlines() if "to must be an E.164 number" in line]
    assert [line.split("rows.csv line ")[1].split(":")[0] for line in named] == [str(n) for n in range(2, 51, 5)]
    assert "12 of 60 rows refused, nothing sent (2 more not listed" in result.stderr


def test_a_file_that_is_not_there_or_not_utf8_is_refused(tmp_path: Path) -> None:
    missing = run("campaign", "send", str(tmp_path / "nope.csv"), "--journal", str(tmp_path / "run.db"))
    assert missing.returncode == 3
    assert missing.stderr == f"telnyx-messages: cannot read {tmp_path / 'nope.csv'}: No such file or directory\n"
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"to,text\n+13125550001,caf\xe9\n")
    result = run("campaign", "send", str(latin), "--journal", str(tmp_path / "run.db"))
    assert result.returncode == 3 and "is not UTF-8 text" in result.stderr


def test_a_dry_run_shows_the_plan_and_sends_nothing(tmp_path: Path, server: LoopbackServer) -> None:
    path = write_rows(
        tmp_path / "rows.csv",
        ["to", "name", "from", "media_urls"],
        [[f"+1312{n:07d}", "ж" * 70 if n == 0 else f"n{n}", "" if n % 2 else "+18445550009", ""] for n in range(10)]
        + [["+13125559999", "m", "+18445550009", "https://e.com/a.png"]]
        + [["+13125559998", "m", "+18445550005", ""], ["+13125559997", "m", "+18445550003", ""]],
    )
    journal = tmp_path / "run.db"
    result = send(path, journal, server.base_url, "--dry-run", "--rate", "2")
    assert result.returncode == 0, result.stderr
    assert server.received == [] and not journal.exists()
    lines = result.stdout.splitlines()
    assert lines[:4] == ["rows      13", "messages  13 (1 MMS, 12 SMS)", "parts     14", "refused   0"]
    # The senders by rows, most first; alike, by name.
    assert lines[4:9] == [
        "senders   4",
        "  +18445550009: 6",
        f"  {SENDER}: 5",
        "  +18445550003: 1",
        "  +18445550005: 1",
    ]
    assert lines[9:] == ["time      6.5s at the set rates (nothing sent)"]
    bad = write_rows(tmp_path / "bad.csv", ["to", "name"], [["+13125550001", "a"], ["x", "b"]])
    refused = send(bad, journal, server.base_url, "--dry-run")
    assert refused.returncode == 3 and "refused   1" in refused.stdout
    reason = "line 3: to must be an E.164 number (+ and up to 15 digits), got 'x'"
    assert f"  {bad} {reason}" in refused.stdout.splitlines()
    none = send(write_rows(tmp_path / "none.csv", ["to", "name"], [["x", "b"]]), journal, server.base_url, "--dry-run")
    assert none.returncode == 3 and "messages  0 (none)" in none.stdout.splitlines()


def test_a_refused_row_is_named_by_the_line_of_the_file_it_starts_on(tmp_path: Path, server: LoopbackServer) -> None:
    """The header is line 1; a quoted value holding line breaks makes one row of several lines, and
    a blank line is a line: the lines named are the file's, not the rows' count."""
    path = tmp_path / "rows.csv"
    path.write_text(
        "to,name\n"  # line 1
        '+13125550001,"Ann\non two lines"\n'  # lines 2-3: row 1
        "\n"  # line 4, blank
        "nope,Bob\n"  # line 5: row 2
        '+13125550003,"Cy\n\nof three"\n'  # lines 6-8: row 3
        "12345,Dee\n",  # line 9: row 4
        encoding="utf-8",
    )
    journal = tmp_path / "run.db"
    dry = send(path, journal, server.base_url, "--dry-run")
    assert dry.returncode == 3 and "refused   2" in dry.stdout
    assert [line for line in dry.stdout.splitlines() if "E.164" in line] == [
        f"  {path} line 5: to must be an E.164 number (+ and up to 15 digits), got 'nope'",
        f"  {path} line 9: to must be an E.164 number (+ and up to 15 digits), got '12345'",
    ]
    result = send(path, journal, server.base_url)
    assert result.returncode == 3 and server.received == []
    assert [line.split(f"{path} ")[1] for line in result.stderr.splitlines() if "E.164" in line] == [
        "line 5: to must be an E.164 number (+ and up to 15 digits), got 'nope'",
        "line 9: to must be an E.164 number (+ and up to 15 digits), got '12345'",
    ]
    wrong = tmp_path / "fields.csv"
    wrong.write_text('to,name\n+13125550001,"A\nB"\n+13125550002,Bo,extra\n', encoding="utf-8")
    fields = send(wrong, journal, server.base_url)
    assert fields.returncode == 3 and f"{wrong} line 4 has 3 fields, the header 2" in fields.stderr


def test_a_csv_rows_refusal_in_the_journal_and_its_export_names_its_line(tmp_path: Path) -> None:
    from telnyx_messages.campaign import Campaign, LocatedRow
    from telnyx_messages.testing import FakeTelnyx

    rows = [
        LocatedRow({"id": "a", "to": "+13125550001", "from": SENDER, "text": "Hi"}, "line 2"),
        LocatedRow({"id": "b", "to": "nope", "from": SENDER, "text": "Hi"}, "line 4"),
        {"id": "c", "to": "12345", "from": SENDER, "text": "Hi"},  # from Python: its index among the rows
    ]
    journal = tmp_path / "run.db"
    report = Campaign(FakeTelnyx().client(), rows, journal, rate=math.inf, sender_rate=math.inf).run_sync()
    assert (report.accepted, report.failed) == (1, 2)
    details = {row["id"]: row["error_detail"] for row in exported(journal)}
    assert details == {
        "a": "",
        "b": "line 4: to must be an E.164 number (+ and up to 15 digits), got 'nope'",
        "c": "row 3: to must be an E.164 number (+ and up to 15 digits), got '12345'",
    }


# --- outcomes and exit codes ---------------------------------------------------------------------


def test_rows_the_api_refuses_are_failed_with_their_code_and_the_exit_is_1(
    tmp_path: Path, server: LoopbackServer
) -> None:
    def answer(body: dict[str, Any], n: int) -> Reply:
        return error(422, "40310") if body["text"] == "Hi n3" else Reply(200, message(n))

    server.default = scripted(answer)
    journal = tmp_path / "run.db"
    result = send(numbered(tmp_path / "rows.csv", 6), journal, server.base_url)
    assert result.returncode == 1
    assert result.stdout.startswith("6 rows: 5 accepted, 1 failed, 0 pending, 0 unknown")
    assert f"1 rows failed: see telnyx-messages campaign export {journal}" in result.stderr
    failed = [row for row in exported(journal) if row["state"] == "failed"]
    assert [(row["id"], row["error_code"]) for row in failed] == [("r-3", "40310")]
    assert "error 40310" in failed[0]["error_detail"]
    assert status_of(journal)["failed"] == 1


def test_the_spend_limit_stops_with_exit_4_saying_why_and_a_rerun_finishes(
    tmp_path: Path, server: LoopbackServer
) -> None:
    server.default = scripted(lambda body, n: Reply(200, message(n)) if n < 5 else error(429, "40333"))
    journal, rows = tmp_path / "run.db", numbered(tmp_path / "rows.csv", 30)
    result = send(rows, journal, server.base_url, "--max-in-flight", "1")
    assert result.returncode == 4
    stop = [line for line in result.stderr.splitlines() if "stopped" in line]
    assert len(stop) == 1 and "daily spend limit is reached" in stop[0] and "00:00 UTC" in stop[0]
    counts = status_of(journal)
    assert (counts["rows"], counts["accepted"], counts["pending"], counts["failed"]) == (30, 5, 25, 0)
    server.default = scripted(lambda body, n: Reply(200, message(n)))
    rerun = send(rows, journal, server.base_url)
    assert rerun.returncode == 0, rerun.stderr
    assert status_of(journal)["accepted"] == 30
    taken = [r.json()["text"] for r in server.received if r.status == 200]
    assert sorted(taken) == sorted(f"Hi n{n}" for n in range(30))  # each once


def test_rows_left_without_an_answer_stop_with_exit_4_and_a_rerun_resends_them(
    tmp_path: Path, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import telnyx_messages.campaign as engine

    monkeypatch.setattr(engine, "MAX_ATTEMPTS", 1)
    server.default = scripted(
        lambda body, n: error(503, "10000") if body["text"] == "Hi n1" else Reply(200, message(n))
    )
    journal, rows = tmp_path / "run.db", numbered(tmp_path / "rows.csv", 3)
    result = send(rows, journal, server.base_url)
    assert result.returncode == 4
    assert (
        "stopped: 1 rows sent without an answer taken (the API or the network failing): run again to re-send them "
        "with their keys\n"
    ) in result.stderr
    assert status_of(journal)["pending"] == 1
    server.default = scripted(lambda body, n: Reply(200, message(n)))
    assert send(rows, journal, server.base_url).returncode == 0
    again = [r for r in server.received if r.json()["text"] == "Hi n1"]
    assert len({r.headers["Idempotency-Key"] for r in again}) == 1 and len(again) == 2


def test_a_rejected_key_ends_with_exit_1_and_the_key_is_never_shown_or_journaled(
    tmp_path: Path, server: LoopbackServer
) -> None:
    server.default = Reply(401, {"errors": [{"code": "10009", "title": "Authentication failed", "detail": "no"}]})
    journal = tmp_path / "run.db"
    result = send(numbered(tmp_path / "rows.csv", 3), journal, server.base_url)
    assert result.returncode == 1 and "AuthenticationError" in result.stderr
    outputs = [result.stdout, result.stderr]
    outputs += [run("campaign", "status", str(journal), *flag).stdout for flag in ([], ["--json"])]
    outputs.append(run("campaign", "export", str(journal)).stdout)
    assert all(API_KEY not in text for text in outputs)
    assert all(API_KEY.encode() not in path.read_bytes() for path in tmp_path.iterdir() if path.is_file())
    assert status_of(journal)["pending"] == 3


def test_a_journal_of_another_list_is_refused_with_exit_3(tmp_path: Path, server: LoopbackServer) -> None:
    server.default = scripted(lambda body, n: Reply(200, message(n)))
    journal = tmp_path / "run.db"
    assert send(numbered(tmp_path / "rows.csv", 2), journal, server.base_url).returncode == 0
    changed = write_rows(tmp_path / "other.csv", ["id", "to", "name"], [["r-0", "+13125550077", "n0"]])
    result = send(changed, journal, server.base_url)
    assert result.returncode == 3 and "RowConflictError" in result.stderr and "r-0" in result.stderr
    assert len(server.received) == 2


# --- status and export ---------------------------------------------------------------------------


def test_status_prints_the_counts_and_json_has_integers(tmp_path: Path, server: LoopbackServer) -> None:
    server.default = scripted(
        lambda body, n: error(422, "40310") if body["text"] == "Hi n0" else Reply(200, message(n))
    )
    journal = tmp_path / "run.db"
    send(numbered(tmp_path / "rows.csv", 4), journal, server.base_url, "--rate", "inf")
    text = run("campaign", "status", str(journal))
    assert text.returncode == 0
    lines = text.stdout.splitlines()
    assert lines[0].startswith("campaign  ") and lines[1].startswith("created   ") and lines[1].endswith(" UTC")
    assert lines[2:] == [
        "rows      4",
        "accepted  3",
        "pending   0",
        "failed    1",
        "unknown   0",
        "delivery  none recorded (telnyx-messages campaign receive records them)",
    ]
    document = status_of(journal)
    counts = {name: document[name] for name in ("rows", "accepted", "pending", "failed", "unknown")}
    assert counts == {"rows": 4, "accepted": 3, "pending": 0, "failed": 1, "unknown": 0}
    assert document["delivery"] == {}  # no receiver ran on the journal
    assert all(type(value) is int for value in counts.values())
    assert lines[0] == f"campaign  {document['campaign_id']}" and document["name"] is None
    assert datetime.datetime.fromisoformat(document["created_at"]).tzinfo == datetime.UTC
    assert document["parameters"]["rate"] == "inf" and document["parameters"]["max_queue_wait"] == 600.0


def test_export_writes_every_row_to_a_file(tmp_path: Path, server: LoopbackServer) -> None:
    server.default = scripted(lambda body, n: Reply(200, message(int(body["text"][4:]))))
    journal, target = tmp_path / "run.db", tmp_path / "out.csv"
    send(numbered(tmp_path / "rows.csv", 5), journal, server.base_url)
    result = run("campaign", "export", str(journal), "--output", str(target))
    assert result.returncode == 0 and result.stdout == ""
    with target.open(encoding="utf-8", newline="") as file:
        table = list(csv.DictReader(file))
    assert list(table[0]) == list(_campaign_cli.EXPORT_COLUMNS)
    assert [row["id"] for row in table] == [f"r-{n}" for n in range(5)]
    assert [row["message_id"] for row in table] == [message(n)["data"]["id"] for n in range(5)]
    assert [row["wait_seconds"] for row in table] == [str(n / 10) for n in range(5)]
    assert [row["to"] for row in table] == [f"+1312{n:07d}" for n in range(5)]
    assert {row["from"] for row in table} == {SENDER} and {row["attempts"] for row in table} == {"1"}
    assert {(row["error_code"], row["error_detail"]) for row in table} == {("", "")}
    assert all(row["first_attempt_at"].endswith("+00:00") for row in table)


def test_status_and_export_show_each_recipients_delivery_as_the_receiver_recorded_it(
    tmp_path: Path, server: LoopbackServer
) -> None:
    server.default = scripted(
        lambda body, n: error(422, "40310") if body["text"] == "Hi n0" else Reply(200, message(int(body["text"][4:])))
    )
    journal = tmp_path / "run.db"
    assert send(numbered(tmp_path / "rows.csv", 5), journal, server.base_url, "--rate", "inf").returncode == 1
    ids = [message(n)["data"]["id"] for n in range(5)]
    fake = FakeTelnyx()
    events = [
        receipt(fake, ids[1], "+13120000001", "sent"),
        receipt(fake, ids[1], "+13120000001", "delivered"),
        receipt(fake, ids[2], "+13120000002", "delivery_failed", ("40008", "40300")),
        receipt(fake, ids[3], "+13120000003", "sent"),
        receipt(fake, "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e", "+13120000001", "delivered"),  # of no row
    ]
    with Receiver(journal, public_key=fake.public_key) as receiver:
        assert all(receiver.receive(*event).new for event in events)
    document = status_of(journal)
    assert document["delivery"] == {"sent": 1, "delivered": 1, "delivery_failed": 1}
    assert list(document["delivery"]) == [status for status in DELIVERY_STATUSES if status in document["delivery"]]
    shown = ", ".join(f"{count} {status}" for status, count in document["delivery"].items())
    assert run("campaign", "status", str(journal)).stdout.splitlines()[-1] == f"delivery  {shown}"
    table = exported(journal)
    assert list(table[0]) == list(_campaign_cli.EXPORT_COLUMNS)
    assert list(_campaign_cli.EXPORT_COLUMNS[-4:]) == [
        "delivery_status",
        "delivery_error_codes",
        "delivery_errors",
        "delivery_occurred_at",
    ]
    assert [(row["id"], row["state"], row["delivery_status"], row["delivery_error_codes"]) for row in table] == [
        ("r-0", "failed", "", ""),
        ("r-1", "accepted", "delivered", ""),
        ("r-2", "accepted", "delivery_failed", "40008,40300"),
        ("r-3", "accepted", "sent", ""),
        ("r-4", "accepted", "", ""),
    ]
    assert [error["code"] for error in json.loads(table[2]["delivery_errors"])] == ["40008", "40300"]
    assert {table[n]["delivery_errors"] for n in (0, 1, 3, 4)} == {""}
    occurred = datetime.datetime.fromisoformat(table[1]["delivery_occurred_at"])
    assert abs(occurred - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(minutes=5)
    assert table[4]["delivery_occurred_at"] == ""


def test_status_lists_the_apis_statuses_in_its_order_then_statuses_it_does_not_list_by_name(tmp_path: Path) -> None:
    from telnyx_messages import _receipts
    from telnyx_messages._journal import Journal

    journal = tmp_path / "run.db"
    statuses = ["zz_later", "delivered", DELIVERY_STATUSES[0], "aa_later", "delivered"]
    with Journal(journal) as opened:
        opened.begin(None, {}, datetime.datetime.now(datetime.UTC))
        for n in range(len(statuses)):
            opened.add(f"r-{n}", "d", f"key-{n}", f"+1312{n:07d}", SENDER)
            opened.accepted(f"r-{n}", f"m-{n}", None)
    order = _receipts.status_order()
    with contextlib.closing(_receipts.connect(str(journal))) as db:
        for n, status in enumerate(statuses):  # statuses a later API may send are recorded as given
            payload = {"id": f"m-{n}", "to": [{"phone_number": f"+1312{n:07d}", "status": status}]}
            document = {"data": {"id": f"e-{n}", "event_type": "message.finalized", "payload": payload}}
            _receipts.record(db, [_receipts.incoming(document, b"{}", order)], order, 1.0)
    delivery = status_of(journal)["delivery"]
    assert list(delivery.items()) == [(DELIVERY_STATUSES[0], 1), ("delivered", 2), ("aa_later", 1), ("zz_later", 1)]


@pytest.mark.parametrize("command", ["status", "export"])
def test_status_and_export_refuse_what_is_not_a_journal(tmp_path: Path, command: str) -> None:
    missing = run("campaign", command, str(tmp_path / "none.db"))
    assert missing.returncode == 3 and "no campaign journal at" in missing.stderr
    assert not (tmp_path / "none.db").exists()
    other = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(other)) as db:
        db.execute("CREATE TABLE t (x)")
        db.commit()
    refused = run("campaign", command, str(other))
    assert refused.returncode == 3 and "JournalError" in refused.stderr and refused.stdout == ""
    empty = tmp_path / "empty.db"
    empty.touch()
    blank = run("campaign", command, str(empty))
    assert blank.returncode == 3 and blank.stdout == ""
    assert f"JournalError: {empty} is an empty SQLite file, not a campaign journal" in blank.stderr
    assert empty.read_bytes() == b"" and sorted(p.name for p in tmp_path.iterdir()) == ["empty.db", "other.db"]


# --- progress --------------------------------------------------------------------------------------


def test_off_a_terminal_progress_is_a_plain_line_every_few_seconds(
    tmp_path: Path, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_campaign_cli, "PLAIN_EVERY", 0.5)
    server.default = scripted(lambda body, n: Reply(200, message(n)))
    result = send(numbered(tmp_path / "rows.csv", 40), tmp_path / "run.db", server.base_url, "--rate", "20")
    assert result.returncode == 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("campaign: ")]
    assert 2 <= len(lines) <= 6, result.stderr
    done = [int(line.split()[1].split("/")[0]) for line in lines]
    assert done == sorted(done) and 0 < done[0] < 40
    assert all(line.split()[1].endswith("/40") for line in lines)
    assert all(", ETA " in line and ", accepted " in line and ", max queue wait " in line for line in lines)


def _on_a_terminal(arguments: list[str], environment: dict[str, str]) -> tuple[int, str]:
    """The command run with its standard error on a pseudo-terminal: exit code, what it showed."""
    controller, terminal = pty.openpty()
    child = forked(COMMAND, *arguments, env=environment, stderr=terminal)
    os.close(terminal)
    shown = bytearray()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the child closed its end
                break
            if not chunk:
                break
            shown += chunk
        elif child.poll() is not None:
            break
    code = child.wait(timeout=30)
    os.close(controller)
    return code, shown.decode("utf-8", "replace")


def _child_environment(**extra: str) -> dict[str, str]:
    return {**os.environ, "TELNYX_API_KEY": API_KEY, "TERM": "xterm-256color", "COLUMNS": "200", **extra}


@pytest.mark.parametrize("rich", [True, False], ids=["with-rich", "without-rich"])
def test_a_terminal_gets_a_live_bar_or_without_rich_plain_lines(tmp_path: Path, rich: bool) -> None:
    with EdgeServer(message={"id": "00000000-0000-4000-8000-000000000000", "type": "SMS", "wait_seconds": 7.0}) as edge:
        arguments = [
            "campaign", "send", str(numbered(tmp_path / "rows.csv", 30)), "--journal", str(tmp_path / "run.db"),
            "--from", SENDER, "--text", "Hi {name}", "--base-url", edge.base_url, "--rate", "15",
        ]  # fmt: skip
        environment = _child_environment(CAMPAIGN_PLAIN_EVERY="0.5", **({} if rich else {"CAMPAIGN_NO_RICH": "1"}))
        code, shown = _on_a_terminal(arguments, environment)
    assert code == 0, shown
    assert "Traceback" not in shown and API_KEY not in shown
    if rich:
        assert "━" in shown and "\x1b[" in shown  # a bar drawn, redrawn in place
        assert "30/30" in shown and "accepted 30 failed 0 queue wait 7s" in shown and "ETA" in shown
        assert "campaign: " not in shown
    else:
        assert "━" not in shown
        lines = [line for line in shown.splitlines() if line.startswith("campaign: ")]
        assert lines and all("max queue wait 7s" in line for line in lines)


# --- Ctrl-C and SIGKILL ----------------------------------------------------------------------------

# The command in a process of its own (forked), its failed sends tried again a hundredth of a second
# later rather than after the engine's 0.5 s doubling (for the tests whose failures are not about how
# long it waits: with 0.5 s, each failure held its sender's queue that long).
QUICK_RETRY = {"telnyx_messages.campaign._BACKOFF_FIRST": 0.01}


def _accepted_in(journal: Path) -> int:
    return _counts_in(journal).get("accepted", 0)


def _counts_in(journal: Path) -> dict[str, int]:
    """The rows of each state in a journal another process writes or was killed writing (none
    before it has its tables)."""
    if not journal.exists():
        return {}
    db = sqlite3.connect(journal, timeout=10)
    try:
        return dict(db.execute("SELECT state, count(*) FROM rows GROUP BY state").fetchall())
    except sqlite3.OperationalError:  # the tables not made yet
        return {}
    finally:
        db.close()


def _states(journal: Path) -> dict[str, int]:
    db = sqlite3.connect(journal, timeout=10)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return dict(db.execute("SELECT state, count(*) FROM rows GROUP BY state").fetchall())
    finally:
        db.close()


def test_ctrl_c_stops_cleanly_with_exit_4_and_a_rerun_sends_the_rest_once(tmp_path: Path) -> None:
    count, journal = 80, tmp_path / "run.db"
    rows = numbered(tmp_path / "rows.csv", count)
    with EdgeServer() as edge:
        arguments = [
            "campaign", "send", str(rows), "--journal", str(journal), "--from", SENDER, "--text", "Hi {name}",
            "--base-url", edge.base_url, "--rate", "20",
        ]  # fmt: skip
        child = forked(COMMAND, *arguments, env=_child_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        until(lambda: sum(edge.accepted.values()) >= 20, child, 60)  # the rest take 3 s more at 20/s
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=60)
        states = _states(journal)
        assert child.returncode == 4, stderr
        stops = [line for line in stderr.decode().splitlines() if "stopped" in line]
        assert len(stops) == 1 and "interrupted" in stops[0], stderr
        assert "Traceback" not in stderr.decode()
        assert set(states) <= {"accepted", "pending"} and 20 <= states["accepted"] < count, states
        assert states["accepted"] == sum(edge.accepted.values())  # every answer taken is in the journal
        # The rest sent by this process (cli.main), as the next run of the command would.
        finished = send(rows, journal, edge.base_url, "--rate", "inf", "--sender-rate", "inf")
        accepted = dict(edge.accepted)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.startswith(f"{count} rows: {count} accepted, 0 failed, 0 pending, 0 unknown")
    assert accepted == {f"Hi n{n}": 1 for n in range(count)}
    assert _states(journal) == {"accepted": count}


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_send_killed_at_random_points_and_rerun_has_each_row_accepted_exactly_once(tmp_path: Path) -> None:
    count, journal = 120, tmp_path / "run.db"
    rows = numbered(tmp_path / "rows.csv", count)
    chooser = random.Random(4141)
    with EdgeServer(fail_rate=0.15, faults=("drop", "500"), seed=4141) as edge:
        arguments = [
            "campaign", "send", str(rows), "--journal", str(journal), "--from", SENDER, "--text", "Hi {name}",
            "--base-url", edge.base_url, "--rate", "300", "--sender-rate", "inf", "--max-in-flight", "16",
            "--timeout", "5",
        ]  # fmt: skip
        start = lambda: forked(COMMAND, *arguments, env=_child_environment(), settings=QUICK_RETRY)  # noqa: E731
        kills = killed_at_random_points(start, edge, journal, count, chooser, _counts_in)
        # The rest sent by this process (cli.main), as the next run of the command would.
        finished = send(rows, journal, edge.base_url, "--rate", "300", "--sender-rate", "inf", "--timeout", "5")
        accepted = dict(edge.accepted)
        statuses = dict(edge.statuses)
    assert_the_kills_landed_midway(kills, count)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.startswith(f"{count} rows: {count} accepted, 0 failed, 0 pending, 0 unknown")
    assert accepted == {f"Hi n{n}": 1 for n in range(count)}, statuses  # none twice, none lost
    assert statuses.get("fault drop", 0) > 0 and statuses.get("fault 500", 0) > 0, statuses
    assert statuses.get("replay", 0) > 0, statuses  # sends after an accepted-then-dropped answer were replayed
    assert _states(journal) == {"accepted": count}
    assert API_KEY.encode() not in journal.read_bytes()


@pytest.mark.parametrize(
    ("option", "says"),
    [
        (["--rate", "0"], "rate must be a number of messages per second above 0"),
        (["--sender-rate", "-1"], "sender_rate must be a number"),
        (["--max-queue-wait", "0"], "max_queue_wait must be a number of seconds above 0"),
        (["--max-in-flight", "0"], "max_in_flight must be an int of at least 1"),
    ],
)
def test_bad_settings_are_refused_before_anything_is_sent(
    tmp_path: Path, server: LoopbackServer, option: list[str], says: str
) -> None:
    journal = tmp_path / "run.db"
    result = send(numbered(tmp_path / "rows.csv", 2), journal, server.base_url, *option)
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith(f"telnyx-messages: ValueError: {says}") and result.stderr.count("\n") == 1
    assert server.received == [] and not journal.exists()


def test_the_command_list_and_the_send_help_show_the_campaign() -> None:
    listed = " ".join(run("--help").stdout.split())
    assert "campaign send a CSV list of messages" in listed
    text = " ".join(run("campaign", "send", "--help").stdout.split())
    assert "[--from NUMBER | --messaging-profile-id ID]" in text and "(default 600)" in text
    assert "4 stopped with rows pending" in text


# --- one function at a time ---------------------------------------------------------------------------


def _progress(**given: Any) -> Any:
    from telnyx_messages.campaign import Progress

    fields: dict[str, Any] = {"done": 0, "total": 10, "accepted": 0, "failed": 0, "rate": 0.0}
    fields |= {"max_wait_seconds": None, "elapsed": 0.0, **given}
    return Progress(**fields)


def test_the_numbers_shown_for_a_progress() -> None:
    numbers = _campaign_cli._numbers
    assert numbers(_progress(done=4, rate=2.0, accepted=3, failed=1, max_wait_seconds=12.4)) == {
        "done": "4/10",
        "rate": "2.0/s",
        "eta": "3.0s",
        "accepted": "3",
        "failed": "1",
        "wait": "12s",
        "held": "",
    }
    assert numbers(_progress(done=4))["eta"] == "?"  # no rate yet
    assert numbers(_progress(done=4))["wait"] == "-"  # no wait reported yet
    assert numbers(_progress(done=4, rate=0.5))["eta"] == "12.0s"
    assert numbers(_progress(done=10))["eta"] == "0s"
    assert numbers(_progress(done=12, rate=1.0))["eta"] == "0s"
    assert numbers(_progress(total=None, done=3, rate=5.0))["done"] == "3/?"
    assert numbers(_progress(total=None, done=3, rate=5.0))["eta"] == "?"
    assert numbers(_progress(held_until=41.6))["held"] == ", held 42s (request limit)"


def test_durations_read_as_seconds_minutes_or_hours() -> None:
    duration = _campaign_cli._duration
    assert [duration(s) for s in (0.04, 5.55, 59.94)] == ["0.0s", "5.5s", "59.9s"]
    assert [duration(s) for s in (60.0, 61.4, 3599.0, 3600.0, 3661.0, 90061.0)] == [
        "1m00s",
        "1m01s",
        "59m59s",
        "1h00m",
        "1h01m",
        "25h01m",
    ]
    assert duration(float("inf")) == "?" and duration(float("nan")) == "?"


def test_cells_are_read_by_the_kind_of_their_argument() -> None:
    from telnyx_messages._calls import NotGiven

    kind = _campaign_cli._kind
    assert [kind(str | NotGiven), kind(bool | NotGiven), kind(list[str] | NotGiven), kind(int | NotGiven)] == [
        "str",
        "bool",
        "list",
        "int",
    ]
    assert kind(int) == "int" and kind(None) == "str"
    layout = _campaign_cli._Layout("rows.csv", ["n"], [], None, line=7)
    cell = _campaign_cli._cell
    count = _campaign_cli._Column(0, "n", "n", "int")
    assert cell(layout, count, "42") == 42
    with pytest.raises(ValueError, match=r"rows.csv line 7: n must be a whole number, got 'x'"):
        cell(layout, count, "x")
    flag = _campaign_cli._Column(0, "f", "f", "bool")
    assert [cell(layout, flag, word) for word in ("TRUE", " yes", "1", "False", "no ", "0")] == [True] * 3 + [False] * 3
    assert cell(layout, _campaign_cli._Column(0, "m", "m", "list"), " a  b ") == ["a", "b"]
    assert cell(layout, _campaign_cli._Column(0, "s", "s", "str"), " a ") == " a "


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True

    def shown(self) -> str:
        """What was written, less the terminal's control sequences (colours, the cursor)."""
        return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", self.getvalue())


def test_a_terminal_gets_the_bar_and_without_rich_the_plain_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    bar = _campaign_cli._progress_display(10)
    try:
        assert isinstance(bar, _campaign_cli._BarProgress)
    finally:
        bar.close()
    assert "0/10" in terminal.shown() and sys.stdout.getvalue() == ""  # on standard error, with the total
    monkeypatch.setitem(sys.modules, "rich", None)
    assert isinstance(_campaign_cli._progress_display(10), _campaign_cli._PlainProgress)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    monkeypatch.delitem(sys.modules, "rich")
    assert isinstance(_campaign_cli._progress_display(10), _campaign_cli._PlainProgress)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_bar_shows_the_latest_progress_at_most_every_tenth_of_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _Clock()
    bar = _campaign_cli._BarProgress(_Terminal(), 10, clock)
    try:
        assert bar.bar.tasks[0].total == 10
        shown: list[int] = []
        monkeypatch.setattr(bar.bar, "update", lambda task, completed, **fields: shown.append(completed))
        bar.update(_progress(done=1))
        clock.now = 0.09
        bar.update(_progress(done=2))  # within 0.1 s of the first: kept, not shown yet
        assert shown == [1] and bar.latest is not None and bar.latest.done == 2
        clock.now = 0.1
        bar.update(_progress(done=3))
        assert shown == [1, 3]
        bar.update(_progress(done=4))
        bar.tick()
        assert shown == [1, 3, 4]
    finally:
        monkeypatch.undo()
        bar.close()
    assert _campaign_cli._BarProgress(_Terminal(), None).bar.tasks[0].total is None


def test_plain_lines_come_every_few_seconds_and_only_with_something_to_show() -> None:
    stream, clock = io.StringIO(), _Clock()
    plain = _campaign_cli._PlainProgress(stream, clock)
    assert plain.every == _campaign_cli.PLAIN_EVERY == 5.0
    clock.now = 10.0
    plain.tick()
    assert stream.getvalue() == ""  # no progress yet
    plain.update(_progress(done=4, rate=2.0, accepted=4, max_wait_seconds=3.0))
    plain.tick()
    line = "campaign: 4/10 rows, 2.0/s, ETA 3.0s, accepted 4, failed 0, max queue wait 3s\n"
    assert stream.getvalue() == line
    plain.update(_progress(done=5))
    clock.now = 14.9
    plain.tick()  # within PLAIN_EVERY of the last line
    assert stream.getvalue() == line
    clock.now = 15.0
    plain.tick()
    assert stream.getvalue().count("\n") == 2
    plain.close()


def _interrupt_when(journal: Path, accepted: int, signals: int) -> None:
    """SIGINT to this process, `signals` times, once the journal shows `accepted` rows accepted."""
    deadline = time.monotonic() + 60
    while _accepted_in(journal) < accepted and time.monotonic() < deadline:
        time.sleep(0.01)
    for _ in range(signals):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)


@pytest.mark.parametrize("signals", [1, 2], ids=["once", "twice"])
def test_ctrl_c_in_the_run_stops_it_and_twice_stops_it_at_once(
    tmp_path: Path, server: LoopbackServer, signals: int
) -> None:
    import threading

    server.default = scripted(lambda body, n: Reply(200, message(n), delay=0.3 if n >= 8 else 0.0))
    journal = tmp_path / "run.db"
    thread = threading.Thread(target=_interrupt_when, args=(journal, 8, signals))
    thread.start()
    try:
        result = send(numbered(tmp_path / "rows.csv", 60), journal, server.base_url, "--max-in-flight", "4")
    finally:
        try:
            thread.join()
            time.sleep(0.1)
        except KeyboardInterrupt:  # a signal the command no longer handled: a failure of this test, not the session's
            pytest.fail("a SIGINT reached the test after the command ended its run")
    assert result.returncode == 4
    counts = status_of(journal)
    assert 8 <= counts["accepted"] < 60 and counts["accepted"] + counts["pending"] == 60
    if signals == 1:
        assert "stopped: interrupted" in result.stderr and result.stdout.startswith("60 rows: ")
        assert counts["accepted"] == len(server.received)  # the requests in flight finished, and were recorded
    else:
        assert "interrupted: stopped at once" in result.stderr and result.stdout == ""
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_journal_made_with_a_name_shows_it_and_one_without_rows_exports_its_header(
    tmp_path: Path, server: LoopbackServer
) -> None:
    from telnyx_messages import Telnyx
    from telnyx_messages.campaign import Campaign

    journal = tmp_path / "run.db"
    with Telnyx(api_key=API_KEY, base_url=server.base_url) as client:
        Campaign(client, [], journal, name="spring").run_sync()
    assert run("campaign", "status", str(journal)).stdout.splitlines()[0].endswith(" (spring)")
    assert status_of(journal)["name"] == "spring"
    assert run("campaign", "export", str(journal)).stdout == ",".join(_campaign_cli.EXPORT_COLUMNS) + "\r\n"


def test_rows_left_unknown_or_failed_end_with_exit_1_and_resend_unknown_sends_the_unknown(
    tmp_path: Path, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import telnyx_messages.campaign as engine

    def answer(body: dict[str, Any], n: int) -> Reply:
        return {"Hi n1": error(503, "10000"), "Hi n2": error(422, "40310")}.get(body["text"], ok(n))

    monkeypatch.setattr(engine, "MAX_ATTEMPTS", 1)
    server.default = scripted(answer)
    journal, rows = tmp_path / "run.db", numbered(tmp_path / "rows.csv", 3)
    assert send(rows, journal, server.base_url).returncode == 4
    with contextlib.closing(sqlite3.connect(journal)) as db:  # its one attempt made 25 hours ago
        db.execute("UPDATE rows SET first_attempt_at = first_attempt_at - 90000 WHERE state = 'sending'")
        db.commit()
    server.default = scripted(lambda body, n: ok(n))
    result = send(rows, journal, server.base_url)
    assert result.returncode == 1 and result.stdout.startswith("3 rows: 1 accepted, 1 failed, 0 pending, 1 unknown")
    assert result.stderr == (
        "telnyx-messages: 1 rows failed, 1 rows unknown (sent over 24 hours ago, never confirmed; --resend-unknown): "
        f"see telnyx-messages campaign export {journal}\n"
    )
    assert len(server.received) == 3  # not sent again
    resent = send(rows, journal, server.base_url, "--resend-unknown")
    assert resent.returncode == 1 and resent.stdout.startswith("3 rows: 2 accepted, 1 failed, 0 pending, 0 unknown")
    assert len(server.received) == 4 and server.received[-1].json()["text"] == "Hi n1"


def test_the_bar_draws_its_columns_on_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    terminal = _Terminal()
    _campaign_cli._BarProgress(terminal, 10).close()
    assert re.search(r"(^|\s)campaign ━+ 0/10 0\.0/s ETA \? accepted 0 failed 0 queue wait - 0:00:0", terminal.shown())
    terminal = _Terminal()
    _campaign_cli._BarProgress(terminal, None).close()
    assert " 0/? 0.0/s ETA ? accepted 0 " in terminal.shown()
    terminal = _Terminal()
    bar = _campaign_cli._BarProgress(terminal, None)
    bar.update(_progress(done=4, rate=2.0, accepted=3, failed=1, max_wait_seconds=12.4, held_until=9.0))
    bar.close()
    shown = terminal.shown()
    assert "━ 4/10 2.0/s ETA 3.0s accepted 3 failed 1 queue wait 12s, held 9s (request limit) 0:00:0" in shown
    assert "━" in shown and "0:00:0" in shown  # the bar, the time elapsed
    assert bar.bar.live.refresh_per_second == 5  # redrawn 5 times a second: the terminal not flooded


def test_connection_options_blank_lines_and_rows_without_text(
    tmp_path: Path, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import telnyx_messages.campaign as engine

    # What is tested is where each option goes and how the command ends, not the waits between a
    # row's attempts (test_campaign.py times those): 6 attempts, their backoff in hundredths.
    monkeypatch.setattr(engine, "_BACKOFF_FIRST", 0.01)
    server.default = scripted(lambda body, n: ok(n))
    path = tmp_path / "rows.csv"
    path.write_text("to,media_urls\r\n+13125550001,https://e.com/a.png\r\n\r\n+13125550002,https://e.com/b.png\r\n")
    journal = tmp_path / "run.db"
    result = run(
        "campaign", "send", str(path), "--journal", str(journal), "--from", SENDER, "--api-key", API_KEY,
        "--base-url", server.base_url, "--header", "X-Campaign: spring", "--max-queue-wait", "30",
        "--max-in-flight", "2",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(r.json()["media_urls"][0] for r in server.received) == ["https://e.com/a.png", "https://e.com/b.png"]
    assert all("text" not in r.json() for r in server.received)
    assert {r.headers["X-Campaign"] for r in server.received} == {"spring"}
    assert status_of(journal)["parameters"]["max_queue_wait"] == 30.0
    server.default = Reply(200, message(0), delay=1.0)
    slow = run(
        "campaign", "send", str(numbered(tmp_path / "more.csv", 1)), "--journal", str(tmp_path / "slow.db"),
        "--from", SENDER, "--text", "{name}", "--api-key", API_KEY, "--base-url", server.base_url, "--timeout", "0.2",
    )  # fmt: skip
    assert slow.returncode == 4 and "without an answer taken" in slow.stderr
    # Plain http to a host that is not loopback by its name (0.0.0.0, which this machine's own stack
    # answers: nothing leaves it), at a port with no server.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    far = ["--api-key", API_KEY, "--base-url", f"http://0.0.0.0:{port}"]
    base = ["campaign", "send", str(path), "--journal", str(tmp_path / "far.db"), "--from", SENDER]
    refused = run(*base, *far)
    assert refused.returncode == 3 and "--allow-insecure-http" in refused.stderr
    allowed = run(*base, *far, "--allow-insecure-http", "--timeout", "0.5")
    assert allowed.returncode == 4 and "--allow-insecure-http" not in allowed.stderr


# Each campaign command: its line in the command list, its description, epilog and function, and each
# option's (option strings, dest, help, metavar, default, required, type, action), as `--help` shows them.
CAMPAIGN_COMMANDS: dict[str, tuple[Any, ...]] = {
    "send": (
        "send the rows of a CSV file not yet sent by this journal's campaign",
        (
            "Send each row of ROWS.csv once, paced, recorded in the journal: run the same command again after a "
            "crash or a stop, and it sends what is left. The CSV has a header row: `to` is required; a column "
            "named as an argument of `send` (from, text, subject, media_urls space-separated, "
            "messaging_profile_id, webhook_url, ...) becomes it; `id` names a row; other columns fill --text's "
            "{placeholders}. Options give what a row's empty cell leaves out."
        ),
        _campaign_cli.EPILOG,
        "_send",
        [
            ((), "rows", "the rows: a CSV file with a header row", "ROWS.csv", None, True, None, "_StoreAction"),
            (
                ("--journal",),
                "journal",
                "the campaign's journal: an SQLite file (made if missing), or a postgresql:// URL (with --name)",
                "RUN.db|URL",
                None,
                True,
                None,
                "_StoreAction",
            ),
            (
                ("--name",),
                "name",
                (
                    "the campaign's name: needed with a postgresql:// journal (made on its first run, joined by later "
                    "runs and other senders); an SQLite journal records it"
                ),
                "NAME",
                None,
                False,
                None,
                "_StoreAction",
            ),
            (
                ("--from",),
                "from_",
                "the sender, for rows without a `from`",
                "NUMBER",
                None,
                False,
                None,
                "_StoreAction",
            ),
            (
                ("--messaging-profile-id",),
                "messaging_profile_id",
                "the messaging profile, for rows without a messaging_profile_id",
                "ID",
                None,
                False,
                None,
                "_StoreAction",
            ),
            (
                ("--text",),
                "text",
                "every row's text (the CSV then has no text column); {column} is that column of the row",
                "TEMPLATE",
                None,
                False,
                None,
                "_StoreAction",
            ),
            (
                ("--rate",),
                "rate",
                "messages per second over the campaign (default: SMS 50, MMS 15)",
                "MPS",
                None,
                False,
                "float",
                "_StoreAction",
            ),
            (
                ("--sender-rate",),
                "sender_rate",
                "messages per second per sender (default: by its kind)",
                "MPS",
                None,
                False,
                "float",
                "_StoreAction",
            ),
            (
                ("--max-queue-wait",),
                "max_queue_wait",
                "hold a sender while the API reports its messages queued longer than this (default 600)",
                "SECONDS",
                None,
                False,
                "float",
                "_StoreAction",
            ),
            (
                ("--resend-unknown",),
                "resend_unknown",
                "re-send the rows sent more than 24 hours ago and never confirmed (they may go out twice)",
                None,
                False,
                False,
                None,
                "_StoreTrueAction",
            ),
            (
                ("--max-in-flight",),
                "max_in_flight",
                "requests at once (default 100)",
                "N",
                None,
                False,
                "int",
                "_StoreAction",
            ),
            (
                ("--dry-run",),
                "dry_run",
                "check the rows and show the plan; send nothing",
                None,
                False,
                False,
                None,
                "_StoreTrueAction",
            ),
            (("--api-key",), "api_key", "default: $TELNYX_API_KEY", None, "==SUPPRESS==", False, None, "_StoreAction"),
            (
                ("--base-url",),
                "base_url",
                "default: $TELNYX_BASE_URL, then https://api.telnyx.com/v2",
                None,
                "==SUPPRESS==",
                False,
                None,
                "_StoreAction",
            ),
            (
                ("--timeout",),
                "timeout",
                "seconds for each attempt (default 60)",
                None,
                "==SUPPRESS==",
                False,
                "float",
                "_StoreAction",
            ),
            (
                ("--header",),
                "header",
                "a header to send; repeatable",
                "'NAME: VALUE'",
                "==SUPPRESS==",
                False,
                None,
                "_AppendAction",
            ),
            (
                ("--allow-insecure-http",),
                "allow_insecure_http",
                "allow a plain http:// base URL to a host that is not this machine",
                None,
                "==SUPPRESS==",
                False,
                None,
                "_StoreTrueAction",
            ),
        ],
    ),
    "receive": (
        "receive Telnyx's delivery receipts into a campaign's journal (a webhook server)",
        (
            "Serve the webhook receiver (telnyx_messages.receiver) on HOST:PORT at PATH: each webhook is verified"
            " with the public key, recorded in the campaign's journal, then answered 200 (a duplicate is recorded"
            " once; a bad signature or a stale timestamp is answered 401 and recorded nowhere). Point the "
            "messaging profile's webhook URL (or a tunnel to this address) at it. `campaign status` and `campaign"
            " export` then show each recipient's delivery. Ctrl-C or SIGTERM stops it. Needs the [receiver] extra"
            " (pip install 'telnyx-messages[receiver]')."
        ),
        _campaign_cli.RECEIVE_EPILOG,
        "_receive",
        [
            (
                ("--journal",),
                "journal",
                "the campaign's journal (`campaign send` makes it), or a postgresql:// URL: every campaign's receipts",
                "RUN.db|URL",
                None,
                True,
                None,
                "_StoreAction",
            ),
            (
                ("--host",),
                "host",
                "the address to listen on (default 127.0.0.1)",
                None,
                "127.0.0.1",
                False,
                None,
                "_StoreAction",
            ),
            (
                ("--port",),
                "port",
                "the port (default 8000; 0: any free one, shown)",
                None,
                8000,
                False,
                "int",
                "_StoreAction",
            ),
            (
                ("--path",),
                "path",
                "the path webhooks are posted to (default /webhooks/telnyx)",
                None,
                "/webhooks/telnyx",
                False,
                None,
                "_StoreAction",
            ),
            (
                ("--public-key",),
                "public_key",
                "Telnyx's webhook public key (the portal's, base64); default: $TELNYX_PUBLIC_KEY",
                "KEY",
                None,
                False,
                None,
                "_StoreAction",
            ),
        ],
    ),
    "status": (
        "a journal's campaign, counts and deliveries",
        None,
        _campaign_cli.EPILOG,
        "_status",
        [
            (
                (),
                "journal",
                "an SQLite journal, or a postgresql:// URL (with --name)",
                "RUN.db|URL",
                None,
                True,
                None,
                "_StoreAction",
            ),
            (
                ("--name",),
                "name",
                "the campaign's name: needed with a postgresql:// journal; an SQLite journal's must be it",
                "NAME",
                None,
                False,
                None,
                "_StoreAction",
            ),
            (
                ("--json",),
                "json",
                "one JSON object: rows, accepted, pending, failed, unknown, ..., delivery (recipients by status)",
                None,
                False,
                False,
                None,
                "_StoreTrueAction",
            ),
        ],
    ),
    "export": (
        "every row of a journal as CSV: its state, message id, error, delivery",
        None,
        _campaign_cli.EPILOG,
        "_export",
        [
            (
                (),
                "journal",
                "an SQLite journal, or a postgresql:// URL (with --name)",
                "RUN.db|URL",
                None,
                True,
                None,
                "_StoreAction",
            ),
            (
                ("--name",),
                "name",
                "the campaign's name: needed with a postgresql:// journal; an SQLite journal's must be it",
                "NAME",
                None,
                False,
                None,
                "_StoreAction",
            ),
            (
                ("--output",),
                "output_file",
                "the file to write (default: standard output)",
                "OUT.csv",
                None,
                False,
                None,
                "_StoreAction",
            ),
        ],
    ),
}


def _subcommands(parser: argparse.ArgumentParser) -> Any:
    return next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))


def test_the_campaign_commands_options_and_help_texts_are_as_documented() -> None:
    # What --help shows and what each option parses into, option by option (argparse's formatting aside).
    commands = _subcommands(cli.build_parser())
    campaign = commands.choices["campaign"]
    listed = {choice.dest: choice.help for choice in commands._choices_actions}
    assert listed["campaign"] == (
        "send a CSV list of messages, paced, each once across crashes; see or export its journal"
    )
    assert campaign.description == (
        "Send a CSV list of messages, paced, each once across crashes and reruns (the journal records every row); "
        "see where a campaign is; export its journal."
    )
    assert campaign.epilog == _campaign_cli.EPILOG
    sub = _subcommands(campaign)
    assert (sub.dest, sub.required, sub.metavar) == ("campaign_command", True, "COMMAND")
    described = {choice.dest: choice.help for choice in sub._choices_actions}
    found = {
        name: (
            described[name],
            parser.description,
            parser.epilog,
            parser.get_default("campaign_run").__name__,
            [
                (
                    tuple(action.option_strings),
                    action.dest,
                    action.help,
                    action.metavar,
                    action.default,
                    action.required,
                    getattr(action.type, "__name__", None),
                    type(action).__name__,
                )
                for action in parser._actions[1:]  # after --help
            ],
        )
        for name, parser in sub.choices.items()
    }
    assert list(found) == list(CAMPAIGN_COMMANDS)
    for name, expected in CAMPAIGN_COMMANDS.items():
        assert found[name][:4] == expected[:4], name
        assert found[name][4] == expected[4], name
