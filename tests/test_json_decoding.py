"""The response decoder gives exactly what json.loads gives, value and type, for any text: msgspec
where it reads the text, json.loads where it refuses it; and a process switches from json.loads to
msgspec once it has decoded enough for msgspec's import to pay (telnyx_messages/_json.py)."""

from __future__ import annotations

import functools
import importlib
import json
import math
import subprocess
import sys
from typing import Any

import msgspec.json
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


# The decoder a process switches to, made as _json makes it.
MSGSPEC_PATH = functools.partial(_json.msgspec_then_json_loads, msgspec.json.Decoder().decode)


def _decoders_agree(text: bytes) -> None:
    exact = _outcome(json.loads, text)
    for decode in (MSGSPEC_PATH, _json.loads):
        client = _outcome(decode, text)
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


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The decoder's state as a new process has it: nothing decoded, msgspec not imported."""
    monkeypatch.setattr(_json, "_decoded_bytes", 0)
    monkeypatch.setattr(_json, "_decode", _json._json_loads_until_switch)
    monkeypatch.delitem(sys.modules, "msgspec.json")


def _string_body(size: int) -> bytes:
    return b'"' + b"a" * (size - 2) + b'"'


@pytest.mark.usefixtures("fresh_process")
def test_a_process_decodes_with_json_loads_until_msgspec_would_have_paid_for_itself() -> None:
    quarter = _string_body(_json.SWITCH_AFTER_BYTES // 4)
    for _ in range(3):
        assert _json.loads(quarter) == json.loads(quarter)
        assert _json._decode is _json._json_loads_until_switch and "msgspec.json" not in sys.modules
    assert _json._decoded_bytes == 3 * len(quarter)
    assert _json.loads(quarter) == json.loads(quarter)  # the body that reaches the sum switches
    assert "msgspec.json" in sys.modules
    switched = _json._decode
    assert isinstance(switched, functools.partial) and switched.func is _json.msgspec_then_json_loads
    bom = b"\xef\xbb\xbf" + b'{"a": [1, 2.5, "x"]}'  # msgspec refuses it: json.loads reads it
    assert _json.loads(bom) == json.loads(bom) and _json._decode is switched


@pytest.mark.usefixtures("fresh_process")
def test_small_bodies_add_up_to_the_switch() -> None:
    small = b'{"a": [1, 2.5, "x"]}'
    bodies = -(-_json.SWITCH_AFTER_BYTES // len(small))  # the count whose sizes first reach the sum
    for _ in range(bodies - 1):
        _json.loads(small)
    assert _json._decode is _json._json_loads_until_switch
    assert _json.loads(small) == json.loads(small) and _json._decode is not _json._json_loads_until_switch


@pytest.mark.usefixtures("fresh_process")
def test_a_program_that_imported_msgspec_uses_it_from_the_first_body() -> None:
    importlib.import_module("msgspec.json")  # the program's own import: nothing left to pay for

    small = b"[1]"
    assert _json.loads(small) == [1] and _json._decoded_bytes == len(small)
    assert isinstance(_json._decode, functools.partial) and _json._decode.func is _json.msgspec_then_json_loads


def test_the_switched_decoder_decodes_with_msgspec(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[bytes] = []
    real = msgspec.json.Decoder()

    class Spy:
        def decode(self, content: bytes) -> Any:
            decoded.append(content)
            return real.decode(content)

    monkeypatch.setattr(msgspec.json, "Decoder", Spy)
    decode = _json._switched()
    assert decode(b"[1, 2]") == [1, 2] and decoded == [b"[1, 2]"]
    bom = b"\xef\xbb\xbf[3]"
    assert decode(bom) == [3] and decoded == [b"[1, 2]", bom]


@pytest.mark.usefixtures("fresh_process")
def test_without_msgspec_every_body_goes_to_json_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "msgspec", None)  # import msgspec raises ImportError
    monkeypatch.setitem(sys.modules, "msgspec.json", None)
    assert _json._switched() is json.loads
    large = json.dumps({"a": [0.1] * 5000}).encode()
    assert _json.loads(large) == json.loads(large) and _json._decode is json.loads


def test_a_new_process_makes_its_first_call_without_importing_msgspec(server: LoopbackServer) -> None:
    from .support.spec import message_example

    server.reply(Reply(200, {"data": [message_example() for _ in range(8)]}))
    code = (
        "import sys\n"
        "from telnyx_messages import Telnyx, _json\n"
        f"client = Telnyx(api_key='k', base_url={server.base_url!r}, max_retries=0)\n"
        "group = client.messages.retrieve_group_messages('182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e')\n"
        "print(len(group.data), 'msgspec' in sys.modules)\n"
        "_json.loads(b'\"' + b'a' * _json.SWITCH_AFTER_BYTES + b'\"')\n"
        "print('msgspec.json' in sys.modules)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.splitlines() == ["8 False", "True"]


def test_a_large_group_parses_through_msgspec_as_through_json_loads(server: LoopbackServer) -> None:
    from .support.spec import message_example

    document = {"data": [message_example() for _ in range(100)]}
    server.reply(Reply(200, document))
    body = json.dumps(document).encode()
    with client_for(server) as client:
        group = client.messages.retrieve_group_messages("182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e")
    # This process imported msgspec (above), so the client decoded with it from its first body.
    switched = _json._decode
    assert isinstance(switched, functools.partial) and switched.func is _json.msgspec_then_json_loads
    exact = type(group).from_dict(json.loads(body))
    assert group == exact and group.to_dict(mode="json") == exact.to_dict(mode="json") and len(group.data or []) == 100
