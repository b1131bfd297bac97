"""`telnyx-messages campaign`: send a CSV list of messages through the campaign engine
(telnyx_messages.campaign), receive Telnyx's delivery receipts into its journal
(telnyx_messages.receiver), see where a campaign is, export its journal.

    telnyx-messages campaign send ROWS.csv --journal RUN.db --from +18445550001 --text "Hi {name}"
    telnyx-messages campaign receive --journal RUN.db [--host H] [--port P] [--path /webhooks/telnyx]
    telnyx-messages campaign status RUN.db [--json]
    telnyx-messages campaign export RUN.db [--output OUT.csv]

The journal may be a PostgreSQL database instead of an SQLite file: `--journal postgresql://...` (or
postgres://; psycopg 3, the `postgres` extra), which many senders and receivers share. It holds many
campaigns, so `send`, `status` and `export` name theirs with `--name NAME`; `receive` records every
campaign's receipts. The URL's password is never shown: messages name the URL with *** in its place.

The CSV has a header row. `to` is required; a column named as an argument of `messages.send`
(`from`, `text`, `subject`, `media_urls` space-separated, `messaging_profile_id`, `webhook_url`, ...,
read off the spec) becomes that argument, an empty cell none; `id` names the row (else its content
does); every other column fills a `{placeholder}` of `--text`. The whole file is checked before
anything is sent (a bad header, a placeholder with no column, a bad row: exit 3), and read as the
sends go, never held whole. The API key never reaches the journal or the output.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import datetime
import json
import math
import signal
import socket
import string
import sys
import time
import typing
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from ._pacing import DEFAULT_MAX_QUEUE_WAIT

if TYPE_CHECKING:
    from types import FrameType

    from ._journal import Journal, JournalRow, RowDelivery
    from ._postgres import PostgresJournal
    from .campaign import LocatedRow, Plan, Progress, Report
    from .receiver import ASGIReceiver

__all__ = ["add_commands", "run"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED, EXIT_STOPPED = 0, 1, 2, 3, 4
EPILOG = (
    "exit codes: 0 every row accepted; 1 finished with rows failed (or unknown), or the API refused the "
    "campaign (a bad key); 2 usage; 3 input refused before anything was sent (the CSV, the journal); "
    "4 stopped with rows pending (the spend limit, Ctrl-C, rows left without an answer): run again"
)
PLAIN_EVERY = 5.0  # seconds between the progress lines written off a terminal
_BAR_EVERY = 0.1  # seconds between the bar's updates from the engine's reports
_REFUSALS_SHOWN = 10  # refused rows listed (all are counted)
_TRUE, _FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no"})
RECEIVE_EPILOG = (
    "exit codes: 0 stopped (Ctrl-C, SIGTERM); 3 refused at start, before listening: no public key or a "
    "malformed one, a file that is no campaign journal, the [receiver] extra not installed, an address it "
    "cannot listen on"
)
RECEIVER_INSTALL = "pip install 'telnyx-messages[receiver]'"
DEFAULT_HOST, DEFAULT_PORT, DEFAULT_PATH = "127.0.0.1", 8000, "/webhooks/telnyx"
# Seconds the server waits, once stopped, for the requests it is answering (each is answered well within).
_GRACEFUL_SECONDS = 10
# Columns the campaign sets itself (a row may not).
_CAMPAIGN_SET = frozenset({"idempotency_key", "extra_headers", "extra_query", "extra_body", "timeout", "max_retries"})


class _Refused(ValueError):
    """Input refused before anything was sent (exit 3)."""


# --- the parser ---------------------------------------------------------------------------------


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    """The options of every command that sends, after the command's name (they win over the same
    before `campaign`)."""
    hidden = argparse.SUPPRESS
    parser.add_argument("--api-key", default=hidden, help="default: $TELNYX_API_KEY")
    parser.add_argument("--base-url", default=hidden, help="default: $TELNYX_BASE_URL, then https://api.telnyx.com/v2")
    parser.add_argument("--timeout", type=float, default=hidden, help="seconds for each attempt (default 60)")
    parser.add_argument(
        "--header", action="append", default=hidden, metavar="'NAME: VALUE'", help="a header to send; repeatable"
    )
    parser.add_argument(
        "--allow-insecure-http",
        action="store_true",
        default=hidden,
        help="allow a plain http:// base URL to a host that is not this machine",
    )


_READ_NAME_HELP = "the campaign's name: needed with a postgresql:// journal; an SQLite journal's must be it"


def _add_name_option(parser: argparse.ArgumentParser, text: str) -> None:
    parser.add_argument("--name", metavar="NAME", help=text)


def add_commands(commands: Any) -> None:
    """`campaign` and its commands, on the subparsers of the `telnyx-messages` parser."""
    campaign = commands.add_parser(
        "campaign",
        help="send a CSV list of messages, paced, each once across crashes; see or export its journal",
        description=(
            "Send a CSV list of messages, paced, each once across crashes and reruns (the journal records "
            "every row); see where a campaign is; export its journal."
        ),
        epilog=EPILOG,
    )
    sub = campaign.add_subparsers(dest="campaign_command", required=True, metavar="COMMAND")
    send = sub.add_parser(
        "send",
        help="send the rows of a CSV file not yet sent by this journal's campaign",
        description=(
            "Send each row of ROWS.csv once, paced, recorded in the journal: run the same command again after "
            "a crash or a stop, and it sends what is left. The CSV has a header row: `to` is required; a "
            "column named as an argument of `send` (from, text, subject, media_urls space-separated, "
            "messaging_profile_id, webhook_url, ...) becomes it; `id` names a row; other columns fill "
            "--text's {placeholders}. Options give what a row's empty cell leaves out."
        ),
        epilog=EPILOG,
    )
    send.add_argument("rows", metavar="ROWS.csv", help="the rows: a CSV file with a header row")
    send.add_argument(
        "--journal",
        required=True,
        metavar="RUN.db|URL",
        help="the campaign's journal: an SQLite file (made if missing), or a postgresql:// URL (with --name)",
    )
    _add_name_option(
        send,
        "the campaign's name: needed with a postgresql:// journal (made on its first run, joined "
        "by later runs and other senders); an SQLite journal records it",
    )
    sender = send.add_mutually_exclusive_group()
    sender.add_argument("--from", dest="from_", metavar="NUMBER", help="the sender, for rows without a `from`")
    sender.add_argument(
        "--messaging-profile-id", metavar="ID", help="the messaging profile, for rows without a messaging_profile_id"
    )
    send.add_argument(
        "--text",
        metavar="TEMPLATE",
        help="every row's text (the CSV then has no text column); {column} is that column of the row",
    )
    send.add_argument(
        "--rate", type=float, metavar="MPS", help="messages per second over the campaign (default: SMS 50, MMS 15)"
    )
    send.add_argument(
        "--sender-rate", type=float, metavar="MPS", help="messages per second per sender (default: by its kind)"
    )
    send.add_argument(
        "--max-queue-wait",
        type=float,
        metavar="SECONDS",
        help="hold a sender while the API reports its messages queued longer than this "
        f"(default {DEFAULT_MAX_QUEUE_WAIT:g})",
    )
    send.add_argument(
        "--resend-unknown",
        action="store_true",
        help="re-send the rows sent more than 24 hours ago and never confirmed (they may go out twice)",
    )
    send.add_argument("--max-in-flight", type=int, metavar="N", help="requests at once (default 100)")
    send.add_argument("--dry-run", action="store_true", help="check the rows and show the plan; send nothing")
    _add_connection_options(send)
    send.set_defaults(campaign_run=_send)

    receive = sub.add_parser(
        "receive",
        help="receive Telnyx's delivery receipts into a campaign's journal (a webhook server)",
        description=(
            "Serve the webhook receiver (telnyx_messages.receiver) on HOST:PORT at PATH: each webhook is verified "
            "with the public key, recorded in the campaign's journal, then answered 200 (a duplicate is recorded "
            "once; a bad signature or a stale timestamp is answered 401 and recorded nowhere). Point the "
            "messaging profile's webhook URL (or a tunnel to this address) at it. `campaign status` and `campaign "
            "export` then show each recipient's delivery. Ctrl-C or SIGTERM stops it. Needs the [receiver] "
            f"extra ({RECEIVER_INSTALL})."
        ),
        epilog=RECEIVE_EPILOG,
    )
    receive.add_argument(
        "--journal",
        required=True,
        metavar="RUN.db|URL",
        help="the campaign's journal (`campaign send` makes it), or a postgresql:// URL: every campaign's receipts",
    )
    receive.add_argument("--host", default=DEFAULT_HOST, help=f"the address to listen on (default {DEFAULT_HOST})")
    receive.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"the port (default {DEFAULT_PORT}; 0: any free one, shown)"
    )
    receive.add_argument(
        "--path", default=DEFAULT_PATH, help=f"the path webhooks are posted to (default {DEFAULT_PATH})"
    )
    receive.add_argument(
        "--public-key",
        metavar="KEY",
        help="Telnyx's webhook public key (the portal's, base64); default: $TELNYX_PUBLIC_KEY",
    )
    receive.set_defaults(campaign_run=_receive)

    status = sub.add_parser("status", help="a journal's campaign, counts and deliveries", epilog=EPILOG)
    status.add_argument("journal", metavar="RUN.db|URL", help="an SQLite journal, or a postgresql:// URL (with --name)")
    _add_name_option(status, _READ_NAME_HELP)
    status.add_argument(
        "--json",
        action="store_true",
        help="one JSON object: rows, accepted, pending, failed, unknown, ..., delivery (recipients by status)",
    )
    status.set_defaults(campaign_run=_status)

    export = sub.add_parser(
        "export", help="every row of a journal as CSV: its state, message id, error, delivery", epilog=EPILOG
    )
    export.add_argument("journal", metavar="RUN.db|URL", help="an SQLite journal, or a postgresql:// URL (with --name)")
    _add_name_option(export, _READ_NAME_HELP)
    export.add_argument(
        "--output", dest="output_file", metavar="OUT.csv", help="the file to write (default: standard output)"
    )
    export.set_defaults(campaign_run=_export)


def run(args: dict[str, Any]) -> int:
    """The exit code of a `campaign` command, from the parsed arguments."""
    command: Callable[[dict[str, Any]], int] = args["campaign_run"]
    return command(args)


# --- the CSV ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Column:
    index: int
    name: str  # as the header has it
    argument: str | None  # the send argument it becomes; None: a placeholder's, or `id`
    kind: str  # "str", "bool", "int", "list"


@dataclass(slots=True)
class _Layout:
    """What the header and the options make of each record."""

    path: str
    header: list[str]
    columns: list[_Column]
    template: str | None
    defaults: dict[str, Any] = field(default_factory=dict)
    line: int = 0  # the line of the file the record being read starts on (for errors)


def _send_arguments() -> dict[str, tuple[str, str]]:
    """The arguments a row may give, by the column names that give them (the wire name and the
    argument name), each with the kind of value its cell holds; read off the generated `send`."""
    from telnyx_messages._api.api import OPERATIONS, Messages

    from ._request_building import signature_of

    hints = signature_of(Messages.send).hints
    found: dict[str, tuple[str, str]] = {}
    for argument, wire in OPERATIONS["send"].body_parameters:
        kind = _kind(hints.get(argument))
        found[wire] = found[argument] = (argument, kind)
    return found


def _kind(hint: Any) -> str:
    members = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, _UnionType) else (hint,)
    if bool in members:
        return "bool"
    if any(typing.get_origin(member) is list for member in members):
        return "list"
    if int in members:
        return "int"
    return "str"


_UnionType = type(int | str)


def _placeholders(template: str) -> list[str]:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise _Refused(f"--text is not a template ({exc}); write a literal {{ or }} as {{{{ or }}}}") from None
    names = []
    for _, name, _, _ in parsed:
        if name is None:
            continue
        if name == "" or name.isdigit():
            raise _Refused("--text has a placeholder without a column name ({} or {0}): write {column}")
        names.append(name)
    return names


def _layout(path: str, header: list[str] | None, template: str | None, defaults: dict[str, Any]) -> _Layout:
    """The header checked against the send's arguments and the template: _Refused naming what is wrong."""
    if not header or all(not name.strip() for name in header):
        raise _Refused(f"{path} is empty: it needs a header row naming its columns (`to` at least)")
    names = [name.strip() for name in header]
    arguments = _send_arguments()
    seen: dict[str, str] = {}
    for name in names:
        if not name:
            raise _Refused(f"{path}: the header has an empty column name")
        argument = arguments[name][0] if name in arguments else name
        if argument in seen:
            raise _Refused(f"{path}: the header gives {argument} twice ({seen[argument]!r} and {name!r})")
        seen[argument] = name
    if "to" not in names:
        raise _Refused(f"{path} has no `to` column (its columns: {', '.join(names)})")
    used = _placeholders(template) if template is not None else []
    if template is not None and "text" in seen:
        raise _Refused(f"{path} has a text column and --text is given: give the text one way")
    for name in used:
        if name not in names:
            raise _Refused(f"--text names {{{name}}}, which is no column of {path} (its columns: {', '.join(names)})")
    columns = []
    for index, name in enumerate(names):
        if name in _CAMPAIGN_SET:
            raise _Refused(f"{path}: a column {name!r} is not allowed: the campaign sets {name} itself")
        if name in arguments:
            argument, kind = arguments[name]
            columns.append(_Column(index, name, argument, kind))
        elif name == "id" or name in used:
            columns.append(_Column(index, name, None, "str"))
        else:
            allowed = ", ".join(sorted({wire for wire in arguments if wire not in ("from_",)}))
            raise _Refused(
                f"{path}: the column {name!r} is no argument of send ({allowed}), not `id`, and no placeholder "
                "of --text"
            )
    return _Layout(path, names, columns, template, defaults)


