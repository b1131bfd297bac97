"""The telnyx-messages command against a loopback server: run in this process through its main()
(so that `make mutation`'s changes reach it), and once as the installed script."""

from __future__ import annotations

import argparse
import inspect
import io
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from telnyx_messages import cli

from .support import API_KEY
from .support import MESSAGE_ID as GROUP_ID
from .support.server import LoopbackServer, Reply
from .support.spec import message_example

CLI = Path(sys.executable).parent / "telnyx-messages"


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str
    stdin_read: int = 0  # bytes of the input the command read


def run(*args: str, env: dict[str, str] | None = None, stdin: bytes = b"") -> Ran:
    """What the command does with these arguments, environment (all of it, if given) and input."""
    stdout, stderr, source = io.StringIO(), io.StringIO(), io.BytesIO(stdin)
    reader = io.TextIOWrapper(source)  # held here: collected, it would close `source`
    with (
        mock.patch.dict(os.environ, env or {}, clear=env is not None),
        mock.patch.object(sys, "stdin", reader),
        mock.patch.object(sys, "stdout", stdout),
        mock.patch.object(sys, "stderr", stderr),
    ):
        try:
            code = cli.main(list(args))
        except SystemExit as exit:  # argparse's usage errors and --help
            code = exit.code if isinstance(exit.code, int) else 1
    return Ran(code, stdout.getvalue(), stderr.getvalue(), source.tell())


