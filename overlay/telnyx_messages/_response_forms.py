"""The raw-response and streaming-response forms of a resource's methods (`client.messages.
with_raw_response.send`, `.with_streaming_response.send`), made from its plain methods: each form
takes the plain method's arguments and types (a ParamSpec) and returns the response instead.

A form calls the plain method bound to a copy of its resource whose client answers `_call` with
`_call_raw` or `_call_streamed`: the arguments, their checks and the request are the plain method's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, ParamSpec, TypeVar

from telnyx_messages_api.types import (
    APIResponse,
    AsyncAPIResponse,
    AsyncStreamedAPIResponse,
    StreamedAPIResponse,
)

P = ParamSpec("P")
R = TypeVar("R")

RAW_DOC = "Returns the parsed result together with the HTTP response."
STREAMED_DOC = (
    "Returns a context manager: entered, the response's status and headers; its body read inside the\n"
    "block (parse(), read(), iter_bytes(), ...); closed when the block ends."
)


class _Calls:
    """A client as a form's resource sees it: `_call` is another of the client's calls."""

    __slots__ = ("_call",)

    def __init__(self, call: Callable[..., Any]) -> None:
        self._call = call


class _AsyncStreamedCalls:
    """An async client whose `_call` hands back `_call_streamed`'s context without suspending, so
    that an async plain method returns it when driven by _unsuspended."""

    __slots__ = ("_client",)

    def __init__(self, client: Any) -> None:
        self._client = client

    async def _call(self, *arguments: Any) -> Any:
        return self._client._call_streamed(*arguments)


def _rebound(method: Any, client: object) -> Callable[..., Any]:
    """`method` (a bound method of a resource) bound to a new resource of its class on `client`."""
    return functools.partial(method.__func__, type(method.__self__)(client))


def _client(method: Any) -> Any:
    """The client of a bound method's resource."""
    return method.__self__._client


def _form(form: Callable[..., Any], method: Callable[..., Any], returns: tuple[Any, ...], text: str, doc: str) -> None:
    """`form` made to look like `method` (name, docstring, signature), returning the generics
    `returns`, outermost first, of the method's result type: that type stays the method's text (a
    forward reference), which typing.get_type_hints resolves in the method's module (it follows
    __wrapped__ to its globals). help() shows `text` with the method's result type in place of {}."""
    import inspect  # here: only a program using the forms pays for it

    functools.update_wrapper(form, method)
    result = method.__annotations__["return"]
    annotation = result
    for generic in reversed(returns):
        annotation = generic[annotation]
    form.__annotations__ = {**method.__annotations__, "return": annotation}
    signature = inspect.signature(method)
    form.__signature__ = signature.replace(return_annotation=text.format(result))  # type: ignore[attr-defined]
    form.__doc__ = f"{inspect.cleandoc(method.__doc__ or '')}\n\n{doc}"


def to_raw_response_wrapper(method: Callable[P, R]) -> Callable[P, APIResponse[R]]:
    """A sync resource's method, returning the APIResponse (the parsed result and the HTTP response)."""
    call = _rebound(method, _Calls(_client(method)._call_raw))

    def raw(*args: P.args, **kwargs: P.kwargs) -> APIResponse[R]:
        return call(*args, **kwargs)  # type: ignore[no-any-return]

    _form(raw, method, (APIResponse,), "APIResponse[{}]", RAW_DOC)
    return raw


def async_to_raw_response_wrapper(
    method: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, AsyncAPIResponse[R]]]:
    """An async resource's method, returning the AsyncAPIResponse."""
    call = _rebound(method, _Calls(_client(method)._call_raw))

    async def raw(*args: P.args, **kwargs: P.kwargs) -> AsyncAPIResponse[R]:
        return await call(*args, **kwargs)  # type: ignore[no-any-return]

    _form(raw, method, (AsyncAPIResponse,), "AsyncAPIResponse[{}]", RAW_DOC)
    return raw


def to_streamed_response_wrapper(
    method: Callable[P, R],
) -> Callable[P, AbstractContextManager[StreamedAPIResponse[R]]]:
    """A sync resource's method, returning a context manager that gives the response before its
    body is read."""
    call = _rebound(method, _Calls(_client(method)._call_streamed))

    def streamed(*args: P.args, **kwargs: P.kwargs) -> AbstractContextManager[StreamedAPIResponse[R]]:
        return call(*args, **kwargs)  # type: ignore[no-any-return]

    returns: tuple[Any, ...] = (AbstractContextManager, StreamedAPIResponse)
    _form(streamed, method, returns, "StreamedResponseContext[StreamedAPIResponse[{}]]", STREAMED_DOC)
    return streamed


def async_to_streamed_response_wrapper(
    method: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, AbstractAsyncContextManager[AsyncStreamedAPIResponse[R]]]:
    """An async resource's method, returning (no coroutine) the context manager `async with` enters."""
    call = _rebound(method, _AsyncStreamedCalls(_client(method)))

    def streamed(*args: P.args, **kwargs: P.kwargs) -> AbstractAsyncContextManager[AsyncStreamedAPIResponse[R]]:
        return _unsuspended(call(*args, **kwargs))

    returns: tuple[Any, ...] = (AbstractAsyncContextManager, AsyncStreamedAPIResponse)
    _form(streamed, method, returns, "AsyncStreamedResponseContext[AsyncStreamedAPIResponse[{}]]", STREAMED_DOC)
    return streamed


def _unsuspended(coroutine: Coroutine[Any, Any, R]) -> R:
    """The result of a coroutine that finishes without suspending, run here."""
    try:
        coroutine.send(None)
    except StopIteration as finished:
        return finished.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError("a streaming call suspended before returning its context")
