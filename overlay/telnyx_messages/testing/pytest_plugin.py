"""The pytest plugin of telnyx_messages.testing (registered as an entry point): the fixtures
`telnyx_fake` and `async_telnyx_fake`, each a fresh FakeTelnyx for one test. Importing this module
costs nothing until a test asks for a fixture."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ._fake import FakeTelnyx


@pytest.fixture
def telnyx_fake() -> Iterator[FakeTelnyx]:
    """A FakeTelnyx: `telnyx_fake.client()` is a Telnyx on it."""
    from . import FakeTelnyx

    yield FakeTelnyx()


@pytest.fixture
def async_telnyx_fake() -> Iterator[FakeTelnyx]:
    """A FakeTelnyx for an async test: `async_telnyx_fake.async_client()` is an AsyncTelnyx on it."""
    from . import FakeTelnyx

    yield FakeTelnyx()
