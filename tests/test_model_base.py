"""What every model inherits from telnyx_messages._models.Model (the dumps with their options, equality,
repr, the fields set, the unknown fields), and the request TypedDicts built on first use (lazy_params)."""

from __future__ import annotations

import datetime
import io
import json
import typing
from typing import Any

import pytest
from telnyx_messages._api import models as generated_models
from telnyx_messages._models import (
    EVERY_NAME,
    UNSET,
    File,
    Model,
    ParamDraft,
    SpecStrEnum,
    Unset,
    lazy_params,
    unexpected,
    unknown_fields,
    uuid_text,
    wire_fields,
)

from .support.spec import message_example


def _message(**changes: Any) -> Any:
    return generated_models.OutboundMessagePayload.from_dict({**message_example(), **changes})


def _attribute_names(model: Any) -> list[str]:
    return [name for name, _ in type(model)._fields_]


def test_to_dict_writes_the_document_back_and_honours_its_options() -> None:
    document = {**message_example(), "received_at": "2019-01-23T18:10:02.574Z", "cost": None}
    message = generated_models.OutboundMessagePayload.from_dict(document)
    assert message.to_dict(mode="json") == document
    python = message.to_dict()
    assert python.keys() == document.keys() and isinstance(python["received_at"], datetime.datetime)
    assert "from" in python and "from_" in message.to_dict(use_api_names=False)
    assert "cost" not in message.to_dict(mode="json", exclude_none=True)
    every = message.to_dict(exclude_unset=False, use_api_names=False)
    assert list(every) == _attribute_names(message)


def test_to_json_is_to_dicts_json_text_indented_or_compact() -> None:
    message = _message(not_in_the_spec=1)
    assert json.loads(message.to_json()) == message.to_dict(mode="json")
    assert "\n  " in message.to_json() and "\n" not in message.to_json(indent=None)
    assert "text" not in json.loads(_message(text=None).to_json(exclude_none=True))
    assert "from_" in json.loads(message.to_json(use_api_names=False))
    assert json.loads(message.to_json(exclude_unset=False)).keys() >= {"from", "not_in_the_spec"}


def test_model_dump_is_by_attribute_name_every_field_unless_asked_otherwise() -> None:
    message = _message(received_at="2019-01-23T18:10:02.574Z", not_in_the_spec=1)
    dumped = message.model_dump()
    assert list(dumped) == [*_attribute_names(message), "not_in_the_spec"]
    assert isinstance(dumped["received_at"], datetime.datetime)
    assert message.model_dump(mode="json")["received_at"] == "2019-01-23T18:10:02.574Z"
    assert "from" in message.model_dump(by_alias=True) and "from_" not in message.model_dump(by_alias=True)
    assert set(message.model_dump(exclude_unset=True)) == {*message.model_fields_set, "not_in_the_spec"}
    assert None not in message.model_dump(exclude_none=True).values()
    text = message.model_dump_json()
    assert json.loads(text) == message.model_dump(mode="json") and "\n" not in text
    assert "\n  " in message.model_dump_json(indent=2)
    assert "from" in json.loads(message.model_dump_json(by_alias=True))
    assert set(json.loads(message.model_dump_json(exclude_unset=True))) == set(message.model_dump(exclude_unset=True))
    assert None not in json.loads(message.model_dump_json(exclude_none=True)).values()


def test_models_are_equal_by_value_and_not_hashable() -> None:
    assert _message() == _message()
    assert _message() != _message(text="another")
    assert _message() != _message(not_in_the_spec=1)
    assert _message() != generated_models.OutboundMessagePayloadTo()
    assert _message().__eq__(object()) is NotImplemented
    made = generated_models.OutboundMessagePayloadTo(carrier="c")
    assert made == generated_models.OutboundMessagePayloadTo(carrier="c")
    with pytest.raises(TypeError):
        hash(made)


def test_repr_shows_the_fields_set_and_the_unknown_ones() -> None:
    made = generated_models.OutboundMessagePayloadTo(carrier="c")
    assert repr(made) == "OutboundMessagePayloadTo(carrier='c')"
    made.additional_properties["x"] = 1
    assert repr(made) == "OutboundMessagePayloadTo(carrier='c', additional_properties={'x': 1})"
    assert repr(generated_models.OutboundMessagePayloadTo.from_dict({"x": 1})) == (
        "OutboundMessagePayloadTo(additional_properties={'x': 1})"
    )


def test_model_fields_set_is_what_the_document_held_or_what_code_set() -> None:
    document = message_example()
    message = generated_models.OutboundMessagePayload.from_dict({**document, "cost": None})
    wire = dict(generated_models.OutboundMessagePayload._fields_)
    assert {wire[name] for name in message.model_fields_set} == set(document) | {"cost"}
    assert generated_models.OutboundMessagePayloadTo(carrier="c", status=None).model_fields_set == {"carrier"}


