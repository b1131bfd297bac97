"""The names telnyx_messages.testing gives: those it lists in __all__ (dir() shows them, each is
there), and for any other name the usual AttributeError naming it."""

from __future__ import annotations

import pytest
import telnyx_messages.testing as testing


def test_dir_lists_the_public_names_and_each_resolves() -> None:
    assert dir(testing) == list(testing.__all__)
    assert all(hasattr(testing, name) for name in testing.__all__)


def test_an_unknown_name_is_an_attribute_error_naming_it() -> None:
    with pytest.raises(AttributeError, match=r"^module 'telnyx_messages.testing' has no attribute 'FakeTelnyxx'$"):
        _ = testing.FakeTelnyxx
    assert not hasattr(testing, "nothing")


def test_each_public_name_is_the_object_its_module_defines() -> None:
    from telnyx_messages.testing import _clock, _fake, _receipts, _throughput

    homes = {"FakeClock": _clock, "FakeTelnyx": _fake, "FakeTelnyxError": _fake}
    receipts = ["Failure", "Outcomes", "ReceiptEvent", "ReceiptReport", "ReceiptTry", "RecipientOutcome"]
    homes |= dict.fromkeys(receipts, _receipts)
    for name in testing.__all__:
        assert getattr(testing, name) is getattr(homes.get(name, _throughput), name), name
