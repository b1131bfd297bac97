"""The spec pipeline (tools/spec.py) run on a lock, a pulled copy and a store of a test's own."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import ROOT


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class Workspace:
    """A lock, a pulled copy and a store of our own, so that no test touches the project's."""

    def __init__(self, root: Path, pinned: bytes, package_version: str = "1.4.2") -> None:
        self.lock, self.pulled, self.store = root / "lock.json", root / "messages.yml", root / "store"
        self.store.mkdir(parents=True)
        self.pinned = pinned
        lock = {"source": "https://upstream.invalid/messages.yml", "sha256": sha256_of(pinned)}
        lock |= {"title": "t", "version": "v", "package_version": package_version}
        self.lock.write_text(json.dumps(lock))

    def stock(self, content: bytes) -> None:
        (self.store / f"{sha256_of(content)}.yml").write_bytes(content)

    def command(self, *args: str) -> list[str]:
        """tools/spec.py with `args`, on this workspace (run from the project's root)."""
        command = [sys.executable, "tools/spec.py", "--lock", str(self.lock), "--pulled", str(self.pulled)]
        return [*command, "--store", str(self.store), *args]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(*args), cwd=ROOT, capture_output=True, text=True)

    def read_lock(self) -> dict[str, Any]:
        return dict(json.loads(self.lock.read_text()))
