"""NOT_GIVEN, the default of every optional argument (telnyx_messages._calls.NotGiven): one object,
false, shown by its name (help() prints it in every signature), and itself again after a copy or a
pickle (a call's arguments may be pickled, e.g. to a process pool)."""

from __future__ import annotations

import copy
import pickle

from telnyx_messages import NOT_GIVEN, NotGiven


def test_not_given_is_one_object_however_it_is_made_or_copied() -> None:
    assert NotGiven() is NOT_GIVEN
    assert NotGiven() is NotGiven()
    assert copy.copy(NOT_GIVEN) is NOT_GIVEN
    assert copy.deepcopy([NOT_GIVEN])[0] is NOT_GIVEN
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(NOT_GIVEN, protocol=protocol)) is NOT_GIVEN


def test_not_given_is_false_and_shown_by_its_name() -> None:
    assert bool(NOT_GIVEN) is False
    assert not NOT_GIVEN
    assert repr(NOT_GIVEN) == "NOT_GIVEN"
    assert str(NOT_GIVEN) == "NOT_GIVEN"
    assert repr({"timeout": NOT_GIVEN}) == "{'timeout': NOT_GIVEN}"
