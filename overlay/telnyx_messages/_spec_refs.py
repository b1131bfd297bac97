"""Local `$ref`s of an OpenAPI document (`#/components/schemas/Message`): the one resolver the
generator's tools, the tests, the bench and the fake (telnyx_messages.testing) share.

Standard library only and no import of the package's other modules: tools load this file by its
path, before any generated code exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote


class RefError(ValueError):
    """A `$ref` that leads nowhere: not local, its target missing, or a cycle of refs."""


def pointer_parts(pointer: str) -> list[str]:
    """The reference tokens of a local JSON pointer in a URI fragment, `#/paths/~1messages/post`:
    ["paths", "/messages", "post"] (percent-decoded, then ~1 read as / and ~0 as ~, RFC 6901)."""
    if not pointer.startswith("#"):
        raise RefError(f"$ref {pointer!r}: only local refs (#/...) are resolved")
    fragment = unquote(pointer[1:])
    if fragment == "":
        return []
    if not fragment.startswith("/"):
        raise RefError(f"$ref {pointer!r}: not a JSON pointer (#/...)")
    return [part.replace("~1", "/").replace("~0", "~") for part in fragment[1:].split("/")]


def target(document: Any, pointer: str) -> Any:
    """What a local pointer (a `$ref`'s value) points at in `document`, as written (a `$ref` found
    there is not followed)."""
    node = document
    parts = pointer_parts(pointer)
    for depth, part in enumerate(parts, start=1):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, Sequence) and not isinstance(node, str) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            missing = "/".join(parts[:depth])
            raise RefError(f"$ref {pointer!r}: the document has nothing at {missing!r}")
    return node


def located(document: Any, node: Any) -> tuple[str | None, Any]:
    """The last `$ref` followed from `node` (None when it holds none) and what the refs lead to: a
    node without `$ref` (anything not a mapping is returned as it is). A ref met twice is refused,
    naming the cycle."""
    followed: list[str] = []
    while isinstance(node, Mapping) and "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str):
            raise RefError(f"$ref {ref!r}: not a string")
        if ref in followed:
            raise RefError(f"$ref {ref!r}: a cycle of refs ({' -> '.join([*followed, ref])})")
        followed.append(ref)
        node = target(document, ref)
    return (followed[-1] if followed else None), node


def resolve(document: Any, node: Any) -> Any:
    """`node`, or what its `$ref` leads to (followed until a node without one), in `document`."""
    return located(document, node)[1]
