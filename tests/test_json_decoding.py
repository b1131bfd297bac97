"""The response decoder gives exactly what json.loads gives, value and type, for any text: msgspec
where it reads the text, json.loads where it refuses it (telnyx_messages/_json.py)."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from telnyx_messages import _json

from .support.server import LoopbackServer, Reply, client_for


def _outcome(decode: Any, text: bytes) -> tuple[str, Any]:
    try:
        return "value", decode(text)
    except Exception as exc:
        return "error", type(exc)


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down: 1 and 1.0, and -0.0 and 0.0, differ; NaN is NaN;
    keys in the same order. Iterative: the documents may nest deeper than Python recurses."""
    pending = [(a, b)]
    while pending:
        x, y = pending.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, float):
            if math.copysign(1.0, x) != math.copysign(1.0, y) or not (x == y or (math.isnan(x) and math.isnan(y))):
                return False
        elif isinstance(x, list):
            if len(x) != len(y):
                return False
            pending += zip(x, y, strict=True)
        elif isinstance(x, dict):
            if list(x) != list(y):
                return False
            pending += ((x[k], y[k]) for k in x)
        elif x != y:
            return False
    return True


def _decoders_agree(text: bytes) -> None:
    client = _outcome(_json.loads, text)
    exact = _outcome(json.loads, text)
    assert client[0] == exact[0], (text[:200], client, exact)
    if exact[0] == "value":
        assert _same(client[1], exact[1]), (text[:200], client[1], exact[1])
    else:
        assert client[1] is exact[1]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats()
    | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=5), children, max_size=5),
    max_leaves=30,
)
# Texts json.dumps would never write: hand-made numbers, escapes, whitespace and duplicate keys.
json_fragments = st.lists(
    st.sampled_from(
        [
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            '"',
            '"a"',
            '"a":',
            " ",
            "\t",
            "\n",
            "\r",
            "\x0c",
            "\ufeff",
            "0",
            "-0",
            "-0.0",
            "01",
            "1.",
            ".5",
            "1e5",
            "1E+5",
            "1e-5",
            "1e999",
            "-1e999",
            "1e-999",
            "2.4e-324",
            "18446744073709551616",
            "-9223372036854775809",
            "123456789012345678901234567890",
            "1.7976931348623157e308",
            "1.7976931348623159e308",
            "0.1",
            "0.30000000000000004",
            "NaN",
            "Infinity",
            "-Infinity",
            "true",
            "false",
            "null",
            "tru",
            "\\u0000",
            "\\ud800",
            "\\udc00",
            "\\ud83d\\ude00",
            '\\"',
            "\\\\",
            "\\/",
            "\\x",
            "é",
            "\x00",
            "\x1f",
        ]
    ),
    max_size=12,
).map("".join)
encodings = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "surrogatepass"])


def _encode(text: str, encoding: str) -> bytes:
    if encoding == "surrogatepass":
        return text.encode("utf-8", "surrogatepass")
    return text.encode(encoding, "surrogatepass")


@given(json_values, st.booleans(), st.sampled_from([None, 0, 2]), st.sampled_from([(",", ":"), (", ", ": ")]))
def test_any_document_decodes_as_json_loads_reads_it(
    value: Any, ascii_only: bool, indent: Any, separators: Any
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent, separators=separators)
    _decoders_agree(text.encode("utf-8", "surrogatepass"))


@given(json_fragments, encodings)
@example('{"a": 1, "b": 2, "a": 3}', "utf-8")
@example("-0.0", "utf-8")
@example("[1e999, NaN]", "utf-8")
@example('"\\ud800"', "utf-8")
@example('"\ud800"', "surrogatepass")
@example("{}", "utf-8-sig")
@example("[1]", "utf-16")
@example("123456789012345678901234567890", "utf-8")
def test_any_text_decodes_as_json_loads_reads_it(text: str, encoding: str) -> None:
    _decoders_agree(_encode(text, encoding))


@given(st.binary(max_size=64))
def test_any_bytes_decode_as_json_loads_reads_them(data: bytes) -> None:
    _decoders_agree(data)


@pytest.mark.parametrize("depth", [100, sys.getrecursionlimit() - 100, 5000, 100_000])
def test_deep_nesting_decodes_as_json_loads_reads_it(depth: int) -> None:
    _decoders_agree(b"[" * depth + b"]" * depth)
    _decoders_agree(b'{"a":' * depth + b"1" + b"}" * depth)


def test_the_client_decodes_every_body_with_msgspec(monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[int] = []
    fast = _json._fast_decoder()
    assert fast is not None

    def counting(content: bytes) -> Any:
        used.append(len(content))
        return fast(content)

    monkeypatch.setattr(_json, "_fast_decoder", lambda: counting)
    small = b'{"a": [1, 2.5, "x"]}'
    large = json.dumps({"a": ["x" * 100] * 200}).encode()
    assert _json.loads(small) == json.loads(small) and used == [len(small)]
    assert _json.loads(large) == json.loads(large) and used == [len(small), len(large)]
    # A text msgspec refuses still reads as json.loads reads it.
    bom = b"\xef\xbb\xbf" + small
    assert _json.loads(bom) == json.loads(bom) and used == [len(small), len(large), len(bom)]


def test_without_msgspec_the_client_uses_json_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    _json._fast_decoder.cache_clear()
    monkeypatch.setitem(sys.modules, "msgspec", None)  # import msgspec raises ImportError
    monkeypatch.setitem(sys.modules, "msgspec.json", None)
    large = json.dumps({"a": [0.1] * 5000}).encode()
    try:
        assert _json._fast_decoder() is None
        assert _json.loads(large) == json.loads(large)
    finally:
        _json._fast_decoder.cache_clear()  # the next caller imports msgspec again


def test_a_large_group_parses_through_msgspec_as_through_json_loads(server: LoopbackServer) -> None:
    from .support.spec import message_example

    document = {"data": [message_example() for _ in range(100)]}
    server.reply(Reply(200, document))
    body = json.dumps(document).encode()
    with client_for(server) as client:
        group = client.messages.retrieve_group_messages("182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e")
    exact = type(group).from_dict(json.loads(body))
    assert group == exact and group.to_dict() == exact.to_dict() and len(group.data or []) == 100
