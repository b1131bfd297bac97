"""The public modules show only their public names."""

from __future__ import annotations

from typing import Any

import pytest
import telnyx_messages
from telnyx_messages import types as public_types
from telnyx_messages import webhooks


@pytest.mark.parametrize("module", [telnyx_messages, webhooks, public_types], ids=lambda m: m.__name__)
def test_public_modules_list_only_public_names(module: Any) -> None:
    names = dir(module)
    leaked = [n for n in names if n in {"Any", "TYPE_CHECKING", "os", "json", "time", "base64", "binascii"}]
    assert leaked == []
    assert [n for n in names if n.startswith("_") and not n.startswith("__")] == []
    for name in names:
        assert getattr(module, name) is not None or name == "NOT_GIVEN"
