"""The errors for a value too short or too long say "1 character" and "2 characters": the count and
its noun agree, wherever such a message is built before sending."""

from __future__ import annotations

from typing import Any

import pytest
from telnyx_messages import NOT_GIVEN, NotGiven, Telnyx
from telnyx_messages._api.types import CallOptions, HeaderParameter, Operation
from telnyx_messages._request_building import prepare

from .support.server import LoopbackServer, use_client
from .support.spec import CASES, SPEC, OperationCase, call_arguments


def _one_header(self: object, *, x_source: str | NotGiven = NOT_GIVEN) -> None:
    """A method of an operation that declares one header with lengths (as a later spec may)."""


def _send(value: str, min_length: int, max_length: int) -> dict[str, str]:
    header = HeaderParameter("x_source", "X-Source", None, min_length, max_length)
    operation: Operation[Any] = Operation("One", "POST", "/one", (), (), (header,), (), False, None, None)  # type: ignore[arg-type]
    return prepare(operation, _one_header, {"x_source": value}, CallOptions(), {}).headers


@pytest.mark.parametrize(
    ("value", "least", "most", "message"),
    [
        ("", 1, 1, "_one_header(): x_source must be at least 1 character, got 0"),
        ("ab", 1, 1, "_one_header(): x_source must be at most 1 character, got 2"),
        ("a", 2, 3, "_one_header(): x_source must be at least 2 characters, got 1"),
        ("abcd", 2, 3, "_one_header(): x_source must be at most 3 characters, got 4"),
        ("a" * 1001, 0, 1000, "_one_header(): x_source must be at most 1,000 characters, got 1001"),
    ],
)
def test_a_length_error_agrees_in_number(value: str, least: int, most: int, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        _send(value, least, most)
    assert str(refused.value) == message


def test_a_value_within_its_lengths_is_sent() -> None:
    assert _send("a", 1, 1) == {"X-Source": "a"} and _send("abc", 2, 3) == {"X-Source": "abc"}


MINIMA = [(case, parameter) for case in CASES for parameter in case.operation.header_parameters if parameter.min_length]


@pytest.mark.parametrize(("case", "parameter"), MINIMA, ids=[f"{c.operation_id}.{p.argument}" for c, p in MINIMA])
def test_an_empty_header_argument_is_refused_in_agreeing_words(
    case: OperationCase, parameter: HeaderParameter, server: LoopbackServer
) -> None:
    name = case.method_path.split(".")[-1]
    noun = "character" if parameter.min_length == 1 else "characters"
    path_values, kwargs, _, _ = call_arguments(SPEC, case)
    kwargs[parameter.argument] = ""
    with pytest.raises(ValueError) as refused:
        use_client(Telnyx, server.base_url, lambda m: case.bound(m)(*path_values, **kwargs))
    assert str(refused.value) == f"{name}(): {parameter.argument} must be at least {parameter.min_length} {noun}, got 0"
    assert server.received == []
