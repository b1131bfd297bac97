"""`telnyx-messages campaign send`: what its options make of the rows before anything is sent (an
empty option, the refusals listed and counted, a Ctrl-C while the rows are checked, no API key), run
in-process through the CLI's main() as tests/test_campaign_cli.py runs it."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from .support.loopback import serving
from .support.server import LoopbackServer, Reply
from .test_campaign_cli import message, numbered, scripted, send, write_rows
from .test_cli import run

server = pytest.fixture(serving)


def test_an_empty_from_or_messaging_profile_option_is_none_given(tmp_path: Path) -> None:
    rows = numbered(tmp_path / "rows.csv", 2)
    base = ["campaign", "send", str(rows), "--journal", str(tmp_path / "run.db"), "--text", "Hi {name}", "--dry-run"]
    plain = run(*base, env={"PATH": "/usr/bin:/bin"})  # no API key: a dry run needs none
    assert plain.returncode == 0, plain.stderr
    assert "refused   0\nsenders   1\n  (no sender): 2\n" in plain.stdout
    for option in ("--from", "--messaging-profile-id"):
        empty = run(*base, option, "")
        assert (empty.returncode, empty.stdout, empty.stderr) == (0, plain.stdout, ""), option


def _refused(tmp_path: Path, server: LoopbackServer, bad: int) -> str:
    """What a send of 12 rows, the first `bad` of them with no E.164 `to`, writes on standard error."""
    rows = [["nope" if n < bad else f"+1312{n:07d}", f"n{n}"] for n in range(12)]
    result = send(write_rows(tmp_path / f"rows{bad}.csv", ["to", "name"], rows), tmp_path / "run.db", server.base_url)
    assert result.returncode == 3 and server.received == [] and result.stdout == ""
    return result.stderr


def test_the_first_ten_refused_rows_are_named_and_the_rest_counted(tmp_path: Path, server: LoopbackServer) -> None:
    rows = tmp_path / "rows10.csv"
    ten = _refused(tmp_path, server, 10).splitlines()
    assert len(ten) == 11
    assert [line.split("rows10.csv line ")[1].split(":")[0] for line in ten[:10]] == [str(n) for n in range(2, 12)]
    assert ten[10] == f"telnyx-messages: {rows}: 10 of 12 rows refused, nothing sent"
    eleven = _refused(tmp_path, server, 11).splitlines()
    assert len(eleven) == 11
    assert eleven[10] == (
        f"telnyx-messages: {tmp_path / 'rows11.csv'}: 11 of 12 rows refused, nothing sent "
        "(1 more not listed; --dry-run lists the first ones)"
    )


def test_ctrl_c_while_the_rows_are_checked_stops_with_exit_4_and_nothing_sent(
    tmp_path: Path, server: LoopbackServer
) -> None:
    # The rows come through a pipe: the header for the first read (the header's check), then, for
    # the check of every row, one row and no end; Ctrl-C (SIGINT to this process, sent to the main
    # thread, where Python's handlers run) comes while that check waits for the next row, and the
    # pipe ends only when the command has returned or 3 s later, so the interrupt is taken before the
    # check can end. (Ended at once after the signal, the pipe's end was once read, the row checked
    # and sent before the handler ran, on a loaded machine.)
    server.default = scripted(lambda body, n: Reply(200, message(n)))
    rows = tmp_path / "rows.csv"
    os.mkfifo(rows)
    failures: list[BaseException] = []

    def write() -> None:
        try:
            with rows.open("w") as pipe:
                pipe.write("to,name\n")
            deadline = time.monotonic() + 30
            while _readers(rows) and time.monotonic() < deadline:  # the header's check has closed the pipe
                time.sleep(0.001)
            with rows.open("w") as pipe:  # the check of every row has opened it
                pipe.write("to,name\n+13125550001,Ann\n")
                pipe.flush()
                signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
                returned.wait(3)
        except BaseException as exc:  # reported by the test
            failures.append(exc)

    returned = threading.Event()
    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        result = send(rows, tmp_path / "run.db", server.base_url)
    finally:
        returned.set()
    writer.join(10)
    assert not failures and not writer.is_alive()
    assert (result.returncode, result.stdout) == (4, "")
    assert result.stderr == "telnyx-messages: interrupted before anything was sent\n"
    assert server.received == [] and not (tmp_path / "run.db").exists()


def test_without_an_api_key_the_clients_error_is_named_in_the_clis_terms(tmp_path: Path) -> None:
    rows = numbered(tmp_path / "rows.csv", 2)
    result = run(
        "campaign", "send", str(rows), "--journal", str(tmp_path / "run.db"), "--from", "+18445550001",
        "--text", "Hi {name}", "--base-url", "http://127.0.0.1:9", env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (3, "")
    assert result.stderr == (
        "telnyx-messages: TelnyxError: No API key: pass --api-key or set the TELNYX_API_KEY environment variable.\n"
    )
    assert not (tmp_path / "run.db").exists()


def _readers(path: Path) -> int:
    """The ends of the pipe `path` open in this process (its only readers, when it writes none)."""
    wanted = path.stat()
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own, closed since
            found = os.stat(f"/proc/self/fd/{fd}")
            count += (found.st_dev, found.st_ino) == (wanted.st_dev, wanted.st_ino)
    return count


def _header_refusal(tmp_path: Path, header: list[str], *options: str) -> str:
    """The line campaign send writes (after "telnyx-messages: ") for a CSV with this header and one
    row: exit 3, nothing made or shown; the file's path reads as FILE."""
    rows = write_rows(tmp_path / "rows.csv", header, [["x"] * len(header)])
    result = run("campaign", "send", str(rows), "--journal", str(tmp_path / "run.db"), "--dry-run", *options)
    assert (result.returncode, result.stdout) == (3, ""), result.stderr
    assert not (tmp_path / "run.db").exists()
    assert result.stderr.startswith("telnyx-messages: ") and result.stderr.count("\n") == 1, result.stderr
    return result.stderr.removeprefix("telnyx-messages: ").removesuffix("\n").replace(str(rows), "FILE")


