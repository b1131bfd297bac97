"""Decoding a response body: exactly what json.loads gives, faster for large bodies.

msgspec decodes into the same builtins about twice as fast as json.loads, and where the two would
read a text differently (a UTF-8 BOM or another encoding, NaN and Infinity, 1e999, lone surrogates)
msgspec refuses it rather than reading it otherwise; so a refused text goes to json.loads, which
reads it or raises what it always raised. tests/test_json_decoding.py holds the two to that.
Small bodies go straight to json.loads: there, importing msgspec would cost a program's first call
more than it saves.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

# Below this many bytes json.loads is used (a single message is about 1.5 KB, a group of eight 12 KB).
FAST_DECODE_MIN_BYTES = 16 * 1024


def loads(content: bytes) -> Any:
    return fast_or_exact(content) if len(content) >= FAST_DECODE_MIN_BYTES else json.loads(content)


def fast_or_exact(content: bytes) -> Any:
    fast = _fast_decoder()
    if fast is not None:
        try:
            return fast(content)
        except Exception:  # msgspec refuses it: json.loads reads it, or raises as it always did
            pass
    return json.loads(content)


@functools.cache
def _fast_decoder() -> Callable[[bytes], Any] | None:
    try:
        import msgspec.json
    except ImportError:  # an optional speed-up: without it, json.loads
        return None
    return msgspec.json.Decoder().decode
