"""One exception hierarchy: every failure of a call ends in TelnyxError.

TelnyxError
 ├─ ClientClosedError (a call on a client after close())
 └─ APIError
     ├─ APIStatusError (BadRequestError 400, AuthenticationError 401, PermissionDeniedError 403,
     │                  NotFoundError 404, ConflictError 409, UnprocessableEntityError 422,
     │                  RateLimitError 429, InternalServerError >= 500)
     │   └─ RateLimitError
     │       └─ SpendLimitError (429 with error code 40333: the messaging profile's daily spend limit)
     ├─ APIResponseValidationError (a 2xx body that is not the documented document, or a body
     │   └─ ResponseTooLargeError    that does not decode; one over the size limit)
     └─ APIConnectionError
         └─ APITimeoutError

Text from the server reaches messages with its control characters escaped (no terminal escapes,
no forged log lines). Errors pickle without the request (its headers hold the API key) and without
the response: what is left is the message, the status, the response headers and the parsed body.
Every status error gives the response's request-limit headers parsed, as `rate_limit`.
"""

from __future__ import annotations

import email.utils
import json
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

import httpx2

if TYPE_CHECKING:
    from ._rate_limits import RateLimit

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConflictError",
    "ErrorDetail",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "SpendLimitError",
    "TelnyxError",
    "UnprocessableEntityError",
]


_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)]}


def escape_controls(text: str) -> str:
    """Text from the server, fit for a message: control characters written as \\xNN escapes."""
    return text.translate(_CONTROLS)


class TelnyxError(Exception):
    """Base of every exception this package raises."""

    # The Idempotency-Key the failed call sent on every attempt (None: it sent none). A program that
    # gives up may call again with it later (within the API's 24 hours) and still send the message once.
    idempotency_key: str | None = None


class MissingDependencyError(TelnyxError, ImportError):
    """An optional dependency a feature needs is not installed; the message names the extra to
    install. A configuration error of the program, raised where the feature is set up."""


class ClientClosedError(TelnyxError):
    """A call on a client that was closed (or whose http_client was)."""


def _rebuilt(cls: type[APIError], state: dict[str, Any]) -> APIError:
    error = cls.__new__(cls)
    Exception.__init__(error, state["message"])
    error.__dict__.update(state)
    return error


