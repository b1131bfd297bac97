"""Every array parameter of every operation (body and query, from the spec) takes any sequence but a
str or bytes, as the official SDK types it (SequenceNotStr): a tuple goes out as a JSON array, and
mypy --strict and Pyright accept it while refusing a str."""

from __future__ import annotations

import typing
from collections import UserList
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from telnyx_messages import AsyncTelnyx, Telnyx

from .support import typecheck
from .support.server import LoopbackServer, Reply, use_client
from .support.spec import CASES, SPEC, OperationCase, _as_argument, call_arguments, example_of, normalised, resolve
from .support.typecheck import Checked


def _is_array(schema: dict[str, Any]) -> bool:
    types = schema.get("type")
    return "array" in (types if isinstance(types, list) else [types])


def _array_parameters(case: OperationCase) -> list[tuple[str, str, dict[str, Any]]]:
    """(where, wire name, schema) of each array parameter of the operation: its body's and query's."""
    found = []
    if case.request_schema is not None:
        for wire, schema in resolve(SPEC, case.request_schema).get("properties", {}).items():
            if _is_array(resolve(SPEC, schema)):
                found.append(("body", wire, resolve(SPEC, schema)))
    for parameter in case.query_parameters:
        if _is_array(resolve(SPEC, parameter["schema"])):
            found.append(("query", parameter["name"], resolve(SPEC, parameter["schema"])))
    return found


ARRAYS = [(case, where, wire, schema) for case in CASES for where, wire, schema in _array_parameters(case)]
IDS = [f"{case.operation_id}.{wire}" for case, _, wire, _ in ARRAYS]


def _argument(case: OperationCase, wire: str) -> str:
    return dict((w, n) for n, w in case.operation.body_parameters + case.operation.query_parameters)[wire]


def _items(schema: dict[str, Any]) -> list[Any]:
    """Two items of the array as JSON, told apart where they are text."""
    first = example_of(SPEC, schema["items"])
    return [first, first + "0" if isinstance(first, str) else example_of(SPEC, schema["items"])]


def _call(case: OperationCase, wire: str, value: Any) -> tuple[list[str], dict[str, Any]]:
    path_values, kwargs, _, _ = call_arguments(SPEC, case)
    return path_values, {**kwargs, _argument(case, wire): value}


def _hint(case: OperationCase, wire: str) -> Any:
    with Telnyx(api_key="KEY_test") as client:
        return typing.get_type_hints(case.bound(client.messages))[_argument(case, wire)]


def test_the_spec_has_array_parameters() -> None:
    assert ARRAYS


@pytest.mark.parametrize("client_class", [Telnyx, AsyncTelnyx])
@pytest.mark.parametrize(("case", "where", "wire", "schema"), ARRAYS, ids=IDS)
def test_an_array_parameter_takes_a_tuple_and_sends_a_json_array(
    case: OperationCase,
    where: str,
    wire: str,
    schema: dict[str, Any],
    client_class: type[Telnyx],
    server: LoopbackServer,
) -> None:
    server.default = Reply(200, example_of(SPEC, case.response_schema))
    items = _items(schema)
    given = tuple(_as_argument(items, _hint(case, wire)))
    assert isinstance(given, tuple) and len(given) == 2
    path_values, kwargs = _call(case, wire, given)
    use_client(client_class, server.base_url, lambda m: case.bound(m)(*path_values, **kwargs))
    (request,) = server.received
    if where == "body":
        assert normalised(request.json()[wire]) == normalised(items)
    else:
        assert parse_qs(urlsplit(request.path).query)[wire] == [str(item) for item in items]


@pytest.mark.parametrize("sequence", [UserList, list, tuple], ids=["UserList", "list", "tuple"])
def test_any_sequence_type_is_sent_as_a_json_array(sequence: Any, server: LoopbackServer) -> None:
    case, _, wire, schema = next(array for array in ARRAYS if array[1] == "body")
    server.default = Reply(200, example_of(SPEC, case.response_schema))
    items = _items(schema)
    path_values, kwargs = _call(case, wire, sequence(_as_argument(items, _hint(case, wire))))
    use_client(Telnyx, server.base_url, lambda m: case.bound(m)(*path_values, **kwargs))
    assert normalised(server.received[0].json()[wire]) == normalised(items)


@pytest.mark.parametrize(
    "given",
    ["+13125550002", b"+13125550002", bytearray(b"+1"), {"+13125550002"}],
    ids=["str", "bytes", "bytearray", "set"],
)
@pytest.mark.parametrize(("case", "where", "wire", "schema"), ARRAYS, ids=IDS)
def test_an_array_parameter_refuses_a_str_or_bytes(
    case: OperationCase, where: str, wire: str, schema: dict[str, Any], given: Any, server: LoopbackServer
) -> None:
    path_values, kwargs = _call(case, wire, given)
    name = case.method_path.split(".")[-1]
    with pytest.raises(TypeError) as refused:
        use_client(Telnyx, server.base_url, lambda m: case.bound(m)(*path_values, **kwargs))
    message = str(refused.value)
    assert message.startswith(f"{name}(): {_argument(case, wire)} must be a list or tuple of ")
    assert message.endswith(f", got {type(given).__name__}") and "\n" not in message
    assert server.received == []


def _program() -> tuple[str, int]:
    """A program calling every array parameter of every operation with a tuple, then one with a str
    (its line returned: the one error a type checker must report)."""
    lines = [
        "from telnyx_messages import Telnyx",
        "from telnyx_messages.types import SequenceNotStr",
        "",
        'client = Telnyx(api_key="KEY_test")',
        'recipients: SequenceNotStr[str] = ("+13125550002", "+13125550003")',
    ]
    for case, _, wire, schema in ARRAYS:
        path_values, kwargs = _call(case, wire, tuple(_as_argument(_items(schema), _hint(case, wire))))
        arguments = [repr(value) for value in path_values] + [f"{k}={v!r}" for k, v in kwargs.items()]
        lines.append(f"client.messages.{case.method_path}({', '.join(arguments)})")
    case, _, wire, _ = ARRAYS[0]
    path_values, kwargs = _call(case, wire, "+13125550002")
    arguments = [repr(value) for value in path_values] + [f"{k}={v!r}" for k, v in kwargs.items()]
    lines.append(f"client.messages.{case.method_path}({', '.join(arguments)})")
    return "\n".join(lines) + "\n", len(lines)


ARRAY_PROGRAM, WRONG_LINE = _program()
ARRAYS_TYPED = typecheck.program("array_arguments", ARRAY_PROGRAM)


def test_tuples_type_check_under_mypy_strict_and_a_str_does_not(type_checked: Checked) -> None:
    errors = [line.split(": error: ")[0] for line in type_checked.errors(ARRAYS_TYPED)]
    assert errors == [f"{ARRAYS_TYPED}.py:{WRONG_LINE}"], type_checked.report(ARRAYS_TYPED)
    assert 'incompatible type "str"; expected "SequenceNotStr[str]' in type_checked.report(ARRAYS_TYPED)


def test_tuples_type_check_under_pyright_and_a_str_does_not(pyright_checked: Checked) -> None:
    errors = [line.split(": error: ")[0] for line in pyright_checked.errors(ARRAYS_TYPED)]
    assert errors == [f"{ARRAYS_TYPED}.py:{WRONG_LINE}"], pyright_checked.report(ARRAYS_TYPED)