def test_retrieve_group_messages_prints_json(server: LoopbackServer, spec: dict[str, Any]) -> None:
    example = message_example()
    server.reply(Reply(200, {"data": [example]}))
    result = run(
        "--api-key", API_KEY, "--base-url", server.base_url, "retrieve-group-messages", "--message-id", GROUP_ID
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["data"][0]["id"] == example["id"]
    assert server.received[0].path == f"/messages/group/{GROUP_ID}"


def test_send_takes_body_options_and_the_environment(server: LoopbackServer, spec: dict[str, Any]) -> None:
    server.reply(Reply(200, {"data": message_example()}))
    env = {"TELNYX_API_KEY": API_KEY, "TELNYX_BASE_URL": server.base_url, "PATH": "/usr/bin:/bin"}
    args = [
        "send",
        "--to",
        "+13125550002",
        "--from",
        "+18445550001",
        "--text",
        "hi",
        "--media-urls",
        "http://a",
        "http://b",
    ]
    result = run(*args, "--no-use-profile-webhooks", env=env)
    assert result.returncode == 0, result.stderr
    assert server.received[0].json() == {
        "to": "+13125550002",
        "from": "+18445550001",
        "text": "hi",
        "media_urls": ["http://a", "http://b"],
        "use_profile_webhooks": False,
    }


def test_errors_go_to_stderr_with_a_nonzero_exit(server: LoopbackServer) -> None:
    server.reply(Reply(404, {"errors": [{"code": "10005", "title": "Resource not found"}]}))
    result = run("--api-key", API_KEY, "--base-url", server.base_url, "retrieve", "--id", GROUP_ID)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "NotFoundError: 404 Not Found: 10005 Resource not found" in result.stderr
    bad = run("--api-key", API_KEY, "--base-url", server.base_url, "retrieve", "--id", "nope")
    assert bad.returncode == 3 and "id must be a UUID" in bad.stderr
    assert len(server.received) == 1


def test_global_options_may_follow_the_command_against_prism(prism: str) -> None:
    result = run(
        "send", "--to", "+13125550002", "--from", "+18445550001", "--text", "hi", "--api-key", "k", "--base-url", prism
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["data"]["to"]


def test_help_of_send_shows_the_specs_descriptions_and_choices() -> None:
    result = run("send", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "--messaging-profile-id MESSAGING_PROFILE_ID Unique identifier for a messaging profile." in text
    assert "--type {SMS,MMS}" in text and "--send-at 2026-12-01T09:00:00Z" in text
    assert "--to TO Receiving address (+E.164 formatted phone number or short code). Required." in text
    assert "exit codes: 0 success; 1 the API or the network failed" in text


def test_the_installed_command_runs(server: LoopbackServer) -> None:
    from telnyx_messages import __version__

    result = subprocess.run([str(CLI), "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == f"telnyx-messages {__version__}"
    server.reply(Reply(404, {"errors": [{"code": "10005", "title": "Resource not found"}]}))
    args = ["retrieve", "--id", GROUP_ID, "--api-key", API_KEY, "--base-url", server.base_url]
    failed = subprocess.run([str(CLI), *args], capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1 and "10005" in failed.stderr and API_KEY not in failed.stderr + failed.stdout


def test_lists_repeat_headers_add_and_the_body_merges(server: LoopbackServer, tmp_path: Path) -> None:
    server.reply(Reply(200, {"data": message_example()}))
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"from": "+18445550001", "text": "from the file", "subject": "s"}))
    result = run(
        "send-group-mms",
        "--to", "+13125550002",
        "--to", "+13125550003",
        "--media-url", "https://a.example/1",
        "--body", f"@{body}",
        "--text", "from the option",
        "--header", "X-Trace: abc",
        "--idempotency-key", "order-42",
        "--api-key", API_KEY,
        "--base-url", server.base_url,
        "--max-retries", "0",
        "--timeout", "5",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (request,) = server.received
    assert request.json() == {
        "from": "+18445550001",
        "to": ["+13125550002", "+13125550003"],
        "media_urls": ["https://a.example/1"],
        "subject": "s",
        "text": "from the option",
    }
    assert request.headers["X-Trace"] == "abc" and request.headers["Idempotency-Key"] == "order-42"


def test_a_table_of_a_groups_messages(server: LoopbackServer) -> None:
    example = message_example()
    server.reply(Reply(200, {"data": [example, example]}))
    result = run(
        "retrieve-group-messages",
        "--message-id",
        GROUP_ID,
        "--output",
        "table",
        "--api-key",
        API_KEY,
        "--base-url",
        server.base_url,
    )
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["id", "direction", "type", "from", "to", "text"]
    assert len(rows) == 2 and rows[0].startswith(example["id"])


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["send", "--text", "hi"], 2, "send: missing --to"),
        (["send", "--to", "+1", "--colour", "red"], 2, "unrecognized arguments: --colour"),
        (["send", "--to", "+1", "--type", "FAX"], 2, "invalid choice: 'FAX'"),
        (["send", "--to", "+1", "--header", "no colon"], 3, "--header takes 'Name: value'"),
        (["send", "--to", "+1", "--body", "-"], 3, "--body must be a JSON object"),
    ],
)
def test_usage_and_refused_input_have_their_exit_codes(
    args: list[str], code: int, says: str, server: LoopbackServer
) -> None:
    result = run(*args, "--api-key", API_KEY, "--base-url", server.base_url, stdin=b"[]")
    assert result.returncode == code, result.stderr
    assert says in result.stderr
    assert server.received == []


def test_errors_name_the_clis_own_options() -> None:
    no_key = run("retrieve", "--id", GROUP_ID, env={"PATH": "/usr/bin:/bin"})
    assert no_key.returncode == 3 and "pass --api-key or set" in no_key.stderr
    plain = run("retrieve", "--id", GROUP_ID, "--api-key", "k", "--base-url", "http://example.com")
    assert plain.returncode == 3 and "pass --allow-insecure-http" in plain.stderr


def _signed_verify_args(body: bytes, age: int = 0) -> list[str]:
    """`webhooks verify` options for `body`, signed now minus `age` seconds with a fresh key."""
    import base64

    from nacl.signing import SigningKey

    key = SigningKey.generate()
    timestamp = str(int(time.time()) - age)
    signature = base64.b64encode(key.sign(timestamp.encode() + b"|" + body).signature).decode()
    public = base64.b64encode(bytes(key.verify_key)).decode()
    return ["webhooks", "verify", "--public-key", public, "--timestamp", timestamp, "--signature", signature]


def test_webhooks_verify_reads_the_body_from_standard_input() -> None:
    body = json.dumps({"data": {"event_type": "message.received"}}).encode()
    args = _signed_verify_args(body)
    good = run(*args, stdin=body)
    assert good.returncode == 0 and json.loads(good.stdout)["data"]["event_type"] == "message.received"
    bad = run(*args, stdin=body + b" ")
    assert bad.returncode == 1 and "InvalidSignatureError" in bad.stderr


GLOBAL_OPTIONS_HELP = [
    "--api-key API_KEY default: $TELNYX_API_KEY",
    "--base-url BASE_URL default: $TELNYX_BASE_URL, then https://api.telnyx.com/v2",
    "--timeout TIMEOUT seconds for each attempt (default 60)",
    "--max-retries MAX_RETRIES attempts after the first (default 2)",
    "--header 'NAME: VALUE' a header to send besides the client's; repeatable",
    "--allow-insecure-http allow a plain http:// base URL to a host that is not this machine",
    "--output {json,table} json (default), or a table: a row per message of a list result, "
    "a row per field of one object",
]
EPILOG = (
    "exit codes: 0 success; 1 the API or the network failed (status, connection, timeout); 2 usage (an unknown "
    "or missing option); 3 input refused before anything was sent"
)


@pytest.mark.parametrize("command", [[], ["send"], ["retrieve-group-messages"]])
def test_the_help_explains_the_global_options_everywhere(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for line in [*GLOBAL_OPTIONS_HELP, EPILOG]:
        assert line in text
    if not command:
        assert text.startswith("usage: telnyx-messages ") and "Call the Telnyx Messages API." in text
        assert "webhooks verify a signed webhook" in text and "send-group-mms " in text
    if command == ["send"]:
        body_help = "the JSON body, from a file (@file.json) or standard input (-); options given beside it win"
        assert f"--body @FILE|- {body_help}" in text
        assert "--to TO Receiving address" in text
    if command == ["retrieve-group-messages"]:
        assert "--body" not in text  # it sends no body


def test_the_help_of_webhooks_verify() -> None:
    text = " ".join(run("webhooks", "verify", "--help").stdout.split())
    listed = run("webhooks", "--help").stdout
    assert re.search(r"^ +verify +verify a webhook read from standard input; print its event$", listed, re.M)
    for line in [
        "--public-key PUBLIC_KEY base64 of the raw 32-byte key; default: $TELNYX_PUBLIC_KEY",
        "--timestamp TIMESTAMP the telnyx-timestamp header",
        "--signature SIGNATURE the telnyx-signature-ed25519 header",
        "--tolerance TOLERANCE seconds either way (default 300)",
    ]:
        assert line in text


def _group_call(server: LoopbackServer, *options: str, after: bool) -> Ran:
    command = ["retrieve-group-messages", "--message-id", GROUP_ID]
    return run(*command, *options) if after else run(*options, *command)


@pytest.mark.parametrize("after", [False, True], ids=["before the command", "after the command"])
def test_global_options_work_before_or_after_the_command(server: LoopbackServer, after: bool) -> None:
    # 0.0.0.0 reaches this machine without being a loopback name: it needs --allow-insecure-http.
    base = ["--api-key", API_KEY, "--base-url", server.base_url.replace("127.0.0.1", "0.0.0.0")]
    refused = _group_call(server, *base, after=after)
    assert refused.returncode == 3 and server.received == []
    assert refused.stderr.startswith("telnyx-messages: ValueError: ") and refused.stderr.rstrip().endswith(
        "Use https, or pass --allow-insecure-http if you mean it."
    ), refused.stderr
    base.append("--allow-insecure-http")

    server.reply(Reply(503, b"", {"retry-after-ms": "5"}))
    once = _group_call(server, *base, "--max-retries", "0", "--header", "X-Team: a", after=after)
    assert once.returncode == 1 and "InternalServerError: 503" in once.stderr
    (request,) = server.received
    assert request.headers["X-Team"] == "a"

    server.reply(Reply(200, {"data": []}, delay=2.0))
    started = time.monotonic()
    slow = _group_call(server, *base, "--timeout", "0.3", "--max-retries", "0", after=after)
    assert slow.returncode == 1 and "APITimeoutError" in slow.stderr and time.monotonic() - started < 1.8

    example = message_example()
    server.reply(Reply(200, {"data": [example]}))
    table = _group_call(server, *base, "--output", "table", after=after)
    assert table.returncode == 0 and table.stdout.split()[:6] == ["id", "direction", "type", "from", "to", "text"]
    server.reply(Reply(200, {"data": [example]}))
    plain = _group_call(server, *base, after=after)
    assert json.loads(plain.stdout)["data"][0]["id"] == example["id"]


def test_an_option_after_the_command_wins_over_the_same_before_it(server: LoopbackServer) -> None:
    server.reply(Reply(503, b"", {"retry-after-ms": "5"}), Reply(200, {"data": []}))
    result = run(
        "--max-retries", "0", "--api-key", "wrong", "--base-url", "http://127.0.0.1:9",
        "retrieve-group-messages", "--message-id", GROUP_ID,
        "--max-retries", "1", "--api-key", API_KEY, "--base-url", server.base_url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [r.headers["Authorization"] for r in server.received] == [f"Bearer {API_KEY}"] * 2


def test_a_table_names_every_recipient_and_reads_a_missing_number_as_empty(server: LoopbackServer) -> None:
    example = message_example()
    example["to"] = [{"phone_number": "+13125550002"}, {"status": "queued"}, {"phone_number": "+13125550003"}]
    example["from"] = {"phone_number": "+18445550001"}
    example["text"] = "line one\nline two"
    server.reply(Reply(200, {"data": [example]}))
    result = run("--api-key", API_KEY, "--base-url", server.base_url, "--output", "table",
                 "retrieve-group-messages", "--message-id", GROUP_ID)  # fmt: skip
    header, row = result.stdout.splitlines()
    assert re.split(r" {2,}", row.strip()) == [
        example["id"], "outbound", "MMS", "+18445550001", "+13125550002,,+13125550003", "line one\\x0aline two"
    ]  # fmt: skip
    assert header.index("from") == row.index("+18445550001") and header.index(" to ") + 1 == row.index("+1312")


def test_a_single_result_as_a_table_is_a_row_per_field(server: LoopbackServer) -> None:
    example = message_example()
    server.reply(Reply(200, {"data": example}))
    result = run("--api-key", API_KEY, "--base-url", server.base_url, "--output", "table", "retrieve", GROUP_ID)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["field", "value"] and len(lines) == 1 + len(example)
    assert lines[0].startswith("field ") and not any(line.startswith(" ") for line in lines)  # left-aligned
    assert len({line.index("  ") for line in lines[1:] if not line.startswith("received_at")}) >= 1
    rows = {
        line.split(None, 1)[0]: line.split(None, 1)[1] if len(line.split(None, 1)) > 1 else "" for line in lines[1:]
    }
    assert rows["id"] == example["id"] and rows["received_at"] == example["received_at"]
    assert json.loads(rows["from"]) == example["from"]


def test_a_path_parameter_may_be_given_by_position_or_by_option(server: LoopbackServer) -> None:
    server.default = Reply(200, {"data": []})
    base = ("--api-key", API_KEY, "--base-url", server.base_url)
    assert run(*base, "retrieve-group-messages", GROUP_ID).returncode == 0
    assert run(*base, "retrieve-group-messages", "--message-id", GROUP_ID).returncode == 0
    assert run(*base, "retrieve-group-messages", GROUP_ID, "--message-id", GROUP_ID).returncode == 0
    assert [r.path for r in server.received] == [f"/messages/group/{GROUP_ID}"] * 3
    other = "0" * 8 + GROUP_ID[8:]
    clash = run(*base, "retrieve-group-messages", GROUP_ID, "--message-id", other)
    assert clash.returncode == cli.EXIT_REFUSED and "by position and --message-id" in clash.stderr
    missing = run(*base, "retrieve-group-messages")
    assert missing.returncode == cli.EXIT_USAGE and "--message-id" in missing.stderr
    assert len(server.received) == 3


def test_usage_shows_required_options_as_required() -> None:
    usage = run("send", "--help").stdout.split("\n\n")[0]
    assert " --to TO" in usage and "[--to TO]" not in usage
    assert "[--text TEXT]" in usage and "[--api-key API_KEY]" in usage and "[-h]" in usage  # optional: brackets


@pytest.mark.parametrize(
    ("body", "stdin", "expected"),
    [
        ("-", b"{not json", "--body: standard input is not JSON: Expecting property name"),
        ("@missing.json", b"", "--body: cannot read missing.json: No such file or directory"),
        ("@bad.json", b"", "--body: bad.json is not JSON: Expecting value"),
        ("@latin1.json", b"", "--body: latin1.json is not UTF-8 text: invalid start byte at byte 0"),
    ],
)
def test_body_errors_name_body_and_the_file(
    body: str, stdin: bytes, expected: str, server: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.json").write_text("nope")
    (tmp_path / "latin1.json").write_bytes(b'\xff{"text": "caf\xe9"}')
    result = run("--api-key", API_KEY, "--base-url", server.base_url, "send", "--body", body, stdin=stdin)
    assert result.returncode == cli.EXIT_REFUSED
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert server.received == []


def _sub_parsers() -> dict[str, argparse.ArgumentParser]:
    """The commands of the methods (not `webhooks` nor `campaign`): one for each method, none left out."""
    action = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    commands = {name: parser for name, parser in action.choices.items() if parser.get_default("method") is not None}
    assert sorted(commands) == sorted(cli.command_name(path) for path, _ in cli.methods())
    assert set(action.choices) - set(commands) == {"webhooks", "campaign"}
    return commands


def test_every_required_option_and_only_those_say_required() -> None:
    seen = 0
    for command, parser in _sub_parsers().items():
        method = cli._resolve(parser.get_default("method"))
        parameters = inspect.signature(method).parameters
        for action in parser._actions:
            if action.dest not in parameters:
                continue
            required = parameters[action.dest].default is inspect.Parameter.empty
            text = (action.help or "").removesuffix(" Repeatable.")
            if parameters[action.dest].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:  # a path parameter
                assert text.endswith(" Required (or by position)."), (command, text)
                seen += 1
                continue
            assert text.endswith(" Required.") == required and "Required. Required." not in text, (command, text)
            seen += required
    assert seen >= len(_sub_parsers())


def test_option_names_come_from_the_argument_names(server: LoopbackServer) -> None:
    commands = _sub_parsers()
    assert {"rcs-send", "rcs-generate-deeplink", "send-group-mms", "retrieve-group-messages"} <= set(commands)
    flags = {flag for action in commands["send-group-mms"]._actions for flag in action.option_strings}
    assert {"--from", "--to", "--media-urls", "--media-url"} <= flags and "--t" not in flags and "--from-" not in flags
    help_text = " ".join(run("send", "--help").stdout.split())
    assert "--from FROM Sending address" in help_text and "--messaging-profile-id MESSAGING_PROFILE_ID" in help_text
    # No abbreviations: an option is given whole or not at all.
    short = run("send", "--to", "+13125550002", "--tex", "hi", "--api-key", API_KEY, "--base-url", server.base_url)
    assert short.returncode == 2 and "unrecognized arguments: --tex" in short.stderr and server.received == []


def test_a_body_that_is_no_object_is_refused_in_so_many_words(server: LoopbackServer) -> None:
    args = ["send", "--to", "+1", "--body", "-", "--api-key", API_KEY, "--base-url", server.base_url]
    result = run(*args, stdin=b"[1, 2]")
    assert (result.returncode, result.stderr) == (3, "telnyx-messages: ValueError: --body must be a JSON object\n")


def test_a_header_value_may_hold_a_colon(server: LoopbackServer) -> None:
    server.reply(Reply(200, {"data": message_example()}))
    result = run("--api-key", API_KEY, "--base-url", server.base_url, "--header", "X-Window: 09:00-17:00",
                 "retrieve", "--id", GROUP_ID)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert server.received[0].headers["X-Window"] == "09:00-17:00"
    bad = run("--api-key", API_KEY, "--base-url", server.base_url, "--header", "no colon", "retrieve", "--id", GROUP_ID)
    assert (
        bad.returncode == 3
        and bad.stderr == "telnyx-messages: ValueError: --header takes 'Name: value', got 'no colon'\n"
    )


def test_a_table_leaves_missing_cells_empty_and_aligns_every_column(server: LoopbackServer) -> None:
    first, second = message_example(), message_example()
    first["text"], first["from"], first["to"] = "a", None, None
    second["text"], second["type"] = "a longer text", "SMS"
    server.reply(Reply(200, {"data": [first, second]}))
    result = run("--api-key", API_KEY, "--base-url", server.base_url, "--output", "table",
                 "retrieve-group-messages", "--message-id", GROUP_ID)  # fmt: skip
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    offsets = [header.index(name) for name in ("id", "direction", "type", "from", "to", "text")]
    expected = [
        [first["id"], "outbound", "MMS", "", "", "a"],
        [second["id"], "outbound", "SMS", "+18445550001", "+18665550001", "a longer text"],
    ]
    for row, cells in zip(rows, expected, strict=True):
        for offset, end, cell in zip(offsets, [*offsets[1:], None], cells, strict=True):
            assert row[offset:end].strip() == cell and (not cell or row[offset:].startswith(cell)), (row, cell)


def test_webhooks_verify_prints_the_event_and_takes_a_tolerance() -> None:
    body = json.dumps({"data": {"event_type": "message.received", "id": "e1"}}).encode()
    args = _signed_verify_args(body, age=500)
    old = run(*args, stdin=body)
    assert old.returncode == 1 and "TimestampOutOfToleranceError: the timestamp is 50" in old.stderr
    wide = run(*args, "--tolerance", "1000", stdin=body)
    assert wide.returncode == 0 and wide.stdout == json.dumps(json.loads(body), indent=2) + "\n"


def test_every_option_explains_itself_with_its_arguments_text() -> None:
    for command, parser in _sub_parsers().items():
        method = cli._resolve(parser.get_default("method"))
        docs = cli._argument_docs(inspect.getdoc(method) or "")
        for action in parser._actions:
            if action.dest in inspect.signature(method).parameters and action.dest not in cli._CALL_OPTIONS:
                text = (action.help or "").replace("%%", "%").removesuffix(" Repeatable.").removesuffix(" Required.")
                text = text.removesuffix(" Required (or by position).")
                if action.dest in {h.argument for h in _made_key_headers(parser)}:  # the spec's text, then the CLI's
                    if action.option_strings == [cli._option(action.dest)]:
                        spec_text = docs[action.dest].partition(" Not given: ")[0]
                        assert text.startswith(f"{spec_text} Without this option a UUID4 key is made"), text
                    continue
                assert text == docs.get(action.dest, "").removesuffix(" Required."), (command, action.dest)


def test_the_top_level_help_lists_every_command_with_its_summary() -> None:
    text = " ".join(run("--help").stdout.split())
    for command, parser in _sub_parsers().items():
        summary = (inspect.getdoc(cli._resolve(parser.get_default("method"))) or "").splitlines()[0]
        assert f"{command} {summary}" in text
    send = " ".join(run("send", "--help").stdout.split())
    assert "Send a message Send a message with a Phone Number" in send and "Args:" not in send
    assert "Operation SendMessage: POST /messages." in send


def test_option_kinds_show_in_the_help() -> None:
    rcs = " ".join(run("rcs-send", "--help").stdout.split())
    assert (
        "--agent-message JSON" in rcs and "--type {RCS}" in rcs and "--agent-id AGENT_ID RCS Agent ID Required." in rcs
    )
    group = " ".join(run("send-group-mms", "--help").stdout.split())
    assert (
        "--to VALUE [VALUE ...], --t" not in group
        and "--media-urls VALUE [VALUE ...], --media-url VALUE [VALUE ...]" in group
    )
    assert " Required. Repeatable." in group and " Repeatable." in group.split("--media-urls", 1)[1]
    assert "--id UUID The id of the message to cancel Required (or by position)." in " ".join(
        run("cancel-scheduled", "--help").stdout.split()
    )


def test_usage_errors_name_what_is_missing() -> None:
    for args, says in [
        ([], "the following arguments are required: COMMAND"),
        (["webhooks"], "the following arguments are required: COMMAND"),
        (["webhooks", "verify"], "the following arguments are required: --timestamp, --signature"),
        (
            ["webhooks", "verify", "--timestamp", "1", "--signature", "s", "--tolerance", "soon"],
            "invalid int value: 'soon'",
        ),
    ]:
        result = run(*args)
        assert result.returncode == 2 and says in result.stderr, (args, result.stderr)
    version = run("--version")
    assert version.returncode == 0 and version.stdout == f"telnyx-messages {cli.__version__}\n"


def test_a_sub_resource_command_sends_json_options_and_prints_the_result(server: LoopbackServer) -> None:
    result_document = {"data": {"id": "msg-1", "record_type": "message", "body": {"a": 1}}}
    server.reply(Reply(200, result_document))
    message = {"content_message": {"text": "hi"}}
    options = ["--agent-id", "agent", "--agent-message", json.dumps(message), "--messaging-profile-id", "p"]
    result = run("--api-key", API_KEY, "--base-url", server.base_url, "rcs-send", *options, "--to", "+13125550002")
    assert result.returncode == 0, result.stderr
    (request,) = server.received
    assert request.path == "/messages/rcs" and request.json()["agent_message"] == message
    assert json.loads(result.stdout) == result_document
    assert result.stdout == json.dumps(json.loads(result.stdout), indent=2) + "\n"  # two-space indented
    not_json = run("--api-key", API_KEY, "--base-url", server.base_url, "rcs-send", "--agent-message", "{oops")
    assert not_json.returncode == 2 and "argument --agent-message: invalid loads value: '{oops'" in not_json.stderr


def test_refusals_name_the_error_and_every_missing_option(server: LoopbackServer) -> None:
    base = ["--api-key", API_KEY, "--base-url", server.base_url]
    missing = run(*base, "rcs-send", "--to", "+13125550002")
    assert (missing.returncode, missing.stderr) == (
        2,
        "telnyx-messages: rcs-send: missing --agent-id, --agent-message, --messaging-profile-id"
        " (or give them in --body)\n",
    )
    unknown = run(*base, "send", "--to", "+1", "--body", "-", stdin=b'{"size": 1, "colour": "red"}')
    assert (
        unknown.stderr == "telnyx-messages: ValueError: --body has fields the operation does not take: colour, size\n"
    )
    empty = run(*base, "send", "--to", "")
    assert (empty.returncode, empty.stderr) == (3, "telnyx-messages: ValueError: send(): to must not be empty\n")
    assert server.received == []


def test_no_option_may_be_abbreviated_anywhere(server: LoopbackServer) -> None:
    base = ["--base-url", server.base_url]
    for args, unknown in [
        (["--allow-insecure", "--api-key", API_KEY, *base, "retrieve", "--id", GROUP_ID], "--allow-insecure"),
        (["--api-key", API_KEY, *base, "retrieve", "--i", GROUP_ID], "--i"),
        (["webhooks", "verify", "--time", "1", "--timestamp", "1", "--signature", "s"], "--time"),
    ]:
        result = run(*args)
        assert result.returncode == 2 and f"unrecognized arguments: {unknown}" in result.stderr, (args, result.stderr)
    assert server.received == []


def test_descriptions_keep_their_paragraphs_and_the_top_level_its_own() -> None:
    send = run("send", "--help").stdout
    assert "Number Pool.\n\nThis endpoint allows you to send a message with any messaging resource.\n" in send
    assert "\nCall the Telnyx Messages API.\n" in run("--help").stdout


def test_an_option_text_with_a_percent_sign_and_an_int_option() -> None:
    import typing

    parser = argparse.ArgumentParser()
    cli._add_option(parser, "share", typing.Union[int, None], True, "up to 100% of the parts")  # noqa: UP007
    assert "up to 100% of the parts Required." in " ".join(parser.format_help().split())
    assert parser.parse_args(["--share", "3"]).share == 3


@pytest.mark.parametrize("first_line", ["Send 100% of a message.", "Send %(prog)s, 100% as written."])
def test_a_percent_sign_in_an_operations_text_shows_as_written(
    first_line: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    send = cli._resolve("send")
    monkeypatch.setattr(send, "__doc__", f"{first_line}\n\nIt costs 5% more.\n\nArgs:\n    text: 100% text.\n")
    listed = " ".join(cli.build_parser().format_help().split())
    assert f"send {first_line}" in listed
    helped = " ".join(_sub_parsers()["send"].format_help().split())
    assert f"{first_line} It costs 5% more." in helped
    assert "--text TEXT 100% text." in helped


def test_webhooks_verify_refuses_at_300_seconds_by_default_and_a_negative_tolerance() -> None:
    body = b'{"data": {"event_type": "message.sent"}}'
    args = _signed_verify_args(body, age=300)  # 300.x s old: past the default tolerance, within 301
    old = run(*args, stdin=body)
    assert old.returncode == 1 and "beyond the 300 s tolerance" in old.stderr
    negative = run(*args, "--tolerance", "-1", stdin=body)
    assert (negative.returncode, negative.stderr) == (
        3,
        "telnyx-messages: ValueError: tolerance must be an int of seconds >= 0, got -1\n",
    )


def test_a_mistyped_option_never_gets_the_key_quoted_back(server: LoopbackServer) -> None:
    result = run("--api", API_KEY, "--base-url", server.base_url, "retrieve", "--id", GROUP_ID)
    assert result.returncode == 2 and API_KEY not in result.stderr + result.stdout
    assert "argument COMMAND: invalid choice (choose from " in result.stderr
    typo = run("retreive", "--id", GROUP_ID)
    assert typo.returncode == 2 and "invalid choice (choose from " in typo.stderr and "'retrieve'" in typo.stderr


def test_every_parameter_of_every_method_has_its_option_and_a_path_parameter_its_position() -> None:
    for command, parser in _sub_parsers().items():
        method = cli._resolve(parser.get_default("method"))
        dests = {action.dest for action in parser._actions}
        for name, parameter in inspect.signature(method).parameters.items():
            if name == "self" or name in cli._CALL_OPTIONS:
                continue
            assert name in dests, (command, name)
            if parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
                usage = parser.format_usage()
                assert f"[{name.upper()}]" in usage, (command, usage)
                assert f"the same as {cli._option(name)}" in " ".join(parser.format_help().split())


def test_a_result_without_data_as_a_table_is_a_row_per_field(server: LoopbackServer) -> None:
    example = message_example()
    server.reply(Reply(200, example))  # cancel_scheduled answers the message itself, no "data"
    result = run("--api-key", API_KEY, "--base-url", server.base_url, "--output", "table", "cancel-scheduled", GROUP_ID)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["field", "value"] and any(line.split()[:2] == ["id", example["id"]] for line in lines)


def _key_and_signature(body: bytes) -> tuple[str, list[str]]:
    """A fresh public key (base64), and the `webhooks verify` options but the key for `body` signed with it."""
    args = _signed_verify_args(body)
    at = args.index("--public-key")
    return args[at + 1], args[:at] + args[at + 2 :]


@pytest.mark.parametrize(
    ("key_options", "env_key", "says"),
    [
        ([], None, "no public key: pass --public-key or set TELNYX_PUBLIC_KEY"),
        ([], "", "no public key: pass --public-key or set TELNYX_PUBLIC_KEY"),
        (
            ["--public-key", "not base64!"],
            None,
            "--public-key must be base64 of the 32-byte public key; it is not base64",
        ),
        (["--public-key", "é" * 44], None, "--public-key must be base64 of the 32-byte public key; it is not base64"),
        (
            ["--public-key", "A" * 21 + "!" + "A" * 22 + "="],  # a key's length of base64, but for one character
            None,
            "--public-key must be base64 of the 32-byte public key; it is not base64",
        ),
        (["--public-key", "A" * 40], None, "--public-key must be base64 of the 32-byte public key; it is 30 bytes"),
        (
            ["--public-key", "A" * 44 + "AAAA"],
            None,
            "--public-key must be base64 of the 32-byte public key; it is 36 bytes",
        ),
        ([], "A" * 42, "TELNYX_PUBLIC_KEY must be base64 of the 32-byte public key; it is not base64"),
        ([], "A" * 40, "TELNYX_PUBLIC_KEY must be base64 of the 32-byte public key; it is 30 bytes"),
    ],
)
def test_webhooks_verify_refuses_a_missing_or_malformed_key_before_reading_the_body(
    key_options: list[str], env_key: str | None, says: str
) -> None:
    body = b'{"data": {"event_type": "message.sent"}}'
    _, options = _key_and_signature(body)
    env = {"PATH": "/usr/bin:/bin"} | ({} if env_key is None else {"TELNYX_PUBLIC_KEY": env_key})
    result = run(*options, *key_options, env=env, stdin=body)
    assert (result.returncode, result.stderr) == (cli.EXIT_REFUSED, f"telnyx-messages: webhooks verify: {says}\n")
    assert result.stdout == "" and result.stdin_read == 0


def test_webhooks_verify_takes_the_key_from_the_environment_and_the_option_first() -> None:
    body = b'{"data": {"event_type": "message.sent"}}'
    key, options = _key_and_signature(body)
    from_env = run(*options, env={"TELNYX_PUBLIC_KEY": key}, stdin=body)
    assert from_env.returncode == 0 and json.loads(from_env.stdout)["data"]["event_type"] == "message.sent"
    over_a_bad_one = run(*options, "--public-key", key, env={"TELNYX_PUBLIC_KEY": "not base64!"}, stdin=body)
    assert over_a_bad_one.returncode == 0, over_a_bad_one.stderr
    other_key, _ = _key_and_signature(body)
    wrong = run(*options, "--public-key", other_key, env={"TELNYX_PUBLIC_KEY": key}, stdin=body)
    assert wrong.returncode == 1 and "InvalidSignatureError" in wrong.stderr


def test_a_missing_path_parameter_is_named_as_the_usage_line_names_it_and_by_its_option(
    server: LoopbackServer,
) -> None:
    seen = 0
    for command, parser in _sub_parsers().items():
        parameters = inspect.signature(cli._resolve(parser.get_default("method"))).parameters
        path_parameters = [n for n, p in parameters.items() if p.kind is p.POSITIONAL_OR_KEYWORD and n != "self"]
        if not path_parameters:
            continue
        result = run(command, "--api-key", API_KEY, "--base-url", server.base_url)
        assert result.returncode == cli.EXIT_USAGE, (command, result.stderr)
        usage = " ".join(parser.format_usage().split())
        named = []
        for name in path_parameters:
            (action,) = [a for a in parser._actions if not a.option_strings and a.dest.endswith(" " + name)]
            assert f"[{action.metavar}]" in usage, (command, usage)
            named.append(f"{action.metavar} (or {cli._option(name)})")
        assert result.stderr.startswith(f"telnyx-messages: {command}: missing {', '.join(named)}"), result.stderr
        has_body = any("--body" in a.option_strings for a in parser._actions)
        assert has_body or "--body" not in result.stderr, (command, result.stderr)
        seen += 1
    assert seen and server.received == []
    retrieve = run("retrieve", "--api-key", API_KEY, "--base-url", server.base_url)
    assert retrieve.stderr == "telnyx-messages: retrieve: missing ID (or --id)\n"


def test_missing_options_say_in_body_only_for_body_fields() -> None:
    def method(self: object, id: str, *, query: str, to: str, messaging_profile_id: str) -> None: ...

    parameters = inspect.signature(method).parameters
    assert (
        cli._missing("send", parameters, ["id", "query", "to"]) == "ID (or --id), --query, --to (or give it in --body)"
    )
    assert (
        cli._missing("send", parameters, ["to", "messaging_profile_id"])
        == "--to, --messaging-profile-id (or give them in --body)"
    )
    assert cli._missing("send", parameters, ["query"]) == "--query"
    one = run("send", "--text", "hi", "--api-key", API_KEY)
    assert (one.returncode, one.stderr) == (2, "telnyx-messages: send: missing --to (or give it in --body)\n")


def _made_key_headers(parser: argparse.ArgumentParser) -> list[Any]:
    """The header parameters of a command's operation whose key the client makes when none is given."""
    from telnyx_messages._api.api import OPERATIONS
    from telnyx_messages._request_building import IDEMPOTENCY_KEY

    operation = OPERATIONS[parser.get_default("method")]
    return [p for p in operation.header_parameters if p.argument == IDEMPOTENCY_KEY]


def test_a_made_key_header_has_a_no_option_exclusive_of_its_own(server: LoopbackServer) -> None:
    seen = 0
    for command, parser in _sub_parsers().items():
        for header in _made_key_headers(parser):
            option = cli._option(header.argument)
            no_option = "--no-" + option.removeprefix("--")
            actions = {flag: a for a in parser._actions for flag in a.option_strings}
            given, none = actions[option], actions[no_option]
            assert (given.dest, none.dest, none.const, none.nargs) == (header.argument, header.argument, None, 0)
            given_help, none_help = given.help or "", none.help or ""
            assert f"{no_option} sends none." in given_help and "None" not in given_help, given_help
            assert not given_help.endswith("Required.") and not getattr(given, "shown_required", True)
            assert (
                none_help
                == f"send no {header.header} header (a failure after the request was sent is then not retried)"
            )
            both = run(command, option, "k1", no_option, "--api-key", API_KEY, "--base-url", server.base_url)
            assert both.returncode == cli.EXIT_USAGE, both.stderr
            assert f"argument {no_option}: not allowed with argument {option}" in both.stderr
            seen += 1
    assert seen and server.received == []


@pytest.mark.parametrize(
    ("options", "sent"),
    [([], "made"), (["--idempotency-key", "order-42"], "order-42"), (["--no-idempotency-key"], None)],
)
def test_no_idempotency_key_sends_none_and_its_absence_a_made_one(
    options: list[str], sent: str | None, server: LoopbackServer
) -> None:
    server.reply(Reply(200, {"data": message_example()}))
    result = run("send", "--to", "+13125550002", "--text", "hi", *options, "--api-key", API_KEY,
                 "--base-url", server.base_url)  # fmt: skip
    assert result.returncode == 0, result.stderr
    (request,) = server.received
    key = {n.lower(): v for n, v in request.headers.items()}.get("idempotency-key")
    if sent == "made":
        assert key is not None and re.fullmatch(
            r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", key
        )
    else:
        assert key == sent


def _closed_pipe() -> tuple[io.TextIOWrapper, int]:
    """A text stream onto a pipe whose reader has gone, and its file descriptor."""
    read, write = os.pipe()
    os.close(read)
    return io.TextIOWrapper(os.fdopen(write, "wb"), encoding="utf-8"), write


@pytest.mark.parametrize("messages", [1, 300], ids=["held until the end", "past the buffer"])
def test_output_to_a_closed_pipe_is_dropped_quietly_keeping_the_exit_code(
    messages: int, server: LoopbackServer
) -> None:
    server.reply(Reply(200, {"data": [message_example()] * messages}))
    stdout, fd = _closed_pipe()
    stderr = io.StringIO()
    args = ["retrieve-group-messages", GROUP_ID, "--api-key", API_KEY, "--base-url", server.base_url]
    with mock.patch.object(sys, "stdout", stdout), mock.patch.object(sys, "stderr", stderr):
        code = cli.main(args)
    try:
        assert (code, stderr.getvalue()) == (0, "")
        devnull = os.stat(os.devnull)
        assert (os.fstat(fd).st_rdev, os.fstat(fd).st_ino) == (devnull.st_rdev, devnull.st_ino)  # the rest goes there
        stdout.write("x" * 100_000)
        stdout.flush()
    finally:
        stdout.close()


def test_output_sent_to_devnull_leaves_no_descriptor_open() -> None:
    stdout, fd = _closed_pipe()
    try:
        before = len(os.listdir("/proc/self/fd"))
        with mock.patch.object(sys, "stdout", stdout):
            cli._stdout_to_devnull()
        assert len(os.listdir("/proc/self/fd")) == before
        assert os.fstat(fd).st_rdev == os.stat(os.devnull).st_rdev
    finally:
        stdout.close()


def test_help_into_a_closed_pipe_exits_as_help_does() -> None:
    stdout, fd = _closed_pipe()
    with mock.patch.object(sys, "stdout", stdout), pytest.raises(SystemExit) as exit:
        cli.main(["send", "--help"])
    try:
        assert exit.value.code == 0 and os.fstat(fd).st_rdev == os.stat(os.devnull).st_rdev
    finally:
        stdout.close()


@pytest.mark.parametrize("output", ["json", "table"])
def test_a_reader_that_stops_early_gets_no_traceback(output: str, server: LoopbackServer) -> None:
    """`telnyx-messages ... | head -1` under pipefail: the output is far past a pipe's buffer, so the
    command is still writing when head has gone, every time."""
    import shlex

    server.default = Reply(200, {"data": [message_example()] * 300})
    args = [
        "retrieve-group-messages",
        GROUP_ID,
        "--output",
        output,
        "--api-key",
        API_KEY,
        "--base-url",
        server.base_url,
    ]
    pipeline = f"set -o pipefail; {shlex.join([str(CLI), *args])} | head -1"
    for _ in range(3):
        result = subprocess.run(["bash", "-c", pipeline], capture_output=True, text=True, timeout=60)
        assert (result.returncode, result.stderr) == (0, ""), result.stderr
        assert len(result.stdout.splitlines()) == 1
    assert len(server.received) == 3