def test_a_header_refusal_names_the_columns_as_the_header_has_them(tmp_path: Path) -> None:
    assert (
        _header_refusal(tmp_path, ["id", "number", "name"]) == "FILE has no `to` column (its columns: id, number, name)"
    )
    assert (
        _header_refusal(tmp_path, ["to", "from", "from_"]) == "FILE: the header gives from_ twice ('from' and 'from_')"
    )
    assert _header_refusal(tmp_path, ["to", "text", " subject", "subject"]) == (
        "FILE: the header gives subject twice ('subject' and 'subject')"
    )
    assert _header_refusal(tmp_path, ["id", "to", "name"], "--text", "Hi {nme}") == (
        "--text names {nme}, which is no column of FILE (its columns: id, to, name)"
    )


def test_an_unknown_column_is_refused_naming_the_columns_send_takes_by_their_wire_names(tmp_path: Path) -> None:
    refusal = _header_refusal(tmp_path, ["to", "nmae"], "--text", "Hi")
    before, _, rest = refusal.partition(": the column 'nmae' is no argument of send (")
    listed, tail, after = rest.partition("), not `id`, and no placeholder of --text")
    assert (before, tail, after) == ("FILE", "), not `id`, and no placeholder of --text", "")
    names = listed.split(", ")
    assert names == sorted(names) and len(names) == len(set(names))
    assert {"to", "from", "text", "media_urls", "messaging_profile_id", "subject"} <= set(names)
    assert "from_" not in names and all(name.strip() == name and name for name in names)


def test_an_empty_file_or_a_header_the_csv_reader_refuses_is_named_by_its_first_line(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    base = ["campaign", "send", str(rows), "--journal", str(tmp_path / "run.db"), "--dry-run"]
    rows.write_bytes(b"")
    empty = run(*base)
    assert (empty.returncode, empty.stdout) == (3, "")
    assert empty.stderr == (
        f"telnyx-messages: {rows} is empty: it needs a header row naming its columns (`to` at least)\n"
    )
    rows.write_text("to," + "x" * 200_000 + "\n+13125550001,a\n")
    huge = run(*base)
    assert (huge.returncode, huge.stdout) == (3, "")
    assert huge.stderr == f"telnyx-messages: {rows} line 1: field larger than field limit (131072)\n"
    assert not (tmp_path / "run.db").exists()
