"""Decoding a response body: exactly what json.loads gives, faster once a program has many to decode.

msgspec decodes into the same builtins 1.7-2.6 times as fast as json.loads, and where the two
would read a text differently (a UTF-8 BOM or another encoding, NaN and Infinity, 1e999, lone
surrogates) msgspec refuses it rather than reading it otherwise; so a refused text goes to
json.loads, which reads it or raises what it always raised. tests/test_json_decoding.py holds the
two to that.

Importing msgspec costs about as much as json.loads's extra time over 1.5 MB (single messages) to
5 MB (groups of 100) of bodies, measured side by side: a script that makes a few calls would pay
it for nothing. So a process decodes with json.loads until it has decoded SWITCH_AFTER_BYTES, then
imports msgspec and decodes with it from then on (rent until renting has cost what buying does: about
twice the better choice made in hindsight, at worst). A program that has imported msgspec already
pays nothing more for it, and uses it from the first body; one that would rather pay at start-up
imports it itself. Without msgspec, json.loads reads every body.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

SWITCH_AFTER_BYTES = 4 * 1024 * 1024


def loads(content: bytes) -> Any:
    return _decode(content)


def msgspec_then_json_loads(fast: Callable[[bytes], Any], content: bytes) -> Any:
    try:
        return fast(content)
    except Exception:  # msgspec refuses it: json.loads reads it, or raises as it always did
        pass
    return json.loads(content)


def _json_loads_until_switch(content: bytes) -> Any:
    global _decode, _decoded_bytes
    _decoded_bytes += len(content)
    if _decoded_bytes >= SWITCH_AFTER_BYTES or "msgspec.json" in sys.modules:
        _decode = _switched()
        return _decode(content)
    return json.loads(content)


def _switched() -> Callable[[bytes], Any]:
    try:
        import msgspec.json
    except ImportError:  # an optional speed-up: without it, json.loads
        return json.loads
    return functools.partial(msgspec_then_json_loads, msgspec.json.Decoder().decode)


# Process-wide, as the import is. Threads racing on the sum may leave a body out of it: the switch
# then comes a body later.
_decoded_bytes = 0
_decode: Callable[[bytes], Any] = _json_loads_until_switch
