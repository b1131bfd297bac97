"""What every generated model shares: the unset marker, the helpers its from_dict calls, the dump
behind to_dict/model_dump, file uploads, and the argument types the signatures name (UUID,
IsoDateTime, SequenceNotStr)."""

from __future__ import annotations

import datetime
import json
import sys
import types
from collections.abc import Callable, Collection, Container, Iterator, Mapping, Sequence
from enum import Enum, StrEnum
from typing import (
    IO,
    TYPE_CHECKING,
    Annotated,
    Any,
    BinaryIO,
    ClassVar,
    Literal,
    NoReturn,
    Protocol,
    Self,
    SupportsIndex,
    TypedDict,
    TypeVar,
    overload,
)

from telnyx_messages._datetime import DateTimeText, datetime_text


class Unset:
    def __bool__(self) -> Literal[False]:
        return False


UNSET: Unset = Unset()

# A model's from_dict makes its instance with this, and sets every field itself.
new_model = object.__new__


if TYPE_CHECKING:
    from uuid import UUID
else:

    class _UUIDType(type):
        def __instancecheck__(cls, instance: object) -> bool:
            # Only a program that has imported uuid can hold a uuid.UUID.
            uuid = sys.modules.get("uuid")
            return uuid is not None and isinstance(instance, uuid.UUID)

    class UUID(metaclass=_UUIDType):
        """uuid.UUID, as the signatures name it, without importing uuid: on Linux that imports
        `platform`, several milliseconds of every program's start, for callers that pass text.
        Type checkers see uuid.UUID itself; at run time a uuid.UUID is an instance of this, and
        calling it makes one (importing uuid then)."""

        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            import uuid

            return uuid.UUID(*args, **kwargs)


def uuid_text(value: Any) -> str:
    """A `format: uuid` value as the text the server sent; a value that is not text is refused
    (the response does not parse), as a UUID parse would refuse it."""
    if value.__class__ is str:
        text: str = value
        return text
    raise TypeError(f"expected a UUID's text, got {type(value).__name__}")


def absent_names(
    src_dict: Mapping[str, Any], names: frozenset[str], all_known: bool, last: list[frozenset[str]]
) -> frozenset[str]:
    """The names among `names` that `src_dict` lacks. The documents one model reads tend to lack the
    same few, so the answer `last` holds is tried before a new one is made (and kept there): it is
    right when every key of `src_dict` is among `names`, as many as the answer leaves, and none of
    its own."""
    previous = last[0]
    if all_known and len(src_dict) + len(previous) == len(names) and src_dict.keys().isdisjoint(previous):
        return previous
    absent = last[0] = names.difference(src_dict)
    return absent


def unexpected(name: str, value: object) -> NoReturn:
    """Refuses a value of a type the property does not take, naming the property."""
    raise TypeError(f"{name}: unexpected {type(value).__name__}")


def unknown_fields(
    src_dict: Mapping[str, Any], property_names: frozenset[str], refusing_null: frozenset[str]
) -> dict[str, Any] | None:
    """What a model keeps in additional_properties: the fields its schema does not name, and the
    nulls it does not allow (those properties read as unset); None if there are none."""
    kept = {
        name: value
        for name, value in src_dict.items()
        if name not in property_names or (value is None and name in refusing_null)
    }
    return kept or None


def wire_fields(attributes: tuple[str, ...], **wire_names: str) -> tuple[tuple[str, str], ...]:
    """A model's `_fields_`: each attribute with its name on the wire, its own unless `wire_names`
    gives one (a Python keyword's attribute has a trailing underscore: from_="from")."""
    return tuple((name, wire_names.get(name, name)) for name in attributes)


class _EveryName:
    """Holds every name: _document's view of a model made in code, which lacked every field it holds
    None for (a parsed model lacked only those in its `_absent_fields`)."""

    __slots__ = ()

    def __contains__(self, name: object) -> bool:
        return True


EVERY_NAME: Container[str] = _EveryName()