def _cell(layout: _Layout, column: _Column, value: str) -> Any:
    if column.kind == "list":
        return value.split()
    if column.kind == "bool":
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise _Refused(f"{layout.path} line {layout.line}: {column.name} must be true or false, got {value!r}")
    if column.kind == "int":
        try:
            return int(value)
        except ValueError:
            raise _Refused(
                f"{layout.path} line {layout.line}: {column.name} must be a whole number, got {value!r}"
            ) from None
    return value


def _row(layout: _Layout, record: list[str]) -> dict[str, Any]:
    if len(record) != len(layout.header):
        raise _Refused(
            f"{layout.path} line {layout.line} has {len(record)} fields, the header {len(layout.header)} "
            "(a comma in a value needs the value in double quotes)"
        )
    row: dict[str, Any] = {}
    for column in layout.columns:
        value = record[column.index]
        if value == "":
            continue
        if column.argument is not None:
            row[column.argument] = _cell(layout, column, value)
        elif column.name == "id":
            row["id"] = value
    for argument, value in layout.defaults.items():
        row.setdefault(argument, value)
    if layout.template is not None:  # the header has no text column then
        cells = dict(zip(layout.header, record, strict=True))
        row["text"] = layout.template.format_map(cells)
    return row


@contextlib.contextmanager
def _opened(path: str) -> Iterator[IO[str]]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as file:
            yield file
    except UnicodeDecodeError as exc:
        raise _Refused(f"{path} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None


def _read_layout(path: str, template: str | None, defaults: dict[str, Any]) -> _Layout:
    with _opened(path) as file:
        try:
            header = next(csv.reader(file), None)
        except csv.Error as exc:
            raise _Refused(f"{path} line 1: {exc}") from None
    return _layout(path, header, template, defaults)


def _records(layout: _Layout) -> Iterator[LocatedRow]:
    """The rows of the file, read one at a time (the file is never held whole), each named by the
    line of the file it starts on (the header is line 1; a quoted value holding a line break makes
    a record of several lines: the reader's count of lines, not of records)."""
    from .campaign import LocatedRow

    with _opened(layout.path) as file:
        reader = csv.reader(file)
        try:
            next(reader, None)
            while True:
                layout.line = reader.line_num + 1
                record = next(reader, None)
                if record is None:
                    return
                if not record:  # a blank line
                    continue
                yield LocatedRow(_row(layout, record), f"line {layout.line}")
        except csv.Error as exc:
            raise _Refused(f"{layout.path} line {reader.line_num}: {exc}") from None


# --- progress -----------------------------------------------------------------------------------


class _Shown(Protocol):
    def update(self, progress: Progress) -> None: ...
    def tick(self) -> None: ...
    def close(self) -> None: ...


def _numbers(progress: Progress) -> dict[str, str]:
    total = progress.total
    remaining = None if total is None else max(total - progress.done, 0)
    if remaining == 0:
        eta = "0s"
    elif remaining is not None and progress.rate > 0:
        eta = _duration(remaining / progress.rate)
    else:
        eta = "?"
    wait = progress.max_wait_seconds
    return {
        "done": f"{progress.done}/{'?' if total is None else total}",
        "rate": f"{progress.rate:.1f}/s",
        "eta": eta,
        "accepted": str(progress.accepted),
        "failed": str(progress.failed),
        "wait": "-" if wait is None else f"{wait:.0f}s",
        "held": "" if progress.held_until is None else f", held {progress.held_until:.0f}s (request limit)",
    }


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


class _PlainProgress:
    """A line on standard error every PLAIN_EVERY seconds (off a terminal, or without `rich`)."""

    def __init__(self, stream: IO[str], clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.every = PLAIN_EVERY
        self.clock = clock
        self.latest: Progress | None = None
        self.written_at = clock()

    def update(self, progress: Progress) -> None:
        self.latest = progress

    def tick(self) -> None:
        now = self.clock()
        if self.latest is None or now - self.written_at < self.every:
            return
        self.written_at = now
        n = _numbers(self.latest)
        self.stream.write(
            f"campaign: {n['done']} rows, {n['rate']}, ETA {n['eta']}, accepted {n['accepted']}, "
            f"failed {n['failed']}, max queue wait {n['wait']}{n['held']}\n"
        )
        self.stream.flush()

    def close(self) -> None:
        pass


class _BarProgress:
    """rich's live progress bar on the terminal (standard error)."""

    def __init__(self, stream: IO[str], total: int | None, clock: Callable[[], float] = time.monotonic) -> None:
        from rich import console, progress

        self.clock = clock
        self.bar = progress.Progress(
            progress.TextColumn("{task.description}"),
            progress.BarColumn(),
            progress.TextColumn("{task.fields[done]} {task.fields[rate]} ETA {task.fields[eta]}"),
            progress.TextColumn(
                "accepted {task.fields[accepted]} failed {task.fields[failed]} "
                "queue wait {task.fields[wait]}{task.fields[held]}"
            ),
            progress.TimeElapsedColumn(),
            console=console.Console(file=stream),
            refresh_per_second=5,
        )
        fields: dict[str, Any] = {
            "done": f"0/{'?' if total is None else total}",
            "rate": "0.0/s",
            "eta": "?",
            "accepted": "0",
            "failed": "0",
            "wait": "-",
            "held": "",
        }
        self.task = self.bar.add_task("campaign", total=total, **fields)
        self.latest: Progress | None = None
        self.shown_at = -math.inf  # the first progress is shown at once
        self.bar.start()

    def update(self, progress: Progress) -> None:
        self.latest = progress
        if self.clock() - self.shown_at >= _BAR_EVERY:
            self.show()

    def show(self) -> None:
        self.shown_at = self.clock()
        if self.latest is not None:
            fields: dict[str, Any] = _numbers(self.latest)
            self.bar.update(self.task, completed=self.latest.done, **fields)

    def tick(self) -> None:
        self.show()

    def close(self) -> None:
        self.show()
        self.bar.stop()


def _progress_display(total: int | None) -> _Shown:
    """A bar on a terminal when `rich` is installed (the `campaign` extra); else plain lines."""
    stream = sys.stderr
    if stream.isatty():
        try:
            return _BarProgress(stream, total)
        except ImportError:
            pass
    return _PlainProgress(stream)


# --- the commands -------------------------------------------------------------------------------


def _cli() -> Any:
    from . import cli

    return cli


def _fail(message: str, code: int) -> int:
    result: int = _cli()._error(message, code)
    return result


def _sending_options(args: dict[str, Any]) -> dict[str, Any]:
    """The engine's settings from the options (checked by the dry run that comes first)."""
    options = {"rate": args["rate"], "sender_rate": args["sender_rate"]}
    for name in ("max_queue_wait", "max_in_flight"):
        if args[name] is not None:
            options[name] = args[name]
    return options


def _send(args: dict[str, Any]) -> int:
    from .campaign import Campaign, CampaignError, JournalError

    cli = _cli()
    path = args["rows"]
    if (unnamed := _unnamed(args, "send")) is not None:
        return unnamed
    defaults = {name: args[name] for name in ("from_", "messaging_profile_id") if args.get(name) not in (None, "")}
    try:
        layout = _read_layout(path, args["text"], defaults)
        client = None if args["dry_run"] else _client(args)
    except (_Refused, ValueError, OSError) as exc:
        return _fail(_message(exc), EXIT_REFUSED)
    except cli.TelnyxError as exc:
        return _fail(f"{type(exc).__name__}: {cli._in_cli_terms(str(exc))}", EXIT_REFUSED)
    try:
        try:
            plan = Campaign(None, _records(layout), **_sending_options(args)).dry_run_sync()
        except (_Refused, ValueError, TypeError, OSError) as exc:
            return _fail(_message(exc), EXIT_REFUSED)
        except KeyboardInterrupt:
            return _fail("interrupted before anything was sent", EXIT_STOPPED)
        if args["dry_run"]:
            _show_plan(plan, path)
            return EXIT_REFUSED if plan.refused else EXIT_OK
        if plan.refused:
            for refusal in plan.refusals[:_REFUSALS_SHOWN]:
                cli._error(f"{path} {refusal.reason}", EXIT_REFUSED)
            more = plan.refused - min(len(plan.refusals), _REFUSALS_SHOWN)
            tail = f" ({more} more not listed; --dry-run lists the first ones)" if more > 0 else ""
            return _fail(f"{path}: {plan.refused} of {plan.rows} rows refused, nothing sent{tail}", EXIT_REFUSED)
        assert client is not None
        display = _progress_display(plan.rows)
        try:
            report = asyncio.run(_run_campaign(client, layout, args, plan.rows, display))
        finally:
            display.close()
    except (CampaignError, JournalError) as exc:
        return _fail(f"{type(exc).__name__}: {exc}", EXIT_REFUSED)
    except ImportError as exc:  # psycopg, for a PostgreSQL journal: before anything was sent
        return _fail(str(exc), EXIT_REFUSED)
    except _Refused as exc:
        return _fail(f"{exc} (the rows before it were sent; fix it and run again)", EXIT_REFUSED)
    except cli.TelnyxError as exc:
        return _fail(f"{type(exc).__name__}: {cli._in_cli_terms(str(exc))}", EXIT_FAILED)
    except (KeyboardInterrupt, asyncio.CancelledError):
        return _fail(
            f"interrupted: stopped at once; the rows in flight are re-sent with their keys by the next run of "
            f"this command (the journal {_shown(args['journal'])} is consistent)",
            EXIT_STOPPED,
        )
    return _outcome(report, _naming(args))


def _message(exc: BaseException) -> str:
    if isinstance(exc, _Refused):
        return str(exc)
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"cannot read {exc.filename}: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {_cli()._in_cli_terms(str(exc))}"


def _client(args: dict[str, Any]) -> Any:
    from ._client import AsyncTelnyx

    headers = _cli()._headers(args.get("header") or [])
    options: dict[str, Any] = {"default_headers": headers or None}
    if args.get("timeout") is not None:
        options["timeout"] = args["timeout"]
    return AsyncTelnyx(
        api_key=args.get("api_key"),
        base_url=args.get("base_url"),
        allow_insecure_http=bool(args.get("allow_insecure_http")),
        **options,
    )


async def _run_campaign(client: Any, layout: _Layout, args: dict[str, Any], total: int, display: _Shown) -> Report:
    """The run, stopped cleanly by a first Ctrl-C (or SIGTERM), at once by a second."""
    from .campaign import Campaign

    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    async with client:
        campaign = Campaign(
            client,
            _records(layout),
            args["journal"],
            name=args["name"],
            **_sending_options(args),
            resend_unknown=args["resend_unknown"],
            total=total,
            progress=display.update,
        )
        signals = 0

        def interrupted() -> None:
            nonlocal signals
            signals += 1
            if signals == 1:
                campaign.stop()
            elif task is not None:
                task.cancel()

        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, interrupted)
        ticker = asyncio.create_task(_tick(display))
        try:
            return await campaign.run()
        finally:
            ticker.cancel()
            for number in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(number)


async def _tick(display: _Shown) -> None:
    while True:
        await asyncio.sleep(0.5)
        display.tick()


def _outcome(report: Report, journal: str) -> int:
    """`journal`: as the export command names it (_naming)."""
    """The summary on standard output, a stop's reason on standard error, and the exit code."""
    cli = _cli()
    cli._write(
        f"{report.rows} rows: {report.accepted} accepted, {report.failed} failed, {report.pending} pending, "
        f"{report.unknown} unknown ({report.sent} requests sent in {_duration(report.elapsed)})\n"
    )
    if report.stop is not None:
        return _fail(f"stopped: {report.stop.message}", EXIT_STOPPED)
    if report.pending:
        return _fail(
            f"stopped: {report.pending} rows sent without an answer taken (the API or the network failing): "
            "run again to re-send them with their keys",
            EXIT_STOPPED,
        )
    if report.failed or report.unknown:
        parts = []
        if report.failed:
            parts.append(f"{report.failed} rows failed")
        if report.unknown:
            parts.append(f"{report.unknown} rows unknown (sent over 24 hours ago, never confirmed; --resend-unknown)")
        return _fail(f"{', '.join(parts)}: see telnyx-messages campaign export {journal}", EXIT_FAILED)
    return EXIT_OK


def _show_plan(plan: Plan, path: str) -> None:
    lines = [
        f"rows      {plan.rows}",
        f"messages  {plan.messages} ({', '.join(f'{n} {kind}' for kind, n in sorted(plan.by_type.items())) or 'none'})",
        f"parts     {plan.parts}",
        f"refused   {plan.refused}",
    ]
    lines += [f"  {path} {refusal.reason}" for refusal in plan.refusals[:_REFUSALS_SHOWN]]
    lines.append(f"senders   {len(plan.senders)}")
    for name, count in sorted(plan.senders.items(), key=lambda item: (-item[1], item[0]))[:_REFUSALS_SHOWN]:
        lines.append(f"  {name}: {count}")
    lines.append(f"time      {_duration(plan.seconds)} at the set rates (nothing sent)")
    _cli()._write("\n".join(lines) + "\n")


def _status(args: dict[str, Any]) -> int:
    from .campaign import JournalError, status

    if (unnamed := _unnamed(args, "status")) is not None:
        return unnamed
    try:
        delivery = _delivery_counts(args["journal"], args["name"])  # opened first: what is not one is refused
        found = status(args["journal"], name=args["name"])
    except (JournalError, OSError) as exc:
        return _fail(f"{type(exc).__name__}: {exc}", EXIT_REFUSED)
    except ImportError as exc:
        return _fail(str(exc), EXIT_REFUSED)
    if args["json"]:
        document = {
            "campaign_id": found.campaign_id,
            "name": found.name,
            "created_at": found.created_at.isoformat(),
            "parameters": {name: _json_value(value) for name, value in found.parameters.items()},
            "rows": found.rows,
            "accepted": found.accepted,
            "pending": found.pending,
            "failed": found.failed,
            "unknown": found.unknown,
            "delivery": delivery,
        }
        _cli()._write(json.dumps(document) + "\n")
        return EXIT_OK
    lines = [f"campaign  {found.campaign_id}" + (f" ({found.name})" if found.name else "")]
    lines.append(f"created   {found.created_at:%Y-%m-%d %H:%M:%S} UTC")
    for name in ("rows", "accepted", "pending", "failed", "unknown"):
        lines.append(f"{name:<9} {getattr(found, name)}")
    shown = ", ".join(f"{count} {name}" for name, count in delivery.items())
    lines.append(f"delivery  {shown or 'none recorded (telnyx-messages campaign receive records them)'}")
    _cli()._write("\n".join(lines) + "\n")
    return EXIT_OK


def _delivery_counts(journal: str, name: str | None) -> dict[str, int]:
    """The campaign's recipients by delivery status, in the API's order of statuses (then any other
    status, by name); a status no recipient is at is left out; {} before any receiver ran."""
    from ._journal import Journal

    with _journal_opened(journal, name) as opened:
        counts = opened.delivery_counts() if isinstance(opened, Journal) else _postgres_delivery_counts(opened)
    if not counts:
        return {}
    from ._receipts import status_order

    order = status_order().statuses

    def place(status: str) -> tuple[int, str]:
        return (order.index(status) if status in order else len(order), status)

    return {status: counts[status] for status in sorted(counts, key=place)}


def _json_value(value: Any) -> Any:
    return str(value) if isinstance(value, float) and not math.isfinite(value) else value


EXPORT_COLUMNS = (
    "id",
    "state",
    "to",
    "from",
    "message_id",
    "wait_seconds",
    "error_code",
    "error_detail",
    "attempts",
    "first_attempt_at",
    "last_attempt_at",
    "idempotency_key",
    "delivery_status",
    "delivery_error_codes",
    "delivery_errors",
    "delivery_occurred_at",
)


def _export_cells(row: JournalRow, delivery: RowDelivery | None) -> list[str]:
    def text(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime.datetime):
            return value.isoformat()
        return str(value)

    values: Mapping[str, object] = {
        "id": row.identity,
        "state": row.state,
        "to": row.recipient,
        "from": row.sender,
        "message_id": row.message_id,
        "wait_seconds": row.wait_seconds,
        "error_code": row.error_code,
        "error_detail": row.error_detail,
        "attempts": row.attempts,
        "first_attempt_at": row.first_attempt_at,
        "last_attempt_at": row.last_attempt_at,
        "idempotency_key": row.idempotency_key,
        "delivery_status": delivery and delivery.status,
        "delivery_error_codes": delivery and delivery.error_codes,
        "delivery_errors": delivery and delivery.errors,
        "delivery_occurred_at": delivery and delivery.occurred_at,
    }
    return [text(values[name]) for name in EXPORT_COLUMNS]


def _export(args: dict[str, Any]) -> int:
    from ._journal import Journal, JournalError

    if (unnamed := _unnamed(args, "export")) is not None:
        return unnamed
    target = args.get("output_file")
    try:
        with contextlib.ExitStack() as stack:
            # A journal of a campaign, checked before any output is made.
            opened = stack.enter_context(_journal_opened(args["journal"], args["name"]))
            rows = opened.rows_delivered() if isinstance(opened, Journal) else _postgres_rows_delivered(opened)
            first = next(rows, None)
            if target is None:
                stream: IO[str] = sys.stdout
            else:
                stream = stack.enter_context(Path(target).open("w", encoding="utf-8", newline=""))
            writer = csv.writer(stream)
            writer.writerow(EXPORT_COLUMNS)
            if first is not None:
                writer.writerow(_export_cells(*first))
                for row, delivery in rows:
                    writer.writerow(_export_cells(row, delivery))
    except (JournalError, OSError) as exc:
        if isinstance(exc, BrokenPipeError):
            _cli()._stdout_to_devnull()
            return EXIT_OK
        return _fail(f"{type(exc).__name__}: {exc}", EXIT_REFUSED)
    except ImportError as exc:
        return _fail(str(exc), EXIT_REFUSED)
    return EXIT_OK


# --- the journal: an SQLite file or a PostgreSQL URL ------------------------------------------------


def _is_url(journal: str) -> bool:
    from ._postgres import is_postgres_url

    return is_postgres_url(journal)


def _shown(journal: str) -> str:
    """The journal as the output names it: a URL without its password."""
    from ._postgres import redacted

    return redacted(journal) if _is_url(journal) else journal


def _naming(args: dict[str, Any]) -> str:
    """The journal and the campaign's name as a command's arguments give them (the password left out)."""
    return _shown(args["journal"]) + (f" --name {args['name']}" if args["name"] else "")


def _unnamed(args: dict[str, Any], command: str) -> int | None:
    """Exit 2 for a PostgreSQL journal without the campaign's name (it holds many); None: named."""
    if _is_url(args["journal"]) and not args["name"]:
        return _fail(
            f"campaign {command}: {_shown(args['journal'])} holds many campaigns: name this one with --name NAME",
            EXIT_USAGE,
        )
    return None


@contextlib.contextmanager
def _journal_opened(journal: str, name: str | None) -> Iterator[Journal | PostgresJournal]:
    """The journal to read, holding a campaign (of that name, if named): JournalError, else
    FileNotFoundError for no SQLite file; ImportError without psycopg."""
    from ._journal import JournalError
    from ._journals import open_existing

    with open_existing(journal, name) as opened:
        record = opened.campaign()
        if record is None:
            raise JournalError(f"{opened.path} holds no campaign yet")
        if name is not None and record.name != name:
            raise JournalError(f"{opened.path} is the journal of campaign {record.name!r}, not {name!r}")
        yield opened


def _postgres_delivery_counts(journal: PostgresJournal) -> dict[str, int]:
    """Journal.delivery_counts() on PostgreSQL: the campaign's recipients by status, a message once."""
    from ._postgres import SCHEMA

    found = journal._db.execute(
        f"SELECT status, count(*) FROM {SCHEMA}.deliveries WHERE message_id IN (SELECT message_id FROM"
        f" {SCHEMA}.rows WHERE campaign_id = %s AND message_id IS NOT NULL) GROUP BY status",
        (journal._id(),),
    ).fetchall()
    return {str(status): int(count) for status, count in found}


def _postgres_rows_delivered(journal: PostgresJournal) -> Iterator[tuple[JournalRow, RowDelivery | None]]:
    """Journal.rows_delivered() on PostgreSQL: every row in the campaign's order, with its recipient's
    delivery (that of its message to its recipient, else the message's one delivery), read a batch at
    a time (a server-side cursor)."""
    from ._journal import RowDelivery
    from ._postgres import _ROW_COLUMNS, SCHEMA, journal_row

    campaign_id = journal._id()
    journal.commit()
    with journal._db.cursor(name=f"delivered_{uuid.uuid4().hex[:8]}") as cursor:
        cursor.execute(
            f"SELECT {_ROW_COLUMNS}, d.delivery_status, d.delivery_codes, d.delivery_errors, d.delivery_at"
            f" FROM {SCHEMA}.rows AS r LEFT JOIN LATERAL (SELECT x.status AS delivery_status, x.error_codes AS"
            " delivery_codes, x.errors AS delivery_errors, x.occurred_at AS delivery_at"
            f" FROM {SCHEMA}.deliveries AS x WHERE x.message_id = r.message_id AND (x.recipient = r.recipient"
            f" OR (SELECT count(*) FROM {SCHEMA}.deliveries AS y WHERE y.message_id = r.message_id) = 1) LIMIT 1)"
            " AS d ON true WHERE r.campaign_id = %s ORDER BY r.seq",
            (campaign_id,),
        )
        for found in cursor:
            row = journal_row(found)
            status, codes, errors, occurred = found[13:]
            yield row, None if status is None else RowDelivery(status, codes, errors, occurred)
    journal.commit()


# --- receiving ------------------------------------------------------------------------------------


def _receive(args: dict[str, Any]) -> int:
    """Serve the receiver on the journal until stopped: every check made, and refused with exit 3,
    before anything listens."""
    cli = _cli()
    journal, host, port, path = args["journal"], args["host"], args["port"], args["path"]
    try:
        key = cli._public_key(args["public_key"])
    except ValueError as exc:
        return _fail(f"campaign receive: {exc}", EXIT_REFUSED)
    try:
        import nacl.signing  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        missing = {"nacl": "PyNaCl"}.get((exc.name or "").partition(".")[0], exc.name or "a module")
        return _fail(
            f"campaign receive needs uvicorn and PyNaCl ({missing} is missing): {RECEIVER_INSTALL}", EXIT_REFUSED
        )
    if not path.startswith("/"):
        return _fail(f"campaign receive: --path must start with '/', got {path!r}", EXIT_REFUSED)
    if not 0 <= port <= 65535:
        return _fail(f"campaign receive: --port must be 0 to 65535, got {port}", EXIT_REFUSED)
    from ._journal import Journal, JournalError
    from .receiver import ASGIReceiver, Receiver, StoreError

    try:
        if not _is_url(journal):  # a campaign's journal, checked writing nothing to any other file
            with Journal(journal, create=False):
                pass
    except FileNotFoundError as exc:
        return _fail(f"{exc} (`campaign send --journal {journal}` makes it)", EXIT_REFUSED)
    except (JournalError, OSError) as exc:
        return _fail(f"{type(exc).__name__}: {exc}", EXIT_REFUSED)
    try:
        receiver = Receiver(journal, public_key=key)  # PostgreSQL's: connected, its schema made or migrated
    except (StoreError, OSError) as exc:
        return _fail(f"{type(exc).__name__}: {exc}", EXIT_REFUSED)
    except ImportError as exc:  # psycopg
        return _fail(f"campaign receive: {exc}", EXIT_REFUSED)
    try:
        try:
            sock = _listening(host, port)
        except OSError as exc:
            return _fail(f"campaign receive: cannot listen on {host}:{port}: {exc.strerror or exc}", EXIT_REFUSED)
        with sock:
            _serve(ASGIReceiver(receiver, path=path), sock, f"{path} (journal {_shown(journal)})")
    except KeyboardInterrupt:  # before the server took the signals
        pass
    finally:
        receiver.close()
    return EXIT_OK


def _listening(host: str, port: int) -> socket.socket:
    """A socket listening on host:port (port 0: one the system picks)."""
    family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, protocol)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(1024)
    except BaseException:
        sock.close()
        raise
    return sock


