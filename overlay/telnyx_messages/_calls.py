"""What a generated method hands its client: its Operation (from the spec), the per-call
CallOptions, NotGiven (an argument not passed), and the protocols of the clients that take them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import TYPE_CHECKING, Any, Generic, Literal, NamedTuple, Protocol, TypeVar

import httpx2

if TYPE_CHECKING:
    from ._response import APIResponse, AsyncAPIResponse, AsyncStreamedAPIResponse, StreamedAPIResponse

__all__ = [
    "NOT_GIVEN",
    "AsyncCaller",
    "Body",
    "CallOptions",
    "HeaderParameter",
    "Headers",
    "NotGiven",
    "Operation",
    "Query",
    "SyncCaller",
    "Timeout",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class NotGiven:
    """The default of every optional argument: the caller did not pass it, so nothing is sent
    (None is a value; some fields are nullable)."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()


Headers = Mapping[str, str]
Query = Mapping[str, object]
Body = Mapping[str, object]
Timeout = float | httpx2.Timeout | None


class HeaderParameter(NamedTuple):
    """A header the spec declares on an operation: its argument, its name on the wire, and what its
    schema allows of its text (checked before sending)."""

    argument: str
    header: str
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None


class Operation(NamedTuple, Generic[T_co]):
    """What a method needs to make its request and read its answer, from the spec: the parameters
    by where they go, each as (Python name, wire name), and the names of the models of the 200 and
    the error responses in `models`."""

    operation_id: str
    method: str
    path: str
    path_parameters: tuple[tuple[str, str], ...]
    query_parameters: tuple[tuple[str, str], ...]
    header_parameters: tuple[HeaderParameter, ...]
    body_parameters: tuple[tuple[str, str], ...]
    has_body: bool
    result: str
    error: str | None
    # The most parts (SMS segments) the API takes for the body's `text` (the responses' `parts`
    # maximum); None: no limit the spec states, or no `text` in the body.
    max_text_parts: int | None = None


class CallOptions(NamedTuple):
    """The per-call options every method takes, as the official SDK names them."""

    # A named tuple: made on every call, and cheaper to make (and to build at import) than a dataclass.

    extra_headers: Headers | None = None
    extra_query: Query | None = None
    extra_body: Body | None = None
    timeout: Timeout | NotGiven = NOT_GIVEN
    max_retries: int | None = None


class SyncCaller(Protocol):
    """What the resources need of a client: the overlay's Telnyx."""

    def _call(
        self, operation: Operation[T], method: Callable[..., Any], arguments: dict[str, object], options: CallOptions
    ) -> T: ...

    def _call_raw(
        self, operation: Operation[T], method: Callable[..., Any], arguments: dict[str, object], options: CallOptions
    ) -> APIResponse[T]: ...

    def _call_streamed(
        self, operation: Operation[T], method: Callable[..., Any], arguments: dict[str, object], options: CallOptions
    ) -> AbstractContextManager[StreamedAPIResponse[T]]: ...


class AsyncCaller(Protocol):
    """What the resources need of an async client: the overlay's AsyncTelnyx."""

    async def _call(
        self, operation: Operation[T], method: Callable[..., Any], arguments: dict[str, object], options: CallOptions
    ) -> T: ...

    async def _call_raw(
        self, operation: Operation[T], method: Callable[..., Any], arguments: dict[str, object], options: CallOptions
    ) -> AsyncAPIResponse[T]: ...

    def _call_streamed(
        self, operation: Operation[T], method: Callable[..., Any], arguments: dict[str, object], options: CallOptions
    ) -> AbstractAsyncContextManager[AsyncStreamedAPIResponse[T]]: ...