def dump_model(
    model: Any, *, json_mode: bool, wire_names: bool, exclude_unset: bool, exclude_none: bool
) -> dict[str, Any]:
    """A model (and the models, lists and dicts it holds) as plain values: the official SDK's
    to_dict/model_dump options. json_mode writes enums as their values and date-times as text."""
    options = (json_mode, wire_names, exclude_unset, exclude_none)
    present = model.model_fields_set
    dumped: dict[str, Any] = {}
    for name, wire in type(model)._fields_:
        if exclude_unset and name not in present:
            continue
        item = getattr(model, name)
        if exclude_none and item is None:
            continue
        dumped[wire if wire_names else name] = _dumped(item, options)
    for wire, item in (getattr(model, "_additional_properties", None) or {}).items():
        if not (exclude_none and item is None):
            dumped[wire] = _dumped(item, options)
    return dumped


def _dumped(value: Any, options: tuple[bool, bool, bool, bool]) -> Any:
    json_mode, wire_names, exclude_unset, exclude_none = options
    if hasattr(type(value), "_fields_"):
        return dump_model(
            value, json_mode=json_mode, wire_names=wire_names, exclude_unset=exclude_unset, exclude_none=exclude_none
        )
    if isinstance(value, list):
        return [_dumped(item, options) for item in value]
    if isinstance(value, dict):
        return {key: _dumped(item, options) for key, item in value.items()}
    if json_mode:
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, datetime.datetime):
            return datetime_text(value)
        if isinstance(value, datetime.date):
            return value.isoformat()
    return value


# The types that `httpx2.Client(files=)` can accept, copied from that library.
FileContent = IO[bytes] | bytes | str
FileTypes = (
    # (filename, file (or bytes), content_type)
    tuple[str | None, FileContent, str | None]
    # (filename, file (or bytes), content_type, headers)
    | tuple[str | None, FileContent, str | None, Mapping[str, str]]
)
RequestFiles = list[tuple[str, FileTypes]]


class File:
    """Contains information for file uploads"""

    # Not a dataclass: building one costs each program's import 1-2 ms.
    __slots__ = ("file_name", "mime_type", "payload")

    def __init__(self, payload: BinaryIO, file_name: str | None = None, mime_type: str | None = None) -> None:
        self.payload = payload
        self.file_name = file_name
        self.mime_type = mime_type

    def to_tuple(self) -> FileTypes:
        """Return a tuple representation that httpx will accept for multipart/form-data"""
        return self.file_name, self.payload, self.mime_type


# A `format: date-time` argument given as text rather than a datetime.
IsoDateTime = Annotated[str, DateTimeText()]

_T_co = TypeVar("_T_co", covariant=True)

if TYPE_CHECKING:

    class SequenceNotStr(Protocol[_T_co]):
        """An array argument's type: a list, a tuple or any other sequence, but not a str or bytes
        (their `__contains__` takes only str or bytes, so neither matches this protocol)."""

        @overload
        def __getitem__(self, index: SupportsIndex, /) -> _T_co: ...
        @overload
        def __getitem__(self, index: slice, /) -> Sequence[_T_co]: ...
        def __contains__(self, value: object, /) -> bool: ...
        def __len__(self) -> int: ...
        def __iter__(self) -> Iterator[_T_co]: ...
        def __reversed__(self) -> Iterator[_T_co]: ...
        def index(self, value: Any, start: int = ..., stop: int = ..., /) -> int: ...
        def count(self, value: Any, /) -> int: ...

else:
    # At run time the hint reads as a list (what the CLI and the client's checks take an array for);
    # the client accepts any sequence there that is not str or bytes, and sends a JSON array.
    SequenceNotStr = list


class SpecStrEnum(StrEnum):
    """What every generated enum shares; its class gives only its members (the spec's values). It
    reads, and compares equal, as the value it stands for; a value the spec does not list (the
    server moves ahead of the spec) becomes a pseudo-member named UNKNOWN that keeps its string and
    round-trips, instead of failing the parse."""

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:
        # As the value: it compares equal to that string, and reads so in a model's repr.
        return repr(self.value)

    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = "UNKNOWN"
        member._value_ = value
        return member

    @property
    def is_known(self) -> bool:
        """Whether the spec lists this value."""
        return self._value_ in type(self)._value2member_map_


