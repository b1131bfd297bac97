"""The telnyx-messages command, run as a user runs it, against a loopback server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .support import API_KEY
from .support import MESSAGE_ID as GROUP_ID
from .support.server import LoopbackServer, Reply
from .support.spec import message_example

CLI = Path(sys.executable).parent / "telnyx-messages"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, env=env, timeout=60)


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


def test_version() -> None:
    from telnyx_messages import __version__

    result = run("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"telnyx-messages {__version__}"


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
    result = subprocess.run(
        [str(CLI), *args, "--api-key", API_KEY, "--base-url", server.base_url],
        input="[]",
        capture_output=True,
        text=True,
    )
    assert result.returncode == code, result.stderr
    assert says in result.stderr
    assert server.received == []


def test_errors_name_the_clis_own_options() -> None:
    no_key = run("retrieve", "--id", GROUP_ID, env={"PATH": "/usr/bin:/bin"})
    assert no_key.returncode == 3 and "pass --api-key or set" in no_key.stderr
    plain = run("retrieve", "--id", GROUP_ID, "--api-key", "k", "--base-url", "http://example.com")
    assert plain.returncode == 3 and "pass --allow-insecure-http" in plain.stderr


def test_webhooks_verify_reads_the_body_from_standard_input() -> None:
    import base64
    import time

    from nacl.signing import SigningKey

    key = SigningKey.generate()
    body = json.dumps({"data": {"event_type": "message.received"}}).encode()
    timestamp = str(int(time.time()))
    signature = base64.b64encode(key.sign(timestamp.encode() + b"|" + body).signature).decode()
    public = base64.b64encode(bytes(key.verify_key)).decode()
    args = [str(CLI), "webhooks", "verify", "--public-key", public, "--timestamp", timestamp, "--signature", signature]
    good = subprocess.run(args, input=body, capture_output=True)
    assert good.returncode == 0 and json.loads(good.stdout)["data"]["event_type"] == "message.received"
    bad = subprocess.run(args, input=body + b" ", capture_output=True)
    assert bad.returncode == 1 and b"InvalidSignatureError" in bad.stderr
