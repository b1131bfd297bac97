"""A webhook receiver for the Telnyx messaging webhooks, on the standard library's http.server.

    TELNYX_PUBLIC_KEY=<base64 key from the portal> python examples/webhook_receiver.py --port 8080

Each POST is verified (Ed25519 signature, timestamp) and read into its typed event; the receiver
answers 200 only then, 4xx for anything it refuses (never 5xx for bad input), and prints one line
per event. Without a public key, or with one that is not the base64 of a 32-byte Ed25519 key, it
says so and exits (status 2) instead of listening. A receiver that cannot verify (PyNaCl not
installed) says so once, at start, and answers 500 to every webhook: Telnyx retries a 5xx, so
nothing is lost while the deployment is fixed.
"""

from __future__ import annotations

import argparse
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from telnyx_messages import MissingDependencyError, webhooks
from telnyx_messages.types import InboundMessageEvent, OutboundMessageEvent

MAX_BODY = 1 << 20


def describe(event: webhooks.WebhookEvent) -> str:
    """One line for an event: what a real handler would act on."""
    if isinstance(event, InboundMessageEvent):
        payload = event.data.payload if event.data is not None else None
        if payload is None:
            return "message.received (no payload)"
        sender = payload.from_.phone_number if payload.from_ is not None else None
        return f"message.received id={payload.id} from={sender} text={payload.text!r}"
    if isinstance(event, OutboundMessageEvent):
        data = event.data
        if data is None or data.payload is None:
            return "delivery update (no payload)"
        statuses = [str(to.status) for to in data.payload.to or []]
        return f"{data.event_type} id={data.payload.id} to-status={','.join(statuses)}"
    return f"unknown event {event.event_type!r} (kept as delivered)"


class Receiver(BaseHTTPRequestHandler):
    # Made at start (it reads and checks TELNYX_PUBLIC_KEY, and that PyNaCl is there); None without PyNaCl.
    verifier: webhooks.Webhooks | None = None

    def do_POST(self) -> None:
        if self.verifier is None:
            self._answer(500, "this receiver cannot verify webhooks (see its log)")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_BODY:
            self._answer(413 if length > MAX_BODY else 400, "body missing or too large")
            return
        body = self.rfile.read(length)
        try:
            event = self.verifier.unwrap(body, self.headers)
        except webhooks.InvalidSignatureError:
            self._answer(401, "signature does not match")
        except webhooks.TimestampOutOfToleranceError:
            self._answer(401, "timestamp out of tolerance")
        except webhooks.WebhookVerificationError as exc:
            self._answer(400, type(exc).__name__)
        else:
            print(describe(event), flush=True)
            self._answer(200, "ok")

    def _answer(self, status: int, text: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # one line per event is printed instead
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    try:
        Receiver.verifier = webhooks.Webhooks()
    except webhooks.PublicKeyError as exc:  # no key to verify with: nothing it could accept
        print(f"error: cannot verify webhooks, not starting: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)
    except MissingDependencyError as exc:  # a deployment to fix, not a bad request from Telnyx
        print(f"error: cannot verify webhooks, answering 500: {exc}", file=sys.stderr, flush=True)
    server = ThreadingHTTPServer((args.host, args.port), Receiver)
    print(f"listening on http://{args.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
