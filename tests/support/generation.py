"""Generating the client into a scratch directory, with the command `make generate` runs."""

from __future__ import annotations

from pathlib import Path

from generate import generate


def generated_package(spec: Path, into: Path) -> Path:
    """The package generated from `spec` under `into`; fails the test with the generator's output."""
    package = into / "telnyx_messages_api"
    result = generate(spec, package)
    assert result.returncode == 0, result.stdout + result.stderr
    return package