class Model:
    """What every model shares; a model's class gives its fields (`_fields_`: attribute and wire
    name of each), its `__slots__`, `__init__`, `from_dict` and `_document` (the document writer).

    Its module holds what from_dict reads by: `_NAMES`, the properties' wire names (what it notes
    as absent, and sets aside in additional_properties: names not among these, and nulls for those
    in `_REFUSING_NULL`, whose schema refuses null); `_LAST`, what the last document that lacked
    some names lacked (absent_names)."""

    # Each subclass adds a slot per field and, with optional fields, `_absent_fields`.
    __slots__ = ("__weakref__", "_additional_properties", "_x_request_id")
    _fields_: ClassVar[tuple[tuple[str, str], ...]] = ()
    # The fields the schema does not name: None until there is something to keep (most documents have
    # nothing unknown, and an empty dict is one more object for the garbage collector to visit).
    _additional_properties: dict[str, Any] | None
    # The wire names of the properties the document left out, so that an absent field and a null
    # one, both None, go back out as they came; None for a model made in code (its None fields are
    # left out), and for a model whose fields are all required.
    _absent_fields: Collection[str] | None = None
    # Compared by value and mutable, so not hashable (as a dataclass with eq).
    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        names = [name for name, _ in self._fields_]
        return [getattr(self, name) for name in names] + [self._additional_properties or {}] == [
            getattr(other, name) for name in names
        ] + [getattr(other, "_additional_properties", None) or {}]

    def _document(self) -> dict[str, Any]:
        """The document: wire names, JSON values, the fields the document held."""
        raise NotImplementedError

    def to_dict(
        self,
        *,
        mode: Literal["json", "python"] = "python",
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> dict[str, Any]:
        """The model as a dict, as the official SDK's to_dict: by wire names (use_api_names), the
        fields the document held (exclude_unset), date-times as datetime objects (mode="python") or
        as text (mode="json"). exclude_defaults and warnings are accepted and change nothing (the
        client applies no defaults)."""
        if mode == "json" and use_api_names and exclude_unset and not exclude_none:
            return self._document()
        return dump_model(
            self,
            json_mode=mode == "json",
            wire_names=use_api_names,
            exclude_unset=exclude_unset,
            exclude_none=exclude_none,
        )

    def to_json(
        self,
        *,
        indent: int | None = 2,
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> str:
        """The model as JSON text (indent=None: compact), with to_dict's options."""
        document = self.to_dict(
            mode="json", use_api_names=use_api_names, exclude_unset=exclude_unset, exclude_none=exclude_none
        )
        return json.dumps(document, indent=indent)

    def model_dump(
        self,
        *,
        mode: Literal["json", "python"] | str = "python",
        by_alias: bool | None = None,
        exclude_unset: bool = False,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        round_trip: bool = False,
        warnings: bool | Literal["none", "warn", "error"] = True,
    ) -> dict[str, Any]:
        """pydantic's model_dump: by attribute name unless by_alias, every field unless exclude_unset."""
        return dump_model(
            self,
            json_mode=mode == "json",
            wire_names=bool(by_alias),
            exclude_unset=exclude_unset,
            exclude_none=exclude_none,
        )

    def model_dump_json(
        self,
        *,
        indent: int | None = None,
        by_alias: bool | None = None,
        exclude_unset: bool = False,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        round_trip: bool = False,
        warnings: bool | Literal["none", "warn", "error"] = True,
    ) -> str:
        """pydantic's model_dump_json, with model_dump's options."""
        document = dump_model(
            self, json_mode=True, wire_names=bool(by_alias), exclude_unset=exclude_unset, exclude_none=exclude_none
        )
        return json.dumps(document, indent=indent)

    @property
    def _request_id(self) -> str | None:
        """The API's id of the request this result came from (its `x-request-id`), as the official
        SDK's results have it; None for a model inside a result or made in code."""
        request_id: str | None = getattr(self, "_x_request_id", None)
        return request_id

    @property
    def model_fields_set(self) -> frozenset[str]:
        """The fields the document held (null ones included), by attribute name; for a model made in
        code, the fields that are not None."""
        absent = self._absent_fields
        if absent is None:
            return frozenset(name for name, _ in self._fields_ if getattr(self, name) is not None)
        return frozenset(name for name, wire in self._fields_ if wire not in absent)

    def __repr__(self) -> str:
        shown = self.model_fields_set
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name, _ in self._fields_ if name in shown)
        if self._additional_properties:
            fields += (", " if fields else "") + f"additional_properties={self._additional_properties!r}"
        return f"{type(self).__name__}({fields})"

    @property
    def additional_properties(self) -> dict[str, Any]:
        """The document's fields this model's schema does not name, and its nulls where the schema
        allows none, by their names on the wire."""
        kept = self._additional_properties
        if kept is None:
            kept = self._additional_properties = {}
        return kept

    @additional_properties.setter
    def additional_properties(self, value: dict[str, Any]) -> None:
        self._additional_properties = value

    @property
    def additional_keys(self) -> list[str]:
        """The names of additional_properties."""
        return list(self.additional_properties.keys())

    # Not subscriptable, as the official SDK's models: fields are attributes, and the fields the
    # schema does not name are read through additional_properties (by their wire names).


class _Draft(type):
    """The metaclass of a request TypedDict's draft: the class statement as written (its
    annotations, docstring, `total`), kept as a plain class until first use."""

    __total__: bool

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], total: bool = True) -> _Draft:
        draft = super().__new__(mcs, name, bases, namespace)
        draft.__total__ = total
        return draft

    def __init__(cls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], total: bool = True) -> None:
        super().__init__(name, bases, namespace)


