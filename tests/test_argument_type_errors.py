"""What the client says of an argument of the wrong type, for each kind of type hint it checks: the
argument, what it must be, and the type of the value it got. Unit tests of _encode on a hint alone
(today's templates put None, UUID and enums inside unions, which describe themselves; a field typed by
one alone would show these messages)."""

from __future__ import annotations

import enum
from typing import Any

import pytest
from telnyx_messages._api.types import UUID  # the hint the generated signatures name
from telnyx_messages._request_building import _encode, _Mismatch


class Orientation(enum.Enum):
    HORIZONTAL = "HORIZONTAL"


@pytest.mark.parametrize(
    ("hint", "value", "message"),
    [
        (type(None), 5, "card must be None, got int"),
        (UUID, "6a09cdc3-8948-47f0-aa62-74ac943d6c58", "card must be a UUID, got str"),
        (Orientation, "HORIZONTAL", "card must be Orientation, got str"),
    ],
    ids=["None", "UUID", "enum"],
)
def test_a_value_of_another_type_is_named_by_its_type(hint: Any, value: Any, message: str) -> None:
    with pytest.raises(_Mismatch) as caught:
        _encode(value, hint, "card")
    assert caught.value.message == message and not caught.value.wrong_value
