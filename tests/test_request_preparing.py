"""telnyx_messages._request_building.prepare, as a unit, over operations made here: the query
(the client's default query, the parameters given, extra_query over both), the path, the body
(extra_body over the arguments) and what an operation without a body refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from telnyx_messages._calls import NOT_GIVEN, CallOptions, NotGiven, Operation
from telnyx_messages._request_building import prepare


def _list(self: object, *, page: int | NotGiven = NOT_GIVEN, sort: str | NotGiven = NOT_GIVEN) -> None:
    """A method of an operation with two query parameters and no body."""


def _update(self: object, id: str, *, note: str | NotGiven = NOT_GIVEN) -> None:
    """A method of an operation with a path parameter and a body."""


LIST: Operation[Any] = Operation(
    "List", "GET", "/things", (), (("page", "page[number]"), ("sort", "sort")), (), (), False, "None", None
)
UPDATE: Operation[Any] = Operation(
    "Update", "PATCH", "/things/{thing_id}", (("id", "thing_id"),), (), (), (("note", "note"),), True, "None", None
)


def test_the_query_is_the_default_then_the_parameters_given_then_extra_query() -> None:
    given = {"page": 2, "sort": NOT_GIVEN}
    assert prepare(LIST, _list, given, CallOptions(), {"tenant": "t1"}).params == {"tenant": "t1", "page[number]": 2}
    options = CallOptions(extra_query={"sort": "desc", "tenant": "t2"})
    prepared = prepare(LIST, _list, given, options, {"tenant": "t1"})
    assert prepared.params == {"tenant": "t2", "page[number]": 2, "sort": "desc"}
    assert (prepared.method, prepared.path, prepared.content, prepared.headers) == ("GET", "/things", None, {})


def test_a_body_is_the_arguments_given_then_extra_body_as_compact_json() -> None:
    prepared = prepare(UPDATE, _update, {"id": "a/b", "note": "hé"}, CallOptions(extra_body={"x": [1]}), {})
    assert (prepared.method, prepared.path, prepared.params) == ("PATCH", "/things/a%2Fb", {})
    assert prepared.content == '{"note":"hé","x":[1]}'.encode()
    assert prepared.headers == {"Content-Type": "application/json"}
    assert json.loads(prepare(UPDATE, _update, {"id": "a", "note": NOT_GIVEN}, CallOptions(), {}).content or b"") == {}


def test_extra_body_on_an_operation_without_a_body_is_refused_naming_it() -> None:
    with pytest.raises(ValueError) as refused:
        prepare(LIST, _list, {"page": NOT_GIVEN, "sort": NOT_GIVEN}, CallOptions(extra_body={"x": 1}), {})
    assert str(refused.value) == "_list(): extra_body given, but GET /things sends no body"
