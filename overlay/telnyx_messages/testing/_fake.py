"""FakeTelnyx: the Messages API in process, held to the pinned spec.

A request goes through an httpx2 transport (no socket): it is routed and checked against the spec
(method, path, parameters, headers, body schema and formats), refused as the API would refuse it,
and otherwise answered from the fake's state: sends make messages, retrieve reads them, schedule and
cancel change them, the Idempotency-Key header is kept as the API's edge keeps it. Failures are
queued with fail_next(); webhooks are signed with the fake's own key, and deliver_receipts() posts
the messages' delivery receipts (_receipts.py). Sends go through Telnyx's throughput
(_throughput.py): queues that report each message's wait, the request limit, the daily spend
limit, on the fake's clock (a FakeClock in tests: virtual time).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import datetime
import enum
import functools
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import httpx2

from .._client import AsyncTelnyx, Telnyx
from .._clock import Clock  # the engine's: the fake reads its now() and utc()
from .._exceptions import TelnyxError
from .._parts import count_parts
from ._clock import SystemClock
from ._receipts import (
    ASGIApp,
    Kept,
    Outcomes,
    ReceiptReport,
    WSGIApp,
    deliver,
)
from ._spec import Operation, Refusal, Spec, load
from ._throughput import QueueFull, Queues, RequestCounter, RequestLimit, Spending, SpendLimit, Throughput

if TYPE_CHECKING:
    from nacl.signing import SigningKey

__all__ = ["FakeTelnyx", "FakeTelnyxError"]

FAKE_API_KEY = "KEY-fake-telnyx"
BASE_URL = "https://api.telnyx.com/v2"
IDEMPOTENCY_KEY = "idempotency-key"
# Telnyx's error for an SMS over the parts limit (developers.telnyx.com, "SMS Chunking": code 40302,
# "Message too large"). The docs give no HTTP status: 400, as for the API's other request errors, is
# the fake's choice.
TOO_LARGE = (400, "40302", "Message too large")
STATUS = "queued"  # a recipient's status in the answer to a send
# Telnyx's errors of throughput (developers.telnyx.com/api/errors; "API Rate Limiting"): all 429.
QUEUE_FULL = (429, "40318", "Message queue full")
REQUEST_LIMIT = (429, "10011", "Too many requests")
SPEND_LIMIT = (429, "40333", "Messaging profile spend limit reached")


class _Unset(enum.Enum):
    UNSET = enum.auto()


class FakeTelnyxError(TelnyxError):
    """The fake made something the spec refuses: a bug of telnyx_messages.testing (or a spec it cannot
    meet), not of the code under test."""


@dataclass
class _Failure:
    kind: str  # "status", "disconnect" or "timeout"
    status: int
    after_accept: bool
    times: int


@dataclass(frozen=True)
class _Answer:
    """An operation's 200 answer as the spec gives it, read once: its JSON schema (None: none), that
    schema resolved, its data's schema, whether the data is enveloped, and the data's message schema
    (the alternative with an id) where a POST's data is a message the fake makes."""

    operation: Operation
    schema: Any
    resolved: dict[str, Any]
    data_schema: Any
    enveloped: bool
    message: dict[str, Any] | None


@dataclass
class _Kept:
    """What the edge keeps of a key: the request it came with, and the answer once there is one."""

    fingerprint: str
    response: tuple[int, bytes] | None = None