def _serve(app: ASGIReceiver, sock: socket.socket, where: str) -> None:
    """Run uvicorn on `sock` until a signal stops it (SIGINT or SIGTERM: its graceful shutdown, which
    closes the receiver; a second Ctrl-C at once). Says where it listens once it does."""
    import uvicorn

    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            # uvicorn's, without raising the signal again once it has stopped (a stop is exit 0).
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
            else:
                self.should_exit = True

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                _cli()._write(f"listening on http://{shown}:{port}{where}; Ctrl-C stops\n")
                with contextlib.suppress(OSError):
                    sys.stdout.flush()

    async def served(scope: Any, receive: Any, send: Any) -> None:
        await app(scope, receive, send)

    # Warnings only (no access log): the listening line is all it prints while it runs well. ASGI 3 said,
    # not detected: detection reads __call__, which a wrapper (a decorator, a tracer) may hide. The app is
    # given as a function of exactly the ASGI arguments: uvicorn calls it with none to tell a factory, and
    # a wrapper taking any arguments (mutation testing's, a tracer's) would answer with a coroutine, not a
    # TypeError, which uvicorn would then serve as the app.
    config = uvicorn.Config(
        served, log_level="warning", lifespan="on", interface="asgi3", timeout_graceful_shutdown=_GRACEFUL_SECONDS
    )
    Server(config).run(sockets=[sock])