def test_request_id_is_none_but_for_a_calls_result() -> None:
    message = _message()
    assert message._request_id is None
    message._x_request_id = "req-1"
    assert message._request_id == "req-1"


def test_additional_properties_are_read_set_and_listed() -> None:
    made = generated_models.OutboundMessagePayloadTo()
    assert made.additional_properties == {} and made.additional_keys == []
    made.additional_properties = {"a": 1, "b": 2}
    assert made.additional_keys == ["a", "b"] and made.to_dict()["a"] == 1
    assert _message(not_in_the_spec=1).additional_keys == ["not_in_the_spec"]


def test_the_base_writes_no_document_of_its_own() -> None:
    with pytest.raises(NotImplementedError):
        Model()._document()


def _drafts() -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "drafts", "ParamDraft": ParamDraft}

    class _ThingRequiredParam(ParamDraft):
        name: str

    class ThingParam(_ThingRequiredParam, total=False):
        """A thing."""

        size: int

    ThingParam.__wire_names__ = {"size": "size"}  # type: ignore[attr-defined]
    namespace.update(_ThingRequiredParam=_ThingRequiredParam, ThingParam=ThingParam, other=1)
    return namespace


def test_lazy_params_builds_a_drafts_typeddict_on_first_use_with_its_base() -> None:
    namespace = _drafts()
    getattr_ = lazy_params(namespace)
    assert "ThingParam" not in namespace and "_ThingRequiredParam" not in namespace
    assert namespace["other"] == 1 and namespace["ParamDraft"] is ParamDraft
    built = getattr_("ThingParam")
    assert typing.is_typeddict(built) and namespace["ThingParam"] is built
    assert built.__required_keys__ == {"name"} and built.__optional_keys__ == {"size"}
    assert built.__doc__ == "A thing." and built.__wire_names__ == {"size": "size"}
    assert typing.is_typeddict(namespace["_ThingRequiredParam"])
    assert getattr_("ThingParam") is built and getattr_("_ThingRequiredParam") is namespace["_ThingRequiredParam"]
    with pytest.raises(AttributeError, match=r"^module 'drafts' has no attribute 'other'$"):
        getattr_("other")


def test_a_models_request_typeddict_reads_its_annotations_in_its_module() -> None:
    hints = typing.get_type_hints(generated_models.OutboundMessagePayloadParam)
    assert "from_" in hints and "text" in hints


def test_wire_fields_pairs_each_attribute_with_its_wire_name_its_own_unless_given() -> None:
    assert wire_fields(("to", "from_", "text"), from_="from") == (("to", "to"), ("from_", "from"), ("text", "text"))
    assert wire_fields(()) == ()
    assert generated_models.OutboundMessagePayload._fields_[:1] == (("cc", "cc"),)
    assert ("from_", "from") in generated_models.OutboundMessagePayload._fields_


def test_unexpected_refuses_the_value_naming_the_property_and_the_type() -> None:
    with pytest.raises(TypeError, match=r"^completed_at: unexpected int$"):
        unexpected("completed_at", 3)
    with pytest.raises(TypeError, match=r"^completed_at: unexpected int$"):
        _message(completed_at=3)


def test_unknown_fields_are_the_unnamed_and_the_refused_nulls_or_none() -> None:
    names, refusing = frozenset({"a", "b", "c"}), frozenset({"a"})
    assert unknown_fields({"a": 1, "b": None, "c": 2}, names, refusing) is None
    assert unknown_fields({}, names, refusing) is None
    assert unknown_fields({"a": None, "b": None, "d": 0}, names, refusing) == {"a": None, "d": 0}


def test_every_name_holds_any_name() -> None:
    assert "anything" in EVERY_NAME and "" in EVERY_NAME and None in EVERY_NAME  # type: ignore[comparison-overlap]


def test_a_refused_null_is_kept_and_written_back_and_an_absent_field_is_not() -> None:
    document = message_example()
    refused = {**document, "text": None}
    message = generated_models.OutboundMessagePayload.from_dict(refused)
    assert message.text is None and message.additional_properties == {"text": None}
    assert message.to_dict(mode="json") == refused
    absent = {key: value for key, value in document.items() if key != "text"}
    message = generated_models.OutboundMessagePayload.from_dict(absent)
    assert message.text is None and message._additional_properties is None
    assert message.to_dict(mode="json") == absent


def test_a_models_document_keeps_the_nulls_it_read_and_leaves_out_the_nones_set_in_code() -> None:
    document = {**message_example(), "completed_at": None, "subject": None}
    message = generated_models.OutboundMessagePayload.from_dict(document)
    assert message.to_dict(mode="json") == document
    made = generated_models.OutboundMessagePayloadTo(phone_number="+13125550001", carrier=None)
    assert made.to_dict(mode="json") == {"phone_number": "+13125550001"}


