"""A method's arguments to the parts of its HTTP request, checked before anything is sent.

What each argument may be comes from the generated method's own annotations (typing.get_type_hints:
Literal enums, TypedDicts of nested objects, lists, UUIDs, date-times); where it goes (path, query,
body) and its wire name from the generated Operation. Nothing the spec says is written down here.
"""

from __future__ import annotations

import datetime
import enum
import functools
import json
import os
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import quote

from telnyx_messages._api.types import (
    NOT_GIVEN,
    UUID,
    CallOptions,
    HeaderParameter,
    IsoDateTime,
    NotGiven,
    Operation,
)

from ._parts import count_parts

__all__ = [
    "IDEMPOTENCY_KEY",
    "MAX_BODY_BYTES",
    "PreparedRequest",
    "check_headers",
    "new_idempotency_key",
    "prepare",
    "signature_of",
]

# The argument of the header through which a call is sent at most once (upstream's IdempotencyKey
# parameter, `Idempotency-Key`): not given, the client makes a key for the call.
IDEMPOTENCY_KEY = "idempotency_key"

# No message request comes near this; a body over it is a caller's mistake (the API caps media at 1 MB).
MAX_BODY_BYTES = 1 << 20

# What str(uuid.UUID(text)) gives: text already of this form is sent as given, without a parse.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").fullmatch

# A path parameter that is one of these would be a dot segment: removed with the one before it.
_DOT_SEGMENTS = frozenset((".", ".."))

_HEADER_NAME_CHARACTERS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


class Signature(NamedTuple):
    """What a generated method accepts: each argument's type, and which ones the caller must give."""

    name: str
    hints: dict[str, Any]
    required: frozenset[str]


@functools.cache
def signature_of(method: Callable[..., Any]) -> Signature:
    # Read off the code object: importing inspect would cost every program's first call milliseconds.
    function = getattr(method, "__func__", method)
    code = function.__code__
    positional = code.co_varnames[: code.co_argcount]
    keyword_only = code.co_varnames[code.co_argcount : code.co_argcount + code.co_kwonlyargcount]
    required_positional = positional[: len(positional) - len(function.__defaults__ or ())]
    required = {*required_positional, *(n for n in keyword_only if n not in (function.__kwdefaults__ or {}))}
    required.discard("self")
    return Signature(method.__name__, typing.get_type_hints(method, include_extras=True), frozenset(required))


class _Mismatch(Exception):
    """A value that is not of its argument's type. `wrong_value`: of the right type but a value the
    type does not allow (an enum value the spec does not list, a malformed UUID): a ValueError."""

    def __init__(self, message: str, *, wrong_value: bool = False) -> None:
        self.message = message
        self.wrong_value = wrong_value


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(arg) for arg in typing.get_args(hint) if arg is not NotGiven)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(arg) for arg in typing.get_args(hint))
    if origin is list:  # SequenceNotStr at run time
        return f"a list or tuple of {_describe(typing.get_args(hint)[0])}"
    if typing.is_typeddict(hint):
        return f"a dict ({hint.__name__})"
    if hint is type(None):
        return "None"
    if hint is datetime.datetime:
        return "a timezone-aware datetime"
    if hint == IsoDateTime:
        return "its ISO 8601 text"
    return str(getattr(hint, "__name__", hint))


@functools.cache
def _shape(hint: Any) -> tuple[Any, tuple[Any, ...]]:
    """A hint's origin and arguments, read once: typing's readers cost a call several microseconds."""
    return typing.get_origin(hint), typing.get_args(hint)


