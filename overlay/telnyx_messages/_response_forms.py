"""The raw-response and streaming-response forms of a resource's methods (`client.messages.
with_raw_response.send`, `.with_streaming_response.send`), made from its plain methods.

A form is a function that calls the plain method on a resource whose client answers `_call` with
`_call_raw` or `_call_streamed` (`raw_calls`, `streamed_calls`): the arguments, their checks and the
request are the plain method's. The generated form classes write each form as such a function,
`def send(*args, **kwargs): return _plain_send(resource, *args, **kwargs)` (`_plain_send` being
`Messages.send`), decorated by `raw_form(_plain_send)` (or `streamed_form`, and the async twins),
which gives it the plain method's parameters (a ParamSpec, for type checkers) and its name,
signature and docstring (for help()). Editors built on Jedi read the parameters from the forwarding
call (templates/api_init.py.jinja says why it calls a local name).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from ._calls import AsyncCaller, SyncCaller
from ._response import APIResponse, AsyncAPIResponse, AsyncStreamedAPIResponse, StreamedAPIResponse

P = ParamSpec("P")
R = TypeVar("R")

RAW_DOC = "Returns the parsed result together with the HTTP response."
STREAMED_DOC = (
    "Returns a context manager: entered, the response's status and headers; its body read inside the\n"
    "block (parse(), read(), iter_bytes(), ...); closed when the block ends."
)

# What a decorator of this module is handed: the function it makes a form of.
Form = Callable[..., Any]


class _Calls:
    """A client as a form's resource sees it: `_call` is another of the client's calls."""

    __slots__ = ("_call",)

    def __init__(self, call: Callable[..., Any]) -> None:
        self._call = call


class _AsyncStreamedCalls:
    """An async client whose `_call` hands back `_call_streamed`'s context without suspending, so
    that an async plain method returns it when driven by _unsuspended."""

    __slots__ = ("_client",)

    def __init__(self, client: AsyncCaller) -> None:
        self._client = client

    async def _call(self, *arguments: Any) -> Any:
        return self._client._call_streamed(*arguments)


def raw_calls(client: SyncCaller) -> SyncCaller:
    """`client`, its `_call` answered by `_call_raw`: a resource on it returns the APIResponse."""
    return cast(SyncCaller, _Calls(client._call_raw))


def streamed_calls(client: SyncCaller) -> SyncCaller:
    """`client`, its `_call` answered by `_call_streamed`: a resource on it returns the context."""
    return cast(SyncCaller, _Calls(client._call_streamed))


def async_raw_calls(client: AsyncCaller) -> AsyncCaller:
    """`client`, its `_call` answered by `_call_raw`: a resource on it returns the AsyncAPIResponse."""
    return cast(AsyncCaller, _Calls(client._call_raw))


def async_streamed_calls(client: AsyncCaller) -> AsyncCaller:
    """`client`, its `_call` answering `_call_streamed`'s context: a resource's method on it, driven
    by `_unsuspended`, returns the context."""
    return cast(AsyncCaller, _AsyncStreamedCalls(client))


def _form(form: Callable[..., Any], method: Callable[..., Any], returns: tuple[Any, ...], text: str, doc: str) -> None:
    """`form` made to look like `method`, a resource's plain method taken from its class (name,
    docstring, signature without `self`), returning the generics `returns`, outermost first, of the
    method's result type: that type stays the method's text (a forward reference), which
    typing.get_type_hints resolves in the method's module (it follows __wrapped__ to its globals).
    help() shows `text` with the method's result type in place of {}."""
    import inspect  # here: only a program using the forms pays for it

    functools.update_wrapper(form, method)
    result = method.__annotations__["return"]
    annotation = result
    for generic in reversed(returns):
        annotation = generic[annotation]
    form.__annotations__ = {**method.__annotations__, "return": annotation}
    signature = inspect.signature(method)
    _, *parameters = signature.parameters.values()
    form.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=parameters, return_annotation=text.format(result)
    )
    form.__doc__ = f"{inspect.cleandoc(method.__doc__ or '')}\n\n{doc}"


def raw_form(method: Callable[Concatenate[Any, P], R]) -> Callable[[Form], Callable[P, APIResponse[R]]]:
    """The raw form of a sync resource's `method`, made of the function decorated: it returns the
    APIResponse (the parsed result and the HTTP response)."""

    def made(form: Form) -> Callable[P, APIResponse[R]]:
        _form(form, method, (APIResponse,), "APIResponse[{}]", RAW_DOC)
        return form

    return made


def async_raw_form(
    method: Callable[Concatenate[Any, P], Coroutine[Any, Any, R]],
) -> Callable[[Form], Callable[P, Coroutine[Any, Any, AsyncAPIResponse[R]]]]:
    """The raw form of an async resource's `method` (a coroutine function): it returns the
    AsyncAPIResponse."""

    def made(form: Form) -> Callable[P, Coroutine[Any, Any, AsyncAPIResponse[R]]]:
        _form(form, method, (AsyncAPIResponse,), "AsyncAPIResponse[{}]", RAW_DOC)
        return form

    return made


def streamed_form(
    method: Callable[Concatenate[Any, P], R],
) -> Callable[[Form], Callable[P, AbstractContextManager[StreamedAPIResponse[R]]]]:
    """The streaming form of a sync resource's `method`: it returns a context manager that gives
    the response before its body is read."""

    def made(form: Form) -> Callable[P, AbstractContextManager[StreamedAPIResponse[R]]]:
        returns: tuple[Any, ...] = (AbstractContextManager, StreamedAPIResponse)
        _form(form, method, returns, "StreamedResponseContext[StreamedAPIResponse[{}]]", STREAMED_DOC)
        return form

    return made


def async_streamed_form(
    method: Callable[Concatenate[Any, P], Coroutine[Any, Any, R]],
) -> Callable[[Form], Callable[P, AbstractAsyncContextManager[AsyncStreamedAPIResponse[R]]]]:
    """The streaming form of an async resource's `method`: it returns (no coroutine) the context
    manager `async with` enters."""

    def made(form: Form) -> Callable[P, AbstractAsyncContextManager[AsyncStreamedAPIResponse[R]]]:
        returns: tuple[Any, ...] = (AbstractAsyncContextManager, AsyncStreamedAPIResponse)
        text = "AsyncStreamedResponseContext[AsyncStreamedAPIResponse[{}]]"
        _form(form, method, returns, text, STREAMED_DOC)
        return form

    return made


def _unsuspended(coroutine: Coroutine[Any, Any, R]) -> R:
    """The result of a coroutine that finishes without suspending, run here."""
    try:
        coroutine.send(None)
    except StopIteration as finished:
        return finished.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError("a streaming call suspended before returning its context")