class ParamDraft(metaclass=_Draft):
    """What a model's module names ParamDict at run time (type checkers see typing.TypedDict): the
    module's `<Model>Param` classes are written once, as type checkers read them, and become
    TypedDicts on first use (`lazy_params`). Building a TypedDict compiles each of its postponed
    annotations, which a program that only reads responses would pay for nothing.

    A `<Model>Param` is its model as a request argument: a dict keyed like the model's attributes,
    the spec's required properties required. Its required keys sit in a total base class
    (`_<Model>RequiredParam`): with postponed annotations, TypedDict cannot see Required[...].
    Its `__wire_names__` gives the wire name of each key that differs from it."""


if TYPE_CHECKING:
    from typing import TypedDict as ParamDict
else:
    ParamDict = ParamDraft


def lazy_params(namespace: dict[str, Any]) -> Callable[[str], Any]:
    """Takes the drafts out of a module's namespace; returns the module's `__getattr__`, which
    builds a draft's TypedDict (its bases first) in that namespace when the name is first read."""
    drafts = {name: value for name, value in namespace.items() if isinstance(value, _Draft) and value is not ParamDraft}
    for name in drafts:
        del namespace[name]

    def built(draft: _Draft) -> Any:
        made = namespace.get(draft.__name__)
        if made is not None:
            return made
        bases = tuple(
            TypedDict if base is ParamDraft or not isinstance(base, _Draft) else built(base) for base in draft.__bases__
        )
        body = {key: value for key, value in vars(draft).items() if key not in ("__dict__", "__weakref__", "__total__")}
        made = namespace[draft.__name__] = types.new_class(
            draft.__name__, bases, {"total": draft.__total__}, lambda ns: ns.update(body)
        )
        return made

    def __getattr__(name: str) -> Any:
        draft = drafts.get(name)
        if draft is None:
            raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
        return built(draft)

    return __getattr__


__all__ = [
    "EVERY_NAME",
    "UNSET",
    "UUID",
    "File",
    "FileContent",
    "FileTypes",
    "IsoDateTime",
    "Model",
    "ParamDict",
    "ParamDraft",
    "RequestFiles",
    "SequenceNotStr",
    "SpecStrEnum",
    "Unset",
    "absent_names",
    "dump_model",
    "lazy_params",
    "new_model",
    "unexpected",
    "unknown_fields",
    "uuid_text",
    "wire_fields",
]