class APIError(TelnyxError):
    request: httpx2.Request | None
    response: httpx2.Response | None

    def __init__(self, message: str, *, request: httpx2.Request | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request

    def __reduce__(self) -> tuple[Any, ...]:
        # The request carries the Authorization header; the response refers to the request.
        return _rebuilt, (type(self), {**self.__dict__, "request": None, "response": None})


class ErrorDetail(NamedTuple):
    """One entry of a messaging error response's `errors` list."""

    # A named tuple: a dataclass would cost every program's import more than a millisecond to build.

    code: str
    title: str
    detail: str | None = None
    pointer: str | None = None
    parameter: str | None = None

    def __str__(self) -> str:
        text = " ".join(part for part in (self.code, self.detail or self.title) if part)
        where = self.pointer or self.parameter
        return escape_controls(f"{text} (at {where})" if where else text)


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return None


def _text(value: Any) -> str | None:
    return str(value) if value is not None and value != "" else None


def _error_details(document: Any) -> list[ErrorDetail]:
    """The `errors` of a Telnyx error body; read leniently: a malformed error body must not hide the
    status behind a parse error."""
    if not isinstance(document, dict) or not isinstance(document.get("errors"), list):
        return []
    details = []
    for error in document["errors"]:
        if not isinstance(error, dict):
            continue
        source = error.get("source")
        if not isinstance(source, dict):
            source = {}
        details.append(
            ErrorDetail(
                code=str(error.get("code", "")),
                title=str(error.get("title", "")),
                detail=_text(error.get("detail")),
                pointer=_text(source.get("pointer")),
                parameter=_text(source.get("parameter")),
            )
        )
    return details


def _summary(document: Any, body: bytes) -> str:
    # Bodies that are not Telnyx errors: RFC 7807 problems (from Prism or a proxy), HTML, empty.
    if isinstance(document, dict):
        parts = [str(document[k]) for k in ("title", "detail") if isinstance(document.get(k), str)]
        if parts:
            return escape_controls(": ".join(parts))
    text = body[:200].decode("utf-8", "replace").strip()
    return escape_controls(" ".join(text.split())) if text else "(empty body)"


# The error code of a 400 for an Idempotency-Key the API refuses (upstream's IdempotencyKey parameter).
INVALID_IDEMPOTENCY_KEY = "10015"
# The error codes of a 429 (Telnyx's rate-limiting and configurable-spend-limits pages): the API's
# request limit, waited out until `x-ratelimit-reset`; a messaging profile's daily spend limit, which
# holds until 00:00 UTC and is never retried.
REQUEST_LIMIT_EXCEEDED = "10011"
SPEND_LIMIT_REACHED = "40333"


def spend_limit_reached(response: httpx2.Response) -> bool:
    """A 429 whose first error's code is 40333: the messaging profile's daily spend limit is reached."""
    if response.status_code != 429:
        return False
    errors = _error_details(_decode(response.content))
    return bool(errors) and errors[0].code == SPEND_LIMIT_REACHED


def next_midnight_utc(date: str | None) -> datetime:
    """The first 00:00 UTC after a response's `Date` header; after now when it has none the calendar takes."""
    try:
        when = email.utils.parsedate_to_datetime(date or "")
        return _midnight_after(when if when.tzinfo else when.replace(tzinfo=UTC))  # "-0000": UTC (RFC 5322)
    except (ValueError, OverflowError, TypeError):  # no date, a bad one, or one with no next day
        return _midnight_after(datetime.now(UTC))


def _midnight_after(when: datetime) -> datetime:
    return datetime.combine(when.astimezone(UTC).date() + timedelta(days=1), time(0), tzinfo=UTC)


def _idempotency_hint(status: int, errors: list[ErrorDetail], key: str | None) -> str:
    if any(error.code == INVALID_IDEMPOTENCY_KEY for error in errors):
        return " (error 10015: the API refused the Idempotency-Key header)"
    if status == 422 and key is not None:
        return (
            f" (Idempotency-Key {escape_controls(key)}: the API also answers 422 when a key is reused with a "
            "different request)"
        )
    return ""


class APIStatusError(APIError):
    """The server answered with a status that is not a success."""

    def __init__(self, response: httpx2.Response, idempotency_key: str | None = None) -> None:
        self.response = response
        self.status_code = response.status_code
        self.headers = response.headers
        self.request_id = response.headers.get("x-request-id")
        self.body: Any = _decode(response.content)
        self.errors = _error_details(self.body)
        reason = httpx2.codes.get_reason_phrase(self.status_code) or "Unknown Status"
        what = "; ".join(str(e) for e in self.errors) or _summary(self.body, response.content)
        hint = _idempotency_hint(self.status_code, self.errors, idempotency_key)
        super().__init__(f"{self.status_code} {reason}: {what}{hint}{self._why()}", request=response.request)

    def _why(self) -> str:
        """What the message adds to the server's words (a subclass's reading of them)."""
        return ""

    @property
    def rate_limit(self) -> RateLimit | None:
        """The response's request-limit headers (`x-ratelimit-*`) parsed; None when it sent none."""
        from ._rate_limits import RateLimit

        return RateLimit.from_headers(self.headers)


class BadRequestError(APIStatusError):
    pass


class AuthenticationError(APIStatusError):
    pass


class PermissionDeniedError(APIStatusError):
    pass


class NotFoundError(APIStatusError):
    pass


class ConflictError(APIStatusError):
    pass


class UnprocessableEntityError(APIStatusError):
    pass


class RateLimitError(APIStatusError):
    """429: too many requests (error code 10011: the API's request limit; `rate_limit.reset` says
    when its window resets), or a SpendLimitError."""


class SpendLimitError(RateLimitError):
    """429 with error code 40333: the messaging profile's daily spend limit is reached. Never retried:
    the profile sends nothing more until the limit resets at 00:00 UTC. `resets_at`: that time, an
    aware datetime (the first midnight UTC after the response's Date header, else after now).
    `idempotency_key` (keyed sends): the key to send the same message with after the reset."""

    def __init__(self, response: httpx2.Response, idempotency_key: str | None = None) -> None:
        # The next midnight UTC by the server's clock (its Date header), else by this one's.
        self.resets_at = next_midnight_utc(response.headers.get("date"))
        super().__init__(response, idempotency_key)

    def _why(self) -> str:
        return (
            " (the messaging profile's daily spend limit is reached; it resets at 00:00 UTC, "
            f"{self.resets_at:%Y-%m-%d %H:%M} UTC; not retried)"
        )


class InternalServerError(APIStatusError):
    pass


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error(response: httpx2.Response, idempotency_key: str | None = None) -> APIStatusError:
    """The error of a status; the key, where the caller gave one, for the message's hint at its
    reuse (a key the client made is new to the call; the client sets every error's idempotency_key
    itself)."""
    if response.status_code >= 500:
        return InternalServerError(response)  # no hint of a key is for a 5xx
    if spend_limit_reached(response):
        return SpendLimitError(response, idempotency_key)
    return _BY_STATUS.get(response.status_code, APIStatusError)(response, idempotency_key)


class APIResponseValidationError(APIError):
    """A success status whose body is not the document the spec describes."""

    def __init__(self, response: httpx2.Response, reason: str) -> None:
        self.response = response
        self.status_code = response.status_code
        self.headers = response.headers
        super().__init__(f"{response.status_code} response body {escape_controls(reason)}", request=response.request)


class ResponseTooLargeError(APIResponseValidationError):
    """A response body (decompressed) over the client's max_response_bytes: not read further."""


class APIConnectionError(APIError):
    """No response: the connection failed, broke, or the transfer failed."""


class APITimeoutError(APIConnectionError):
    pass


def keyed(error: TelnyxError, idempotency_key: str | None) -> TelnyxError:
    """`error` with the Idempotency-Key its call sent: to retry later with, and still send once."""
    error.idempotency_key = idempotency_key
    return error


def connection_error(exc: httpx2.TransportError, request: httpx2.Request) -> APIConnectionError:
    """The error of a call that got no response, naming where it went (method, host and port; the
    URL's path and query stay out, and no key is ever in them)."""
    url = request.url
    port = url.port or (443 if url.scheme == "https" else 80)
    where = f"{request.method} {url.host}:{port}"
    why = f": {exc}" if str(exc) else ""  # anyio's timeouts have no text
    if isinstance(exc, httpx2.TimeoutException):
        return APITimeoutError(f"Request timed out ({type(exc).__name__}) for {where}{why}", request=request)
    return APIConnectionError(f"Connection error ({type(exc).__name__}) for {where}{why}", request=request)


def other_http_failure(exc: httpx2.HTTPError, request: httpx2.Request) -> TelnyxError:
    """An httpx error that is not a transport failure, in the hierarchy."""
    if isinstance(exc, httpx2.DecodingError):
        response = httpx2.Response(502, request=request)
        return APIResponseValidationError(response, f"does not decode ({type(exc).__name__}): {exc}")
    return APIConnectionError(f"Request failed ({type(exc).__name__}): {exc}", request=request)
