"""Pull the Messages spec and pin it by sha256.

    python tools/spec.py pull   SOURCE   # fetch into openapi/messages.yml, verify against the lock
    python tools/spec.py update SOURCE [RECORDED_SOURCE]   # fetch, print what changed, re-pin the lock

SOURCE is a URL or a local path; RECORDED_SOURCE, what the lock names as the source (the upstream
URL when SOURCE is a mirror of it). The lock (openapi/messages.lock.json) is the committed record of
the pinned document: where it came from, its sha256, its title and version.
"""

from __future__ import annotations

import hashlib
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "messages.yml"
LOCK = ROOT / "openapi" / "messages.lock.json"


def fetch(source: str) -> bytes:
    if "://" in source:
        with urllib.request.urlopen(source, timeout=60) as response:
            return bytes(response.read())
    return Path(source).read_bytes()


def describe(content: bytes) -> dict[str, str]:
    info = yaml.safe_load(content).get("info", {})
    return {"title": str(info.get("title", "")), "version": str(info.get("version", ""))}


def read_lock() -> dict[str, str]:
    return dict(json.loads(LOCK.read_text())) if LOCK.exists() else {}


def pull(source: str) -> int:
    content = fetch(source)
    digest = hashlib.sha256(content).hexdigest()
    lock = read_lock()
    if lock.get("sha256") != digest:
        pulled = describe(content)
        print(
            f"spec: sha256 mismatch for {source}\n"
            f"  pinned: {lock.get('sha256', '(no lock)')}  {lock.get('title')} {lock.get('version')}"
            f"  (from {lock.get('source')})\n"
            f"  pulled: {digest}  {pulled['title']} {pulled['version']}\n"
            f"The upstream document changed. To review and accept it:\n"
            f"  make spec-update SPEC_URL={source}",
            file=sys.stderr,
        )
        return 1
    if not SPEC.exists() or SPEC.read_bytes() != content:
        SPEC.write_bytes(content)
    print(f"spec: {SPEC.relative_to(ROOT)} matches the lock ({digest[:12]}, {lock['title']} {lock['version']})")
    return 0


def _summary(document: dict[str, Any]) -> tuple[set[str], set[str]]:
    operations = {
        str(op["operationId"])
        for item in document.get("paths", {}).values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }
    schemas = set(document.get("components", {}).get("schemas", {}))
    return operations, schemas


def update(source: str, recorded_source: str | None = None) -> int:
    content = fetch(source)
    digest = hashlib.sha256(content).hexdigest()
    old = yaml.safe_load(SPEC.read_bytes()) if SPEC.exists() else {}
    new = yaml.safe_load(content)
    (old_ops, old_schemas), (new_ops, new_schemas) = _summary(old), _summary(new)
    for label, added, removed in (
        ("operations", new_ops - old_ops, old_ops - new_ops),
        ("schemas", new_schemas - old_schemas, old_schemas - new_schemas),
    ):
        for name in sorted(added):
            print(f"  + {label[:-1]} {name}")
        for name in sorted(removed):
            print(f"  - {label[:-1]} {name}")
    lock = {"source": recorded_source or source, "sha256": digest, **describe(content)}
    LOCK.write_text(json.dumps(lock, indent=2) + "\n")
    # Written after the lock, so that make sees the pulled copy as up to date.
    SPEC.write_bytes(content)
    print(f"spec: pinned {digest[:12]} ({lock['title']} {lock['version']}) from {source}")
    return 0


def main(argv: list[str]) -> int:
    if argv[1:2] == ["pull"] and len(argv) == 3:
        return pull(argv[2])
    if argv[1:2] == ["update"] and len(argv) in (3, 4):
        return update(argv[2], argv[3] if len(argv) == 4 else None)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
