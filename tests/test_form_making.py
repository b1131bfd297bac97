"""telnyx_messages._response_forms, made afresh: each decorator applied here, in the test, to a plain
method of a class of this module (the generated forms are made at import, before any test runs), and
the clients the forms' resources see (raw_calls, streamed_calls and their async twins)."""

from __future__ import annotations

import inspect
import typing
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any

import pytest
from telnyx_messages._response import APIResponse, AsyncAPIResponse, AsyncStreamedAPIResponse, StreamedAPIResponse
from telnyx_messages._response_forms import (
    RAW_DOC,
    STREAMED_DOC,
    async_raw_calls,
    async_raw_form,
    async_streamed_calls,
    async_streamed_form,
    raw_calls,
    raw_form,
    streamed_calls,
    streamed_form,
)


class Greeting:
    """A result type of this module (a forward reference in the annotations below)."""


class Plain:
    def send(self, to: str, *, text: str | None = None, count: int = 1) -> Greeting:
        """Sends a greeting.

        Indented the way a docstring is."""
        raise AssertionError("never called here")

    async def asend(self, to: str, *, text: str | None = None) -> Greeting:
        raise AssertionError("never called here")


def _form(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("never called here")


FORMS = [
    (raw_form, Plain.send, [APIResponse], "APIResponse[Greeting]", RAW_DOC),
    (async_raw_form, Plain.asend, [AsyncAPIResponse], "AsyncAPIResponse[Greeting]", RAW_DOC),
    (
        streamed_form,
        Plain.send,
        [AbstractContextManager, StreamedAPIResponse],
        "StreamedResponseContext[StreamedAPIResponse[Greeting]]",
        STREAMED_DOC,
    ),
    (
        async_streamed_form,
        Plain.asend,
        [AbstractAsyncContextManager, AsyncStreamedAPIResponse],
        "AsyncStreamedResponseContext[AsyncStreamedAPIResponse[Greeting]]",
        STREAMED_DOC,
    ),
]


@pytest.mark.parametrize(("decorator", "method", "generics", "text", "doc"), FORMS, ids=[f[0].__name__ for f in FORMS])
def test_a_form_made_of_a_method_has_its_name_parameters_docstring_and_wrapped_result_type(
    decorator: Any, method: Any, generics: list[Any], text: str, doc: str
) -> None:
    def form(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("never called here")

    made = decorator(method)(form)
    assert made is form
    assert (form.__name__, form.__qualname__, form.__module__) == (
        method.__name__,
        method.__qualname__,
        method.__module__,
    )
    assert form.__wrapped__ is method
    # The annotations: the method's, but the result wrapped in the form's generics, outermost first.
    assert {**form.__annotations__, "return": None} == {**method.__annotations__, "return": None}
    hint = typing.get_type_hints(form)["return"]
    for generic in generics:
        assert typing.get_origin(hint) is generic
        (hint,) = typing.get_args(hint)
    assert hint is Greeting
    # The signature help() shows: the method's without self, and the result as text.
    signature = inspect.signature(form)
    assert list(signature.parameters) == [n for n in inspect.signature(method).parameters if n != "self"]
    assert signature.return_annotation == text
    assert form.__doc__ == f"{inspect.cleandoc(method.__doc__ or '')}\n\n{doc}"


def test_a_form_of_a_method_without_a_docstring_has_the_forms_words_alone() -> None:
    raw_form(Plain.asend)(_form)
    assert _form.__doc__ == f"\n\n{RAW_DOC}"


class Recorder:
    """A client's calls, recorded: what the resources on the forms' clients call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def _call(self, *arguments: Any) -> str:
        self.calls.append(("_call", arguments))
        return "plain"

    def _call_raw(self, *arguments: Any) -> str:
        self.calls.append(("_call_raw", arguments))
        return "raw"

    def _call_streamed(self, *arguments: Any) -> str:
        self.calls.append(("_call_streamed", arguments))
        return "streamed"


def test_the_forms_clients_answer_call_with_the_raw_or_streamed_call() -> None:
    for make, answer in [(raw_calls, "raw"), (streamed_calls, "streamed"), (async_raw_calls, "raw")]:
        client = Recorder()
        made: Any = make(client)  # type: ignore[operator]  # a client as far as the forms go
        assert made._call(1, 2, 3, 4) == answer
        assert client.calls == [(f"_call_{answer}", (1, 2, 3, 4))]


def test_the_async_streamed_client_hands_back_the_context_without_suspending() -> None:
    client = Recorder()
    made: Any = async_streamed_calls(client)  # type: ignore[arg-type]  # a client as far as the forms go
    coroutine = made._call(1, 2, 3, 4)
    with pytest.raises(StopIteration) as finished:
        coroutine.send(None)
    assert finished.value.value == "streamed"
    assert client.calls == [("_call_streamed", (1, 2, 3, 4))]