class _Colour(SpecStrEnum):
    RED = "red"


def test_a_spec_enum_reads_as_its_value_and_keeps_a_value_the_spec_does_not_list() -> None:
    assert str(_Colour.RED) == "red" and repr(_Colour.RED) == "'red'" and _Colour.RED.is_known
    blue = _Colour("blue")
    assert blue == "blue" and blue.value == "blue" and blue.name == "UNKNOWN" and not blue.is_known
    assert str(blue) == "blue" and repr(blue) == "'blue'"
    with pytest.raises(ValueError, match="3 is not a valid _Colour"):
        _Colour(3)


def test_a_nested_model_is_dumped_with_its_holders_options() -> None:
    """model_dump/to_dict of a result dump the models it holds (in fields, lists, and unnamed
    fields' dicts) with the same options: aliases, JSON mode, unset and None fields."""
    document = {key: value for key, value in message_example().items() if key != "subject"}
    document = {**document, "completed_at": None, "received_at": "2019-01-23T18:10:02.574Z"}
    result = generated_models.MessageRetrieveResponse.from_dict({"data": document})
    assert result.data is not None
    for options in (
        {"mode": "json", "by_alias": True},
        {"mode": "python", "by_alias": False, "exclude_unset": True},
        {"mode": "json", "by_alias": True, "exclude_none": True},
        {"mode": "json", "by_alias": False, "exclude_unset": True, "exclude_none": True},
    ):
        assert result.model_dump(**options)["data"] == result.data.model_dump(**options)  # type: ignore[arg-type]
    dumped = result.model_dump(mode="json", by_alias=True, exclude_unset=True)["data"]
    assert dumped["from"] == document["from"] and dumped["received_at"] == "2019-01-23T18:10:02.574Z"
    assert "subject" not in dumped and dumped["completed_at"] is None
    assert dumped["to"] == document["to"] and result.to_dict(mode="json") == {"data": document}
    assert "completed_at" not in result.model_dump(mode="json", exclude_none=True)["data"]


def test_unnamed_fields_are_dumped_nested_and_their_nulls_kept_unless_excluded() -> None:
    message = _message(extra={"at": [{"n": 1}], "none": None}, gone=None)
    dumped = message.model_dump(mode="json")
    assert dumped["extra"] == {"at": [{"n": 1}], "none": None} and dumped["gone"] is None
    assert "gone" not in message.model_dump(exclude_none=True)


def test_exclude_unset_skips_each_unset_field_and_keeps_the_later_set_ones() -> None:
    document = {key: value for key, value in message_example().items() if key != "cc"}
    message = generated_models.OutboundMessagePayload.from_dict(document)
    assert _attribute_names(message)[0] == "cc"  # the first field is the unset one
    assert message.model_dump(mode="json", by_alias=True, exclude_unset=True) == document
    assert message.to_dict(mode="json", exclude_unset=False)["cc"] is None


def test_to_json_indents_by_two_and_writes_unset_fields_when_asked() -> None:
    message = generated_models.OutboundMessagePayload.from_dict(
        {key: value for key, value in message_example().items() if key != "subject"}
    )
    assert message.to_json().startswith('{\n  "')
    assert json.loads(message.to_json(exclude_unset=False))["subject"] is None
    assert "subject" not in json.loads(message.to_json())


def test_repr_separates_the_fields_it_shows_by_a_comma() -> None:
    made = generated_models.OutboundMessagePayloadTo(phone_number="+13125550001", carrier="Telnyx")
    assert repr(made) == "OutboundMessagePayloadTo(carrier='Telnyx', phone_number='+13125550001')"


def test_uuid_text_keeps_text_and_refuses_anything_else_naming_its_type() -> None:
    assert uuid_text("40385f64-5717-4562-b3fc-2c963f66afa6") == "40385f64-5717-4562-b3fc-2c963f66afa6"
    with pytest.raises(TypeError, match=r"^expected a UUID's text, got int$"):
        uuid_text(3)


def test_a_file_is_its_name_content_and_type_and_unset_is_false() -> None:
    payload = io.BytesIO(b"x")
    assert File(payload, "a.txt", "text/plain").to_tuple() == ("a.txt", payload, "text/plain")
    assert File(payload).to_tuple() == (None, payload, None)
    assert bool(UNSET) is False and not Unset()


def test_exclude_none_skips_each_null_field_and_keeps_the_later_ones() -> None:
    document = {**message_example(), "cc": None}  # the first field null, those after it not
    message = generated_models.OutboundMessagePayload.from_dict(document)
    assert _attribute_names(message)[0] == "cc"
    dumped = message.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert set(dumped) == {key for key, value in document.items() if value is not None}
    assert dumped["id"] == document["id"] and "cc" not in dumped