def _encode(value: Any, hint: Any, where: str) -> Any:
    """`value` as JSON, if it is of type `hint`; else _Mismatch naming `where`."""
    origin, arguments = _shape(hint)
    if origin in (typing.Union, types.UnionType):
        if UUID in arguments and isinstance(value, str):  # `format: uuid` taken as text: check its form
            if _CANONICAL_UUID(value):
                return value
            try:
                return str(UUID(value))
            except ValueError:
                raise _Mismatch(f"{where} must be a UUID, got {value!r}", wrong_value=True) from None
        mismatches = []
        for alternative in arguments:
            try:
                return _encode(value, alternative, where)
            except _Mismatch as mismatch:
                mismatches.append(mismatch)
        # The most telling: a value of the right type but not allowed, then one from inside a list
        # or dict that was of the right kind, then the union's own description.
        for found in mismatches:
            if found.wrong_value:
                raise found
        for found in mismatches:
            if not found.message.startswith(f"{where} "):
                raise found
        raise _Mismatch(f"{where} must be {_describe(hint)}, got {type(value).__name__}")
    if hint == IsoDateTime:  # the one Annotated hint the templates write; any other is refused below
        return _encode_datetime_text(value, where)
    if origin is typing.Literal:
        if any(type(value) is type(option) and value == option for option in arguments):
            return value
        wrong_value = any(type(value) is type(option) for option in arguments)
        raise _Mismatch(f"{where} must be {_describe(hint)}, got {value!r}", wrong_value=wrong_value)
    if origin is list:  # SequenceNotStr: any sequence but str and bytes, sent as a JSON array
        if not _is_array(value):
            raise _Mismatch(f"{where} must be {_describe(hint)}, got {type(value).__name__}")
        (item,) = arguments
        return [_encode(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if typing.is_typeddict(hint):
        return _encode_typeddict(value, hint, where)
    if hint is Any:
        return value
    if hint is type(None):
        if value is None:
            return None
        raise _Mismatch(f"{where} must be None, got {type(value).__name__}")
    if hint is datetime.datetime:
        return _encode_datetime(value, where)
    if hint is UUID:
        if isinstance(value, UUID):
            return str(value)
        raise _Mismatch(f"{where} must be a UUID, got {type(value).__name__}")
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        if isinstance(value, hint):
            return value.value
        raise _Mismatch(f"{where} must be {hint.__name__}, got {type(value).__name__}")
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(hint, type):
        if isinstance(value, hint):
            return value
    else:
        raise TypeError(f"{where}: the client cannot check values of type {hint!r}")  # a template's omission
    raise _Mismatch(f"{where} must be {_describe(hint)}, got {type(value).__name__}")


def _is_array(value: object) -> bool:
    if type(value) is list or type(value) is tuple:
        return True
    return isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray)


def _plural(count: int, noun: str) -> str:
    """`count` and `noun`, plural unless one: "1 character", "2 characters"."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def _encode_datetime_text(value: Any, where: str) -> str:
    """A date-time given as text (`IsoDateTime`): sent as written, once it reads as one with an offset."""
    if not isinstance(value, str):
        raise _Mismatch(f"{where} must be {_describe(IsoDateTime)}, got {type(value).__name__}")
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise _Mismatch(f"{where} must be an ISO 8601 date-time, got {value!r}", wrong_value=True) from None
    if parsed.utcoffset() is None:
        raise _Mismatch(f"{where} must be timezone-aware, got {value!r} (no offset)", wrong_value=True)
    return value


def _encode_datetime(value: Any, where: str) -> str:
    if not isinstance(value, datetime.datetime):
        raise _Mismatch(f"{where} must be a timezone-aware datetime, got {type(value).__name__}")
    if value.utcoffset() is None:
        raise _Mismatch(f"{where} must be timezone-aware, got naive {value.isoformat()}", wrong_value=True)
    return value.isoformat()


def _encode_typeddict(value: Any, hint: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Mismatch(f"{where} must be {_describe(hint)}, got {type(value).__name__}")
    required: frozenset[str] = hint.__required_keys__
    known = required | hint.__optional_keys__
    if unknown := sorted(set(value) - known, key=repr):
        raise _Mismatch(f"{where} has unknown keys {unknown}; {hint.__name__} takes {sorted(known)}")
    if missing := sorted(required - set(value)):
        raise _Mismatch(f"{where} is missing the required keys {missing}")
    key_types = _typeddict_hints(hint)
    wire_names: dict[str, str] = hint.__wire_names__  # every generated Param has it
    encoded: dict[str, Any] = {}
    for key, item in value.items():
        encoded[wire_names.get(key) or key] = _encode(item, key_types[key], f"{where}[{key!r}]")
    return encoded


@functools.cache
def _typeddict_hints(hint: Any) -> dict[str, Any]:
    return typing.get_type_hints(hint, include_extras=True)


def _encode_argument(signature: Signature, name: str, value: object) -> Any:
    try:
        encoded = _encode(value, signature.hints[name], name)
    except _Mismatch as mismatch:
        error = ValueError if mismatch.wrong_value else TypeError
        raise error(f"{signature.name}(): {mismatch.message}") from None
    if name in signature.required and (value == "" or encoded == []):
        raise ValueError(f"{signature.name}(): {name} must not be empty")
    return encoded


def _check_text_parts(
    signature: Signature, operation: Operation[Any], arguments: Mapping[str, object], most: int
) -> None:
    """A message `text` (its type already checked) the API would refuse for its parts, refused. Only
    an SMS has parts: a call that asks for an MMS (`type="MMS"`) or gives `media_urls` (Telnyx then
    sends an MMS) sends its text whole."""
    wires = {wire: arguments[name] for name, wire in operation.body_parameters}
    if wires.get("type") == "MMS" or wires.get("media_urls"):
        return
    for name, wire in operation.body_parameters:
        text = arguments[name]
        if wire == "text" and isinstance(text, str):
            parts = count_parts(text)
            if parts.parts > most:
                raise ValueError(
                    f"{signature.name}(): {name} is {_plural(parts.parts, 'part')} "
                    f"({_plural(parts.characters, parts.encoding + ' character')}); "
                    f"the API takes at most {most}"
                )


def check_headers(headers: Mapping[str, str], where: str) -> dict[str, str]:
    """Headers a caller adds: str names and values, no CR, LF or NUL (a header injection), and no
    Authorization (the client sets it from api_key). A value is what HTTP carries: printable ASCII
    and tabs, no white space at either end; else httpx would fail on encoding it, or h11 on sending it
    (quoting it, as a connection error). Messages name the header, never its value."""
    checked = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not name or not set(name) <= _HEADER_NAME_CHARACTERS:
            raise ValueError(f"{where}: {name!r} is not a valid header name")
        if name.lower() == "authorization":
            raise ValueError(f"{where}: Authorization is set by the client from api_key; pass api_key= instead")
        if not isinstance(value, str):
            raise TypeError(f"{where}: the value of {name} must be str, got {type(value).__name__}")
        spaced = value.replace("\t", " ")
        if not (spaced.isascii() and spaced.isprintable()):
            injection = any(c in value for c in "\r\n\0")
            what = "a line break or NUL" if injection else "a control character or one beyond ASCII"
            raise ValueError(f"{where}: the value of {name} holds {what}")
        if spaced != spaced.strip():  # only spaces are left to strip: other white space is refused above
            raise ValueError(f"{where}: the value of {name} starts or ends with white space")
        checked[name] = value
    return checked


def new_idempotency_key() -> str:
    """A random (version 4) UUID's text, as upstream asks keys to be: 122 random bits from
    os.urandom, as uuid.uuid4 takes them, without importing uuid (on Linux it imports platform:
    milliseconds of a program's start)."""
    digits = os.urandom(16).hex()
    variant = "89ab"[int(digits[16], 16) & 3]  # the variant's two bits, 10, then two random ones
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{variant}{digits[17:20]}-{digits[20:]}"


@functools.cache
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _header_value(signature: Signature, parameter: HeaderParameter, value: object) -> str:
    """A header argument as its text, once its type and the schema's pattern and lengths allow it."""
    text = str(_encode_argument(signature, parameter.argument, value))  # text, or an int (the types rendered)
    name, length = parameter.argument, len(text)
    if parameter.min_length is not None and length < parameter.min_length:
        least = _plural(parameter.min_length, "character")
        raise ValueError(f"{signature.name}(): {name} must be at least {least}, got {length}")
    if parameter.max_length is not None and length > parameter.max_length:
        most = _plural(parameter.max_length, "character")
        raise ValueError(f"{signature.name}(): {name} must be at most {most}, got {length}")
    # A JSON Schema pattern matches anywhere in the text unless it anchors itself (the spec's do).
    if parameter.pattern is not None and not _pattern(parameter.pattern).search(text):
        raise ValueError(
            f"{signature.name}(): {name} must match {parameter.pattern!r} (the {parameter.header} header), got {text!r}"
        )
    return check_headers({parameter.header: text}, name)[parameter.header]


def _headers(
    operation: Operation[Any], signature: Signature, arguments: Mapping[str, object], headers: dict[str, str]
) -> str | None:
    """The spec's header parameters added to `headers`; the call's idempotency key, if it has one.
    An Idempotency-Key not given (nor in extra_headers) is made here, once: every attempt sends it."""
    key = None
    for parameter in operation.header_parameters:
        value = arguments[parameter.argument]
        if parameter.argument == IDEMPOTENCY_KEY:
            if value is None:
                continue
            if value is NOT_GIVEN:
                given = next((v for n, v in headers.items() if n.lower() == parameter.header.lower()), None)
                value = new_idempotency_key() if given is None else given
        elif value is NOT_GIVEN:
            continue
        text = _header_value(signature, parameter, value)
        for name in [n for n in headers if n.lower() == parameter.header.lower()]:
            del headers[name]  # the argument wins over the same header in extra_headers
        headers[parameter.header] = text
        if parameter.argument == IDEMPOTENCY_KEY:
            key = text
    return key


class PreparedRequest(NamedTuple):
    """One call's request, made once per call: a tuple, cheaper to make than a frozen dataclass."""

    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]
    content: bytes | None
    idempotency_key: str | None


def prepare(
    operation: Operation[Any],
    method: Callable[..., Any],
    arguments: Mapping[str, object],
    options: CallOptions,
    default_query: Mapping[str, object],
) -> PreparedRequest:
    signature = signature_of(method)
    path = operation.path
    for name, wire in operation.path_parameters:
        # Never empty: a path parameter is required, and _encode_argument refuses "" for those.
        text = str(_encode_argument(signature, name, arguments[name]))
        if text in _DOT_SEGMENTS:  # quote() keeps dots, and the URL parser would remove the segment
            raise ValueError(
                f"{signature.name}(): {name} must not be {text!r}, which would send the request to another path"
            )
        path = path.replace("{" + wire + "}", quote(text, safe=""))
    params: dict[str, Any] = dict(default_query)
    for name, wire in operation.query_parameters:
        if arguments[name] is not NOT_GIVEN:
            params[wire] = _encode_argument(signature, name, arguments[name])
    if options.extra_query:
        params.update(options.extra_query)
    headers = check_headers(options.extra_headers or {}, "extra_headers")
    idempotency_key = _headers(operation, signature, arguments, headers) if operation.header_parameters else None
    content = None
    if operation.has_body:
        body = {
            wire: _encode_argument(signature, name, arguments[name])
            for name, wire in operation.body_parameters
            if arguments[name] is not NOT_GIVEN
        }
        body.update(options.extra_body or {})
        # Encoded once here, and sent as these bytes on every attempt.
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        if len(content) > MAX_BODY_BYTES:
            largest = max(body, key=lambda wire: len(repr(body[wire])))  # over the limit, so not empty
            raise ValueError(
                f"{signature.name}(): the request body is {len(content)} bytes, over the {MAX_BODY_BYTES} the client "
                f"sends; the largest argument is {largest}"
            )
        headers["Content-Type"] = "application/json"
    elif options.extra_body:
        raise ValueError(f"{signature.name}(): extra_body given, but {operation.method} {operation.path} sends no body")
    if operation.max_text_parts is not None:
        _check_text_parts(signature, operation, arguments, operation.max_text_parts)
    return PreparedRequest(operation.method, path, params, headers, content, idempotency_key)
