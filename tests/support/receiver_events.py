"""Signed delivery updates as Telnyx delivers them, for the receiver's tests: made and signed by the
fake (FakeTelnyx.webhook, with its key), from messages it sent; and posting them to a real server
over HTTP from many threads at once, each answer timed.

A stream: for each message, a `message.sent` and a `message.finalized` with each recipient's final
status (the final statuses of the spec, in turn; errors with a code for all but the first), or, for
every seventh message, two in-flight statuses (the first the spec lists, then `sent`) and no final
one; every tenth message has two recipients. What each recipient must end at is known before any is
posted.
"""

from __future__ import annotations

import base64
import http.client
import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from telnyx_messages.receiver import DELIVERY_STATUSES, FINAL_STATUSES
from telnyx_messages.testing import FakeTelnyx

PATH = "/webhooks/telnyx"
SENT = "message.sent"
FINALIZED = "message.finalized"


@dataclass(frozen=True)
class Event:
    index: int  # its place among the stream's distinct events
    message_id: str
    event_type: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Stream:
    events: list[Event]
    # (message id, recipient) -> (status, error codes) each recipient must end at
    expected: dict[tuple[str, str], tuple[str, tuple[str, ...]]]
    message_ids: list[str] = field(default_factory=list)

    def posts(self, duplicate_share: float, seed: int) -> list[Event]:
        """Every event once and a share of them again, in a shuffled order."""
        chance = random.Random(seed)
        posts = list(self.events) + chance.sample(self.events, round(len(self.events) * duplicate_share))
        chance.shuffle(posts)
        return posts


def _errors(code: int) -> list[dict[str, Any]]:
    return [{"code": str(code), "title": "Delivery failed", "detail": f"carrier said {code}"}]


def make_stream(fake: FakeTelnyx, messages: int) -> Stream:
    """Signed events of `messages` messages (2 events each)."""
    sent = fake.client().messages.send(to="+13125550002", from_="+18445550001", text="Your order shipped")
    assert sent.data is not None
    base = sent.data.to_dict(mode="json")
    finals = [status for status in DELIVERY_STATUSES if status in FINAL_STATUSES]
    in_flight = [status for status in DELIVERY_STATUSES if status not in FINAL_STATUSES]
    assert finals and "sent" in in_flight, (finals, in_flight)
    events: list[Event] = []
    expected: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}
    message_ids = []
    for number in range(messages):
        message_id = str(uuid.uuid4())
        message_ids.append(message_id)
        recipients = [f"+1312{number:07d}"] + ([f"+1646{number:07d}"] if number % 10 == 0 else [])

        def event(
            event_type: str, statuses: list[str], errors: list[dict[str, Any]], message_id: str = message_id
        ) -> None:
            to = [{"phone_number": r, "status": s} for r, s in zip(recipients, statuses, strict=True)]  # noqa: B023
            document = {**base, "id": message_id, "to": to, "errors": errors}
            body, headers = fake.webhook(event_type, document)
            events.append(Event(len(events), message_id, event_type, body, headers))

        if number % 7 == 0:
            event(SENT, [in_flight[0]] * len(recipients), [])
            event(SENT, ["sent"] * len(recipients), [])
            for recipient in recipients:
                expected[(message_id, recipient)] = ("sent", ())
            continue
        event(SENT, ["sent"] * len(recipients), [])
        statuses = [finals[(number + k) % len(finals)] for k in range(len(recipients))]
        code = 40000 + number % 50
        errors = _errors(code) if any(s != finals[0] for s in statuses) else []
        event(FINALIZED, statuses, errors)
        for recipient, status in zip(recipients, statuses, strict=True):
            expected[(message_id, recipient)] = (status, (str(code),) if errors else ())
    return Stream(events, expected, message_ids)


def sign(fake: FakeTelnyx, document: Any, *, timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    """A document the fake's webhook() would not make (an event type the spec lacks, one its model
    refuses), signed with the fake's key as its webhooks are: (body, headers)."""
    return sign_body(fake, json.dumps(document).encode(), timestamp=timestamp)


def sign_body(fake: FakeTelnyx, body: bytes, *, timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    """Any bytes (not JSON, empty) signed with the fake's key as its webhooks are: (body, headers)."""
    when = str(int(time.time()) if timestamp is None else timestamp)
    signature = fake._key().sign(when.encode() + b"|" + body).signature
    return body, {"telnyx-signature-ed25519": base64.b64encode(signature).decode(), "telnyx-timestamp": when}


@dataclass(frozen=True)
class Posted:
    event: Event
    status: int | None  # None: no answer (the connection failed)
    seconds: float
    text: str
    port: int = 0  # the server's it was posted to


def post_all(
    port: int,
    posts: Iterable[Event],
    *,
    threads: int = 32,
    on_answer: Callable[[Posted], None] | None = None,
    path: str = PATH,
) -> list[Posted]:
    """Post each event (its body and signed headers as made) over HTTP/1.1 keep-alive connections
    from `threads` threads; every answer, timed from the request's first byte to the answer's last."""
    return post_to([(port, event) for event in posts], threads=threads, on_answer=on_answer, path=path)


def post_to(
    jobs: Sequence[tuple[int, Event]],
    *,
    threads: int = 32,
    together: int = 1,
    on_answer: Callable[[Posted], None] | None = None,
    path: str = PATH,
) -> list[Posted]:
    """post_all() to many servers: each event to its port (keep-alive connections per thread and
    port). With `together` N, each run of N jobs (0..N-1, N..2N-1, ...) leaves at the same moment:
    their threads wait for one another at a barrier, connected, before sending (threads > N)."""
    if together > 1 and (len(jobs) % together or threads <= together):
        raise ValueError(f"{len(jobs)} jobs in runs of {together} on {threads} threads")
    local = threading.local()
    results: list[Posted] = []
    lock = threading.Lock()
    barriers = [threading.Barrier(together) for _ in range(len(jobs) // together)] if together > 1 else []

    def post(numbered: tuple[int, tuple[int, Event]]) -> None:
        number, (port, event) = numbered
        connections: dict[int, http.client.HTTPConnection] = local.__dict__.setdefault("connections", {})
        if port not in connections:
            connections[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection = connections[port]
        started = time.perf_counter()
        try:
            if barriers:
                if connection.sock is None:
                    connection.connect()
                barriers[number // together].wait(10)
                started = time.perf_counter()
            connection.request("POST", path, body=event.body, headers=event.headers)
            answer = connection.getresponse()
            text = answer.read().decode()
            posted = Posted(event, answer.status, time.perf_counter() - started, text, port)
        except (OSError, http.client.HTTPException) as exc:
            connections.pop(port).close()
            posted = Posted(event, None, time.perf_counter() - started, f"{type(exc).__name__}: {exc}", port)
        with lock:
            results.append(posted)
        if on_answer is not None:
            on_answer(posted)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(post, enumerate(jobs)))
    return results


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]
