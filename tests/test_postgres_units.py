"""The parts of the PostgreSQL journal (telnyx_messages._postgres) one at a time, against the real
server the tests start (tests/support/postgres.py) where they reach the database: what the other
PostgreSQL tests reach only through a whole campaign, or not at all."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest
from telnyx_messages import _postgres

from .support.postgres import postgres_server, postgres_url

__all__ = ["postgres_server", "postgres_url"]  # the fixtures, used by the tests below


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/db", True),
        ("postgres://u@h/db", True),
        ("PostgreSQL://u@h/db", True),
        ("POSTGRES://h", True),
        ("postgresql:relative.db", False),  # a file name with a colon, no authority
        ("postgresqlx://h/db", False),
        ("xpostgres://h/db", False),
        ("sqlite:///x.db", False),
        ("journal.db", False),
        ("", False),
    ],
)
def test_a_postgres_url_is_told_from_a_file_name(given: str, expected: bool) -> None:
    assert _postgres.is_postgres_url(given) is expected


def test_a_path_object_is_a_file_even_when_it_reads_like_a_url() -> None:
    assert _postgres.is_postgres_url(PurePosixPath("postgresql://h/db")) is False


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://alice:s3cret@db.example:5432/j", "postgresql://alice:***@db.example:5432/j"),
        ("postgresql://alice:p@ss@db.example/j?sslmode=require", "postgresql://alice:***@db.example/j?sslmode=require"),
        ("postgresql://alice@db.example/j", "postgresql://alice@db.example/j"),
        ("postgresql://db.example/j", "postgresql://db.example/j"),
        ("postgresql://:s3cret@db.example/j", "postgresql://:***@db.example/j"),
    ],
)
def test_a_url_is_named_without_its_password(url: str, shown: str) -> None:
    assert _postgres.redacted(url) == shown
