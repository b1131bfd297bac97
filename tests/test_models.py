"""The generated models: one subscripting rule, unknown fields kept, docstrings naming the annotated
types, and an answer the spec gives no model returned as the document."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from telnyx_messages import (
    Telnyx,
)
from telnyx_messages._api import models as generated_models

from .support.spec import message_example


def test_an_operation_whose_answer_the_spec_gives_no_model_returns_the_document() -> None:
    """Unit: a later spec may answer an operation with no schema; the generated Operation then has
    no result model, and the client returns the decoded JSON as it is."""
    from telnyx_messages._api.types import Operation

    operation: Operation[Any] = Operation("Untyped", "GET", "/untyped", (), (), (), (), False, None, None)  # type: ignore[arg-type]
    response = httpx2.Response(200, content=b'{"data": {"n": 1}}', request=httpx2.Request("GET", "http://127.0.0.1/"))
    assert Telnyx._parse(operation, response) == {"data": {"n": 1}}


def test_a_model_is_not_subscriptable_and_unknown_fields_are_in_additional_properties() -> None:
    document = {**message_example(), "not_in_the_spec": 1}
    message = generated_models.OutboundMessagePayload.from_dict(document)
    assert message.id == document["id"] and message.additional_properties == {"not_in_the_spec": 1}
    with pytest.raises(TypeError):
        message["id"]  # type: ignore[index]
    with pytest.raises(TypeError):
        _ = "id" in message  # type: ignore[operator]


def test_model_docstrings_match_the_annotations() -> None:
    import inspect
    import re

    checked = 0
    for name in generated_models.__all__:
        model = getattr(generated_models, name)
        if not hasattr(model, "_fields_"):
            continue
        doc = inspect.getdoc(model) or ""
        assert "Unset" not in doc, name
        for attribute, annotation in re.findall(r"^\s*(\w+) \(([^)]*)\):", doc.partition("Attributes:")[2], re.M):
            if attribute in model.__annotations__:
                assert annotation == model.__annotations__[attribute], (name, attribute)
                checked += 1
    assert checked > 50
