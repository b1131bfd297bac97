"""The telnyx-messages command, run as a user runs it, against a loopback server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

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
    assert bad.returncode == 1 and "id must be a UUID" in bad.stderr
    assert len(server.received) == 1
