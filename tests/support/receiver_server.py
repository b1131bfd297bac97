"""A webhook receiver in a process of its own, in a real server, for the tests that post to it over
HTTP and kill it: `python -m tests.support.receiver_server KIND STORE [CALLBACK_LOG]` serves a
telnyx_messages.receiver.Receiver on STORE (a file, or a postgresql:// URL) with the public key from
TELNYX_PUBLIC_KEY, on 127.0.0.1 at a port of the system's choosing, and prints {"port": N} once it
listens. KIND: `asgi` (ASGIReceiver under uvicorn, one worker), `fastapi` (mounted in a FastAPI app
at /webhooks/telnyx, under uvicorn), `wsgi` (WSGIReceiver under waitress). RECEIVER_TOLERANCE: the
seconds a timestamp may be off (default 300). With CALLBACK_LOG, the callback appends each new
event's id to that file, one a line. (The bench's bare baseline app is bench/receiver.py's own.)
"""

from __future__ import annotations

import json
import os
import socket
import sys
from typing import Any

from telnyx_messages import webhooks
from telnyx_messages.receiver import ASGIReceiver, Receiver, WSGIReceiver

PATH = "/webhooks/telnyx"


def _callback(log: str | None) -> Any:
    if log is None:
        return None
    handle = open(log, "a", buffering=1)  # noqa: SIM115 - open for the process's life

    def on_event(event: webhooks.WebhookEvent) -> None:
        document = event.to_dict()
        handle.write(f"{document['data']['id']}\n")

    return on_event


def _listening() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    return sock


def _uvicorn(app: Any, sock: socket.socket) -> None:
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", backlog=1024, interface="asgi3")
    uvicorn.Server(config).run(sockets=[sock])


def main() -> None:
    kind = sys.argv[1]
    sock = _listening()
    store = sys.argv[2]
    tolerance = int(os.environ.get("RECEIVER_TOLERANCE", "300"))
    receiver = Receiver(store, tolerance=tolerance, on_event=_callback(sys.argv[3] if len(sys.argv) > 3 else None))
    print(json.dumps({"port": sock.getsockname()[1]}), flush=True)
    if kind == "asgi":
        _uvicorn(ASGIReceiver(receiver, path=PATH), sock)
    elif kind == "fastapi":
        from fastapi import FastAPI

        app = FastAPI()
        app.mount(PATH, ASGIReceiver(receiver))
        _uvicorn(app, sock)
    elif kind == "wsgi":
        import logging

        import waitress

        logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # its queue depth, at every burst
        waitress.serve(WSGIReceiver(receiver, path=PATH), sockets=[sock], threads=16, _quiet=True)
    else:
        raise SystemExit(f"unknown kind {kind!r}")


if __name__ == "__main__":
    main()
