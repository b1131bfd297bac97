"""Caller's arguments to request kwargs, checked before anything is sent.

Types, required and known keyword arguments all come from the generated code (the Params
TypedDict of a request body, the annotations of an endpoint's build_request): nothing the spec
says is written down here again.
"""

from __future__ import annotations

import datetime
import enum
import functools
import json
import types
import typing
import uuid
from types import ModuleType
from typing import Any

__all__ = ["MAX_BODY_BYTES", "build_request_kwargs", "hints"]

# No message request comes near this; a body over it is a caller's mistake (the API caps media at 1 MB).
MAX_BODY_BYTES = 1 << 20


@functools.cache
def hints(target: Any) -> dict[str, Any]:
    return typing.get_type_hints(target)


def _describe(hint: Any) -> str:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_describe(arg) for arg in typing.get_args(hint))
    if typing.get_origin(hint) is list:
        return f"a list of {_describe(typing.get_args(hint)[0])}"
    return "None" if hint is type(None) else getattr(hint, "__name__", str(hint))


def _conforms(value: object, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, arg) for arg in typing.get_args(hint))
    if origin is list:
        (item,) = typing.get_args(hint)
        return isinstance(value, list) and all(_conforms(v, item) for v in value)
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return isinstance(value, hint)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True  # a type this check does not know: left to the generated code


def _check_body(operation: ModuleType, params: dict[str, object], method_name: str) -> None:
    spec = operation.Params
    required: frozenset[str] = spec.__required_keys__
    known = required | spec.__optional_keys__
    if unknown := sorted(set(params) - known):
        raise TypeError(f"{method_name}() got unexpected keyword arguments: {', '.join(unknown)}")
    if missing := sorted(required - set(params)):
        raise TypeError(f"{method_name}() missing required keyword arguments: {', '.join(missing)}")
    types_of = hints(spec)
    for name, value in params.items():
        if not _conforms(value, types_of[name]):
            raise TypeError(f"{method_name}(): {name} must be {_describe(types_of[name])}, got {type(value).__name__}")
        if isinstance(value, str) and uuid.UUID in typing.get_args(types_of[name]) and _as_uuid(value) is None:
            raise ValueError(f"{method_name}(): {name} must be a UUID, got {value!r}")
        if name in required and value in ("", []):
            raise ValueError(f"{method_name}(): {name} must not be empty")
        if isinstance(value, datetime.datetime) and value.utcoffset() is None:
            raise ValueError(f"{method_name}(): {name} must be timezone-aware, got naive {value.isoformat()}")


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _path_value(operation: ModuleType, name: str, value: object, method_name: str) -> object:
    if hints(operation.build_request).get(name) is not uuid.UUID or isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str) and (parsed := _as_uuid(value)) is not None:
        return parsed
    raise ValueError(f"{method_name}(): {name} must be a UUID, got {value!r}")


def build_request_kwargs(
    operation: ModuleType, path: dict[str, object], params: dict[str, object] | None, *, method_name: str
) -> dict[str, Any]:
    arguments = {name: _path_value(operation, name, path[name], method_name) for name in operation.PATH_PARAMETERS}
    if params is not None:
        _check_body(operation, params, method_name)
        arguments["body"] = operation.Body(**params)
    kwargs: dict[str, Any] = operation.build_request(**arguments)
    if "json" in kwargs:
        # Encoded once here, and sent as these bytes.
        content = json.dumps(kwargs.pop("json"), ensure_ascii=False, separators=(",", ":")).encode()
        if len(content) > MAX_BODY_BYTES:
            given = params or {}
            largest = max(given, key=lambda name: len(repr(given[name])), default="body")
            raise ValueError(
                f"{method_name}(): the request body is {len(content)} bytes, over the {MAX_BODY_BYTES} the client "
                f"sends; the largest argument is {largest}"
            )
        kwargs["content"] = content
    return kwargs