class FakeTelnyx:
    """The Messages API in process. `client()` / `async_client()` give clients that talk to it;
    `transport()` / `async_transport()` an httpx2 transport for a client of your own. `sent` lists
    the messages it accepted, in order; `fail_next()` queues failures; `webhook()` makes signed
    webhooks, verifiable with `public_key`; `deliver_receipts()` posts the delivery receipts of what
    it accepted (message.sent, message.finalized; the outcomes the test sets) to a URL or an app.

    Throughput, on `clock` (a FakeClock: virtual time; default the system's): sends queue at the
    rates of `throughput` (by default Telnyx's documented ones when a clock is given; without a
    clock none, as the fake did before it had a clock; None: no queues), each answer's
    `wait_seconds` its time in the queue (`waits` lists them, in the order of `sent`), one that
    would wait past the queue's maximum refused (429, 40318); `request_limit` answers 429 (10011)
    past its requests a window, with x-ratelimit-* headers on every answer; `spend_limit` answers
    sends 429 (40333) once a UTC day's messages are spent, until 00:00 UTC.

    Cost: with `price` (a Decimal, USD a part), each accepted message's `cost` is
    {"amount": its parts times the price, "currency": "USD"} (an MMS is one part; without a price
    `cost` is null, the API's "not yet known"). `spend_amount` (a Decimal, USD; needs `price`) is the
    spend limit by amount: a send whose cost would take the UTC day's total past it is refused (429,
    40333) until 00:00 UTC. Given with `spend_limit`, whichever is reached first refuses."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        throughput: Throughput | _Unset | None = _Unset.UNSET,
        request_limit: RequestLimit | None = None,
        spend_limit: SpendLimit | None = None,
        price: Decimal | None = None,
        spend_amount: Decimal | None = None,
    ) -> None:
        if clock is not None and not (callable(getattr(clock, "now", None)) and callable(getattr(clock, "utc", None))):
            raise TypeError(f"FakeTelnyx clock must have now() and utc() (a FakeClock), got {clock!r}")
        for name, value, kind in (
            ("throughput", None if throughput is _Unset.UNSET else throughput, Throughput),
            ("request_limit", request_limit, RequestLimit),
            ("spend_limit", spend_limit, SpendLimit),
        ):
            if value is not None and not isinstance(value, kind):
                raise TypeError(f"FakeTelnyx {name} must be a {kind.__name__} or None, got {value!r}")
        for name, amount in (("price", price), ("spend_amount", spend_amount)):
            if amount is not None and not (isinstance(amount, Decimal) and amount.is_finite() and amount >= 0):
                raise TypeError(f"FakeTelnyx {name} must be a Decimal of at least 0 (USD), or None, got {amount!r}")
        if spend_amount is not None and price is None:
            raise ValueError("FakeTelnyx spend_amount needs price= (a message's cost is its parts times the price)")
        if throughput is _Unset.UNSET:
            throughput = Throughput() if clock is not None else None
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.throughput = throughput
        self.request_limit = request_limit
        self.spend_limit = spend_limit
        self._queues = Queues(throughput) if throughput is not None else None
        self._requests = RequestCounter(request_limit, self.clock.now()) if request_limit is not None else None
        self._spending = Spending(spend_limit) if spend_limit is not None else None
        self.price = price
        self.spend_amount = spend_amount
        self._spent: tuple[datetime.date | None, Decimal] = (None, Decimal(0))  # the UTC day's cost so far
        self.waits: list[float] = []
        self.spec: Spec = load()
        self.sent: list[Any] = []
        self.requests: list[httpx2.Request] = []
        self._messages: dict[str, dict[str, Any]] = {}
        self._scheduled: set[str] = set()
        self._message_schemas: set[int] | None = None  # the data schemas of the sends (by identity)
        self._templates: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}  # by message schema (_made_from)
        self._answers: dict[int, _Answer] = {}  # by operation (its id(); each holds its operation)
        self._models: dict[str, Any] = {}  # the model of an operation's result (_model_of), by operationId
        self._keys: dict[str, _Kept] = {}
        self._failures: list[_Failure] = []
        self._lock = threading.RLock()
        self._signing_key: SigningKey | None = None
        # Of each message accepted: when (the clock's utc()), its wait in the queue, and whether it
        # was scheduled (send_at); the delivery receipts made for it (_receipts.Kept), once made.
        self._accepted: dict[str, tuple[datetime.datetime, float, bool]] = {}
        self._receipts: dict[str, Kept] = {}

    # --- clients -----------------------------------------------------------------------------

    def transport(self) -> httpx2.MockTransport:
        """A transport for `httpx2.Client(transport=...)` (no sockets)."""
        return httpx2.MockTransport(self.handle)

    def async_transport(self) -> httpx2.MockTransport:
        """A transport for `httpx2.AsyncClient(transport=...)`."""
        return httpx2.MockTransport(self.handle)

    def client(self, **options: Any) -> Telnyx:
        """A Telnyx on this fake, with the client's usual keyword arguments; it does not wait out
        backoffs or Retry-After (the retries happen, at once)."""
        options.setdefault("api_key", FAKE_API_KEY)
        options.setdefault("base_url", BASE_URL)
        client = Telnyx(http_client=httpx2.Client(transport=self.transport()), **options)
        client._retry_delay_scale = 0.0
        return client

    def async_client(self, **options: Any) -> AsyncTelnyx:
        """An AsyncTelnyx on this fake, as client()."""
        options.setdefault("api_key", FAKE_API_KEY)
        options.setdefault("base_url", BASE_URL)
        client = AsyncTelnyx(http_client=httpx2.AsyncClient(transport=self.async_transport()), **options)
        client._retry_delay_scale = 0.0
        return client

    # --- failures ----------------------------------------------------------------------------

    def fail_next(
        self,
        kind: Literal["disconnect", "timeout"] | None = None,
        *,
        status: int | None = None,
        after_accept: bool = False,
        times: int = 1,
    ) -> None:
        """Fail the next `times` requests: with an HTTP `status` (a 429 comes with Retry-After), or
        by a dropped connection ("disconnect") or a timeout ("timeout"), raised at once. With
        `after_accept`, the request is handled first (a message is accepted), then the answer fails."""
        if (kind is None) == (status is None):
            raise ValueError("fail_next takes a kind ('disconnect' or 'timeout') or status=, one of them")
        if kind is not None and kind not in ("disconnect", "timeout"):
            raise ValueError(f"fail_next kind must be 'disconnect' or 'timeout', got {kind!r}")
        if status is not None and not (isinstance(status, int) and 400 <= status <= 599):
            raise ValueError(f"fail_next status must be an HTTP error status (400-599), got {status!r}")
        if not isinstance(times, int) or times < 1:
            raise ValueError(f"fail_next times must be an int >= 1, got {times!r}")
        with self._lock:
            self._failures.append(_Failure(kind or "status", status or 0, after_accept, times))

    def _next_failure(self) -> _Failure | None:
        with self._lock:
            if not self._failures:
                return None
            failure = self._failures[0]
            failure.times -= 1
            if failure.times == 0:
                self._failures.pop(0)
            return failure

    # --- webhooks ----------------------------------------------------------------------------

    @property
    def public_key(self) -> str:
        """The fake's Ed25519 public key, base64, as the portal shows Telnyx's."""
        return base64.b64encode(bytes(self._key().verify_key)).decode()

    def _key(self) -> SigningKey:
        if self._signing_key is None:
            from ..webhooks import require_verifier

            require_verifier()
            from nacl.signing import SigningKey

            self._signing_key = SigningKey.generate()
        return self._signing_key

    @property
    def max_wait_seconds(self) -> float:
        """The longest wait in a queue of the messages accepted so far (0.0 before any)."""
        with self._lock:
            return max(self.waits, default=0.0)

    def webhook(self, event_type: str, message: Any, *, timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
        """A webhook as Telnyx delivers it, signed: (body, headers). `message` is a message the
        fake returned (a model, or its id); the event is built from the spec's `webhooks:`."""
        document = self._message_document(message)
        document = _out_of_queue(document, ())  # an event is of a message the queue has sent
        _, event = self._event(event_type, document, self.clock.utc())
        return self._signed(event, timestamp)

    def _event(self, event_type: str, document: dict[str, Any], occurred: datetime.datetime) -> tuple[Any, Any]:
        """An event of `event_type` about the message `document`, as the spec's `webhooks:` give it
        (a new id; occurred at `occurred`), held to its schema: (the event's schema, the event)."""
        for name, item in (self.spec.document.get("webhooks") or {}).items():
            for operation in item.values():
                schema = self.spec.resolve(operation["requestBody"]["content"]["application/json"]["schema"])
                data = self.spec.resolve(schema["properties"]["data"])
                types = self.spec.resolve(data["properties"]["event_type"]).get("enum", [])
                if event_type in types:
                    event = self.spec.example(schema)
                    payload = self._payload(data["properties"].get("payload", {}), document)
                    event["data"] = {**(event.get("data") or {}), "event_type": event_type, "payload": payload}
                    event["data"]["id"] = str(uuid.uuid4())
                    event["data"]["occurred_at"] = _stamp(occurred)
                    _own(self.spec, schema, event, f"webhook {name}")
                    return schema, event
        raise ValueError(f"the spec's webhooks list no event type {event_type!r}")

    def _signed(self, event: Any, timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
        """An event's body and headers, signed with the fake's key at `timestamp` (unix seconds;
        default: the system's time, which a receiver checks the timestamp against)."""
        body = json.dumps(event).encode()
        when = str(int(time.time()) if timestamp is None else timestamp)
        signature = self._key().sign(when.encode() + b"|" + body).signature
        headers = {
            "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
            "telnyx-timestamp": when,
            "content-type": "application/json",
        }
        return body, headers

    # --- delivery receipts -----------------------------------------------------------------

    def deliver_receipts(
        self,
        to: str | ASGIApp | WSGIApp,
        *,
        outcomes: Outcomes | None = None,
        messages: Iterable[Any] | None = None,
        seed: int = 0,
        duplicate: float = 0.0,
        reorder: float = 0.0,
        timeout: float = 2.0,
        tries: int = 3,
        failover: str | ASGIApp | WSGIApp | None = None,
        path: str = "/",
        interface: Literal["asgi", "wsgi"] | None = None,
    ) -> ReceiptReport:
        """Deliver the delivery receipts of the messages the fake accepted, now, one POST at a time,
        and report each try and its answer (a ReceiptReport).

        `to`: a URL (http or https: posted to, as Telnyx does) or an app called in process (an ASGI
        app: an `async def __call__(scope, receive, send)`; else a WSGI app; `interface` says which
        where that guess fails), at `path`. `messages`: those to deliver (models the fake returned,
        or their ids); default, each accepted message whose receipts were not yet made (a scheduled
        one, with send_at, gets none). Each message gets a `message.sent` (each recipient `sent`)
        and a `message.finalized` (each recipient's outcome by `outcomes`, default all delivered),
        made once: delivered again, they are the same events. `duplicate`: the share of events
        delivered twice; `reorder`: the share of messages whose `message.finalized` goes before
        their `message.sent` (both 0..1, drawn by `seed`). A try answered other than 2xx, or not
        within `timeout` seconds (Telnyx's 2), is tried again after the other deliveries' tries,
        up to `tries` in all (Telnyx's 3), then as many at `failover`; each try's `meta.attempt`
        counts them. Settings are checked before anything is posted: ValueError or TypeError naming
        the one that is wrong."""
        return deliver(
            self,
            to,
            outcomes=outcomes,
            messages=messages,
            seed=seed,
            duplicate=duplicate,
            reorder=reorder,
            timeout=timeout,
            tries=tries,
            failover=failover,
            path=path,
            interface=interface,
        )

    async def deliver_receipts_async(
        self,
        to: str | ASGIApp | WSGIApp,
        *,
        outcomes: Outcomes | None = None,
        messages: Iterable[Any] | None = None,
        seed: int = 0,
        duplicate: float = 0.0,
        reorder: float = 0.0,
        timeout: float = 2.0,
        tries: int = 3,
        failover: str | ASGIApp | WSGIApp | None = None,
        path: str = "/",
        interface: Literal["asgi", "wsgi"] | None = None,
    ) -> ReceiptReport:
        """deliver_receipts(), from async code: the posts run on a worker thread, so that a receiver
        served on the caller's event loop answers them (asyncio, or trio through anyio)."""
        import anyio.to_thread

        return await anyio.to_thread.run_sync(
            functools.partial(
                deliver,
                self,
                to,
                outcomes=outcomes,
                messages=messages,
                seed=seed,
                duplicate=duplicate,
                reorder=reorder,
                timeout=timeout,
                tries=tries,
                failover=failover,
                path=path,
                interface=interface,
            )
        )

    def _payload(self, schema: Any, document: dict[str, Any]) -> dict[str, Any]:
        """The message as the event's payload: as it is where the payload schema takes it (an
        outbound message's delivery update), else made as a send makes a message (what the schema
        fixes, the example's empties) with each of the message's fields the schema takes (a message
        received: direction and shape are the inbound ones)."""
        spec = self.spec
        try:
            spec.check(schema, document, "")
            return document
        except Refusal:
            pass
        resolved = spec.resolve(schema)
        properties = resolved.get("properties") or {}
        if not properties:
            return document
        payload = _fresh(spec, resolved)
        for name, value in document.items():
            if name in properties and not _fixed(spec, properties[name]):
                trial = {**payload, name: value}
                try:
                    spec.check(schema, trial, "")
                except Refusal:
                    continue
                payload = trial
        return payload

    def _message_document(self, message: Any) -> dict[str, Any]:
        if isinstance(message, str):
            with self._lock:
                if message not in self._messages:
                    raise KeyError(f"the fake sent no message {message!r}")
                return dict(self._messages[message])
        if isinstance(message, Mapping):
            return dict(message)
        if hasattr(message, "to_dict"):
            found: dict[str, Any] = message.to_dict(mode="json")
            return found
        raise TypeError(f"message must be a result the fake returned, or its id, got {type(message).__name__}")

    # --- the API -----------------------------------------------------------------------------

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        """One request, answered as the API would (the transports call this)."""
        with self._lock:
            self.requests.append(request)
        failure = self._next_failure()
        if failure is not None and not failure.after_accept:
            return self._fail(failure, request)
        limited: dict[str, str] = {}
        try:
            if self._requests is not None:
                with self._lock:
                    over, limited = self._requests.count(self.clock.now())
                if over:
                    status, code, title = REQUEST_LIMIT
                    detail = (
                        f"more than {self._requests.limit.limit} requests in {self._requests.limit.window:g} s "
                        f"(the fake's request_limit); the window resets in {limited['x-ratelimit-reset']} s"
                    )
                    raise Refusal(status, code, title, detail)
            status, body = self._answer(request)
        except Refusal as refusal:
            status, body = refusal.status, json.dumps(refusal.document()).encode()
        if failure is not None:
            return self._fail(failure, request)
        headers = {"content-type": "application/json", "x-request-id": str(uuid.uuid4()), **limited}
        if isinstance(body, tuple):  # a stored answer, replayed
            body = body[0]
            headers["idempotent-replayed"] = "true"
        return httpx2.Response(status, content=body, headers=headers, request=request)

    def _fail(self, failure: _Failure, request: httpx2.Request) -> httpx2.Response:
        if failure.kind == "disconnect":
            raise httpx2.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        if failure.kind == "timeout":
            raise httpx2.ReadTimeout("timed out (the fake's injected timeout)", request=request)
        headers = {"content-type": "application/json"}
        if failure.status == 429:
            headers["retry-after"] = "1"
        error = Refusal(failure.status, "10000", "Injected failure", "fail_next() asked for it").document()
        return httpx2.Response(failure.status, json=error, headers=headers, request=request)

    def _answer(self, request: httpx2.Request) -> tuple[int, Any]:
        spec = self.spec
        if not request.headers.get("authorization", "").startswith("Bearer "):
            raise Refusal(401, "10009", "Authentication failed", "no API key (Authorization: Bearer ...)")
        operation, path_values = spec.route(request.method, request.url.path)
        body = self._checked(operation, request, path_values)
        key = request.headers.get(IDEMPOTENCY_KEY)
        if key is None:
            return 200, json.dumps(self._perform(operation, path_values, body)).encode()
        fingerprint = hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + request.content).hexdigest()
        with self._lock:
            kept = self._keys.get(key)
            if kept is not None:
                if kept.fingerprint != fingerprint:
                    raise Refusal(422, "10016", "Idempotency key reused", "the key was used with another request")
                if kept.response is None:
                    raise Refusal(409, "10017", "Request in progress", "a request with this key is in progress")
                status, stored = kept.response
                return status, (stored, True)
            kept = self._keys[key] = _Kept(fingerprint)
        try:
            document = json.dumps(self._perform(operation, path_values, body)).encode()
        except BaseException:
            with self._lock:
                del self._keys[key]  # only successes are kept
            raise
        kept.response = (200, document)
        return 200, document

    def _checked(self, operation: Operation, request: httpx2.Request, path_values: dict[str, str]) -> Any:
        spec = self.spec
        for parameter in operation.parameters:
            where = parameter.where
            if where == "path":
                value: Any = path_values.get(parameter.name)
            elif where == "query":
                value = request.url.params.get(parameter.name)
            elif where == "header":
                value = request.headers.get(parameter.name)
            else:
                continue
            if value is None:
                if parameter.required:
                    raise Refusal(422, "10002", "Missing parameter", f"{where} parameter {parameter.name} is required")
                continue
            if parameter.schema.get("type") in ("integer", "number"):
                with contextlib.suppress(ValueError):  # else the schema refuses the text
                    value = json.loads(value)
            try:
                spec.check(parameter.schema, value, f"{where} parameter {parameter.name}")
            except Refusal as refusal:
                if where == "header":  # the edge's answer to a header it refuses
                    raise Refusal(400, "10015", "Invalid header", refusal.detail) from None
                raise
        if operation.body_schema is None:
            return None
        if not request.content:
            if operation.body_required:
                raise Refusal(422, "10002", "Missing body", "the request needs a JSON body")
            return None
        try:
            body = json.loads(request.content)
        except ValueError as exc:
            raise Refusal(400, "10002", "Invalid JSON", f"the body is not JSON: {exc}") from None
        spec.check(operation.body_schema, body, "")
        return body

    # --- what each kind of operation does ------------------------------------------------------

    def _response_schema(self, operation: Operation) -> Any:
        response = self.spec.resolve(operation.responses.get("200") or {})
        return (response.get("content") or {}).get("application/json", {}).get("schema")

    def _answer_of(self, operation: Operation) -> _Answer:
        """What `operation` answers, read off the spec once (the spec's schemas are read, never changed)."""
        found = self._answers.get(id(operation))  # each kept with its operation: no other has its id
        if found is None:
            spec = self.spec
            schema = self._response_schema(operation)
            resolved = spec.resolve(schema) if schema is not None else {}
            data_schema = spec.resolve((resolved.get("properties") or {}).get("data", {}))
            identified = operation.method == "POST" and _has_id(spec, data_schema)  # the data is a message
            found = _Answer(
                operation,
                schema,
                resolved,
                data_schema,
                "data" in (resolved.get("properties") or {}),
                _with_properties(spec, data_schema) if identified else None,
            )
            self._answers[id(operation)] = found
        return found

    def _perform(self, operation: Operation, path_values: dict[str, str], body: Any) -> Any:
        spec = self.spec
        answered = self._answer_of(operation)
        schema, resolved, data_schema = answered.schema, answered.resolved, answered.data_schema
        if answered.message is not None:  # checked as it is made, before it is kept
            return self._create(operation, answered.message, body or {}, schema, answered.enveloped)
        if operation.method == "DELETE":
            answer = self._cancel(next(iter(path_values.values())), resolved)
        elif operation.method == "GET" and path_values and data_schema.get("type") == "array":
            answer = {"data": self._group(next(iter(path_values.values())))}
        elif operation.method == "GET" and path_values and self._is_message(data_schema):
            answer = {"data": self._retrieve(next(iter(path_values.values())))}
        else:
            answer = spec.example(schema)
        if schema is not None:  # an answer without a JSON schema: nothing to hold it to
            _own(spec, schema, answer, "response")  # the fake answers only what the spec allows
        return answer

    def _create(
        self, operation: Operation, data_schema: dict[str, Any], body: dict[str, Any], schema: Any, enveloped: bool
    ) -> Any:
        """A message made from the request: what it set, what the API sets (an id, the type, parts and
        encoding of its text, its media, the time received, the direction), what the schema fixes
        (a `const`, a one-value `enum`, a `default`) and what the spec's example leaves empty (null, [],
        {}: not yet known). The example's other values only illustrate: none is copied. The answer
        (`schema`: the response's; the message as its `data` where `enveloped`) is checked, then kept."""
        spec = self.spec
        properties = data_schema.get("properties") or {}
        example, fresh = self._made_from(data_schema)
        document = _copied(fresh)
        scheduled = "send_at" in body  # queued until then, and cancellable
        for name, value in body.items():
            if name in properties:
                document[name] = _shaped(spec, properties[name], value, example.get(name), STATUS)
        document["id"] = str(uuid.uuid4())
        if "type" in properties and "type" not in body:
            allowed = spec.resolve(properties["type"]).get("enum") or []
            wanted = "MMS" if body.get("media_urls") else "SMS"
            if wanted in allowed:
                document["type"] = wanted
        if isinstance(body.get("text"), str):
            self._count(properties, body, document)
        if "media" in properties and isinstance(body.get("media_urls"), list):
            shown = example.get("media")
            template = _empties(shown[0]) if isinstance(shown, list) and shown else {}
            document["media"] = [{**template, "url": url} for url in body["media_urls"]]
        if "received_at" in properties:
            document["received_at"] = _stamp(self.clock.utc())
        if "direction" in properties:
            allowed = spec.resolve(properties["direction"]).get("enum") or ["outbound"]
            document["direction"] = "outbound" if "outbound" in allowed else allowed[0]
        if "errors" in properties:
            document["errors"] = []
        for name in data_schema.get("required") or []:
            if name not in document and name in example:
                document[name] = copy.deepcopy(example[name])  # required, and nothing above gives it: the example
        with self._lock:
            wait = self._admit(body, document, properties, queued=not scheduled)
            answer = {"data": document} if enveloped else document
            _own_made(spec, schema, answer, data_schema, document)
            self._messages[document["id"]] = _out_of_queue(document, data_schema.get("required") or ())
            self._accepted[document["id"]] = (self.clock.utc(), wait, scheduled)
            if scheduled:
                self._scheduled.add(document["id"])
            result = self._model_of(operation, document)
            self.sent.append(result)
            self.waits.append(wait)
        return answer

    def _made_from(self, data_schema: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The spec's example of a message schema, and a message before the request fills it (_fresh),
        made once per schema: both are read, never changed."""
        made = self._templates.get(id(data_schema))
        if made is None:
            example = self.spec.example(data_schema)
            made = (example if isinstance(example, dict) else {}, _fresh(self.spec, data_schema))
            self._templates[id(data_schema)] = made
        return made

    def _admit(
        self, body: dict[str, Any], document: dict[str, Any], properties: Mapping[str, Any], queued: bool
    ) -> float:
        """The spend limit, then the queues, for a message about to be accepted (the fake's lock held):
        its wait, in `wait_seconds` (and `valid_until`: the time it must leave the queue by) where the
        message has them. A scheduled message is queued when it is sent, not now."""
        clock = self.clock
        today = clock.utc()
        if self._spending is not None and self._spending.reached(today.date()):
            _spent(today, f"{self._spending.limit.messages} messages, the fake's spend_limit")
        cost = None
        spent_after = self._spent
        if self.price is not None:
            parts = document.get("parts")
            cost = self.price * (parts if isinstance(parts, int) else 1)
        if self.spend_amount is not None:
            assert cost is not None
            day, spent = self._spent
            if day != today.date():
                spent = Decimal(0)
            if spent + cost > self.spend_amount:
                _spent(
                    today,
                    f"USD {spent} of {self.spend_amount}, the fake's spend_amount; this message's cost is {cost}",
                )
            spent_after = (today.date(), spent + cost)  # counted once the message is accepted
        wait = 0.0
        if self._queues is not None and queued:
            to = body.get("to")
            destination = to[0] if isinstance(to, list) and to else to
            sender = body.get("from")
            kind = document.get("type") or ("MMS" if body.get("media_urls") else "SMS")
            try:
                wait = self._queues.admit(
                    clock.now(),
                    kind if isinstance(kind, str) else "",
                    sender if isinstance(sender, str) else None,
                    destination if isinstance(destination, str) else None,
                )
            except QueueFull as full:
                status, code, title = QUEUE_FULL
                limit = self._queues.throughput.max_queue_seconds
                detail = f"{full.queue} is full: the message would wait {full.wait:.1f} s, past its {limit:g} s"
                raise Refusal(status, code, title, detail) from None
            if "wait_seconds" in properties:
                document["wait_seconds"] = wait
            if "valid_until" in properties and wait > 0:
                document["valid_until"] = _stamp(
                    clock.utc() + datetime.timedelta(seconds=self._queues.throughput.max_queue_seconds)
                )
        if self._spending is not None:
            self._spending.spend()
        self._spent = spent_after
        if cost is not None and "cost" in properties:
            document["cost"] = {"amount": str(cost), "currency": "USD"}
        return wait

    def _count(self, properties: Mapping[str, Any], body: dict[str, Any], document: dict[str, Any]) -> None:
        """The parts and encoding of an SMS's text, as Telnyx counts them; an SMS over the spec's
        maximum of parts refused as Telnyx refuses it. An MMS is not split in SMS parts (Telnyx: its
        text is UTF-8, and chunking is the SMS's only): one part, its encoding left unset."""
        if document.get("type") == "MMS":
            if "parts" in properties:
                document["parts"] = 1
            return
        counted = count_parts(body["text"])
        if "encoding" in properties and body.get("encoding") in (None, "auto"):
            document["encoding"] = counted.encoding
        if "parts" not in properties:
            return
        maximum = self.spec.resolve(properties["parts"]).get("maximum")
        if maximum is not None and counted.parts > maximum:
            status, code, title = TOO_LARGE
            detail = (
                f"text: the SMS message would be divided into {counted.parts} parts ({counted.encoding}, "
                f"{counted.characters} characters). The maximum is {maximum}."
            )
            raise Refusal(status, code, title, detail, "/text")
        document["parts"] = counted.parts

    def _model_of(self, operation: Operation, document: dict[str, Any]) -> Any:
        """The accepted message as the client reads it: the model of the operation's result's data."""
        if operation.operation_id not in self._models:
            from telnyx_messages._api import models
            from telnyx_messages._api.api import OPERATIONS

            self._models[operation.operation_id] = next(
                (
                    getattr(models, generated.result)
                    for generated in OPERATIONS.values()
                    if generated.operation_id == operation.operation_id and generated.result
                ),
                None,
            )
        model = self._models[operation.operation_id]
        if model is None:
            return document
        result = model.from_dict({"data": document})
        return getattr(result, "data", result)

    def _is_message(self, schema: Any) -> bool:
        """Whether a GET's data is a message the sends make (one of their data schemas): other
        resources a later spec adds (an RCS agent) are answered from their example instead."""
        if self._message_schemas is None:
            spec = self.spec
            self._message_schemas = {
                id(_with_properties(spec, data))
                for operation in spec.operations
                if operation.method == "POST"
                for data in [
                    spec.resolve(
                        (spec.resolve(self._response_schema(operation) or {}).get("properties") or {}).get("data", {})
                    )
                ]
                if _has_id(spec, data)
            }
        return any(id(part) in self._message_schemas for part in _alternatives(self.spec, schema))

    def _retrieve(self, message_id: str) -> dict[str, Any]:
        with self._lock:
            found = self._messages.get(message_id)
        if found is None:
            raise Refusal(404, "10005", "Resource not found", f"no message {message_id}")
        return dict(found)

    def _group(self, message_id: str) -> list[dict[str, Any]]:
        with self._lock:
            if message_id not in self._messages:
                raise Refusal(404, "10005", "Resource not found", f"no group message {message_id}")
            return [dict(self._messages[message_id])]  # the fake sends each message on its own

    def _cancel(self, message_id: str, schema: dict[str, Any]) -> Any:
        with self._lock:
            found = self._messages.get(message_id)
            if found is None:
                raise Refusal(404, "10005", "Resource not found", f"no message {message_id}")
            if message_id not in self._scheduled:
                raise Refusal(422, "40305", "Not cancellable", f"message {message_id} is not a scheduled message")
            self._scheduled.discard(message_id)
            cancelled = dict(found)
        # The message in the cancel response's own shape (its `data` where it has one): the fields the
        # schema takes, each recipient `cancelled` where its status takes that value.
        spec = self.spec
        enveloped = "data" in (schema.get("properties") or {})
        target = _alternatives(spec, schema["properties"]["data"])[0] if enveloped else schema
        fields = target.get("properties") or {}
        if not fields:
            return spec.example(schema)
        document = {name: value for name, value in cancelled.items() if name in fields}
        recipients = document.get("to")
        status_schema = _status_schema(spec, fields.get("to"))
        if isinstance(recipients, list) and status_schema is not None:
            allowed = status_schema.get("enum")
            if not allowed or "cancelled" in allowed:
                document["to"] = [{**to, "status": "cancelled"} if isinstance(to, dict) else to for to in recipients]
        answer = {"data": document} if enveloped else document
        _own(spec, schema, answer, "cancellation")
        return answer


def _own(spec: Spec, schema: Any, document: Any, what: str) -> None:
    """What the fake itself makes must be what the spec allows: a failure here is the fake's bug,
    raised as such (never answered as the API's refusal)."""
    try:
        spec.check(schema, document, "")
    except Refusal as refusal:
        raise FakeTelnyxError(
            f"telnyx_messages.testing made a {what} the spec refuses (the fake's fault, not your code's): "
            f"{refusal.detail}"
        ) from None


def _out_of_queue(document: dict[str, Any], required: Any) -> dict[str, Any]:
    """A message as it is once out of the queue (as the fake keeps it, retrieves it, and sends it in
    webhooks): its wait is the send's answer's only (the webhooks' examples have none), unless its
    schema requires it; its valid_until nulled, as the spec says of a message that left the queue."""
    document = dict(document)
    if "wait_seconds" not in required:
        document.pop("wait_seconds", None)
    if document.get("valid_until") is not None:
        document["valid_until"] = None
    return document


def _own_made(spec: Spec, schema: Any, answer: Any, data_schema: Any, document: dict[str, Any]) -> None:
    """A made message's answer held to the spec in one check (the message with it); where the answer
    fails, the message alone is checked, to name which of them the fake got wrong. (`schema` is never
    None: _perform makes a message only where the answer's schema has a data with an id.)"""
    try:
        _own(spec, schema, answer, "response")
    except FakeTelnyxError:
        _own(spec, data_schema, document, "message")
        raise


def _alternatives(spec: Spec, schema: Any) -> list[Any]:
    resolved = spec.resolve(schema)
    parts = resolved.get("oneOf") or resolved.get("anyOf")
    return [spec.resolve(part) for part in parts] if parts else [resolved]


def _has_id(spec: Spec, schema: Any) -> bool:
    return any("id" in (part.get("properties") or {}) for part in _alternatives(spec, schema))


def _with_properties(spec: Spec, schema: Any) -> dict[str, Any]:
    """The alternative of a data schema that describes an outbound message (the first with an id)."""
    found: dict[str, Any] = next(part for part in _alternatives(spec, schema) if "id" in (part.get("properties") or {}))
    return found


def _copied(value: Any) -> Any:
    """A copy of a JSON document (its dicts and lists new, all the way down): what copy.deepcopy
    gives of one, at a fraction of its cost."""
    if isinstance(value, dict):
        return {name: _copied(part) for name, part in value.items()}
    if isinstance(value, list):
        return [_copied(part) for part in value]
    return value


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, (list, dict)) and not value)


def _empties(value: Any) -> dict[str, Any]:
    """The fields of an example object it leaves empty (null, [], {}: what is not yet known), each a
    new one (the example's own are never shared)."""
    if not isinstance(value, dict):
        return {}
    return {name: None if part is None else type(part)() for name, part in value.items() if _empty(part)}


def _fresh(spec: Spec, schema: Mapping[str, Any]) -> dict[str, Any]:
    """A message before the request fills it: what the schema fixes, and what its example leaves empty
    (null, [], {}: not yet known). The example's other values only illustrate: none is copied."""
    document = _empties(spec.example(schema))
    for name, part in (schema.get("properties") or {}).items():
        fixed = _fixed(spec, part)
        if fixed:
            document[name] = fixed[0]
    return document


def _fixed(spec: Spec, schema: Any) -> list[Any]:
    """The one value a schema fixes (its const, its only enum value, its default), or none."""
    schema = spec.resolve(schema)
    if "const" in schema:
        return [schema["const"]]
    if len(schema.get("enum") or []) == 1:
        return [schema["enum"][0]]
    if "default" in schema:
        return [schema["default"]]
    return []


def _status_schema(spec: Spec, schema: Any) -> dict[str, Any] | None:
    """The schema of a recipient's status, where `to` lists objects that have one."""
    items = spec.resolve(spec.resolve(schema or {}).get("items") or {})
    status = (items.get("properties") or {}).get("status")
    return None if status is None else dict(spec.resolve(status))


def _spent(today: datetime.datetime, limit: str) -> None:
    """The spend limit's refusal (429, 40333), `limit` naming the limit reached."""
    midnight = datetime.datetime.combine(today.date() + datetime.timedelta(days=1), datetime.time(), today.tzinfo)
    status, code, title = SPEND_LIMIT
    detail = (
        f"the messaging profile has spent its daily limit ({limit}); sends are refused until 00:00 UTC "
        f"({_stamp(midnight)})"
    )
    raise Refusal(status, code, title, detail)


def _stamp(moment: datetime.datetime) -> str:
    """A UTC time as the API writes it (milliseconds, Z)."""
    moment = moment.astimezone(datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _recipient(spec: Spec, schema: Any, template: Any, number: Any, status: str | None) -> Any:
    """A number as the response's object for it (phone_number, and a recipient's status where it has
    one)."""
    properties = spec.resolve(schema).get("properties") or {}
    if "phone_number" not in properties:
        return number
    recipient = _empties(template)
    recipient["phone_number"] = number
    if status is not None and "status" in properties:
        allowed = spec.resolve(properties["status"]).get("enum")
        recipient["status"] = status if not allowed or status in allowed else allowed[0]
    return recipient


def _shaped(spec: Spec, schema: Any, value: Any, example: Any, status: str) -> Any:
    """A request field as the response holds it: as sent; a number inside the response's object
    where it has one with a phone_number (`from`, each of `to`); a list where it lists them."""
    resolved = spec.resolve(schema)
    kinds = resolved.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "array" in kinds:
        items = resolved.get("items", {})
        template = example[0] if isinstance(example, list) and example else None
        values = value if isinstance(value, list) else [value]
        return [_recipient(spec, items, template, item, status) if isinstance(item, str) else item for item in values]
    if isinstance(value, str) and "phone_number" in (resolved.get("properties") or {}):
        return _recipient(spec, resolved, example, value, None)  # the sender: no recipient's status
    return value
