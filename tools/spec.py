"""Pull the Messages spec and pin it by sha256.

    python tools/spec.py pull   SOURCE   # fetch into openapi/messages.yml, verify against the lock
    python tools/spec.py update SOURCE [RECORDED_SOURCE]   # fetch, print a classified changelog, re-pin

SOURCE is a URL or a local path; RECORDED_SOURCE, what the lock names as the source (the upstream
URL when SOURCE is a mirror of it). The lock (openapi/messages.lock.json) is the committed record of
the pinned document: where it came from, its sha256, its title and version.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
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


REDOCLY = ROOT / "tools" / "node_modules" / ".bin" / "redocly"


def _where(pointer: str) -> str:
    """A readable place for a JSON pointer into the spec: `Schema.field.sub` or `/path method ...`."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.removeprefix("#/").split("/")]
    if parts[:2] == ["components", "schemas"]:
        return ".".join(p for p in parts[2:] if p not in {"properties", "items"})
    if parts[:1] == ["paths"] and len(parts) > 2:
        return f"{parts[2].upper()} {parts[1]} " + "/".join(parts[3:])
    return "/".join(parts)


def _describe(change: dict[str, Any], base: dict[str, Any], revision: dict[str, Any]) -> str:
    if "property" not in change:
        return f"{change['typeName'].lower()} {change['kind']}"
    before, after = base.get("value", "(none)"), revision.get("value", "(none)")
    return f"`{change['property']}` {json.dumps(before)} -> {json.dumps(after)}"


def changelog(old: Path, new: Path) -> tuple[list[str], list[str], str]:
    """Breaking and non-breaking changes from old to new, as Redocly CLI's `diff` classifies them."""
    if not REDOCLY.exists():
        raise SystemExit(f"{REDOCLY} is missing: `cd tools && npm ci` installs it")
    result = subprocess.run(
        [str(REDOCLY), "diff", str(old), str(new), "--format=json", "--fail-on=none"],
        capture_output=True,
        text=True,
        env={**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"},
    )
    if result.returncode != 0:
        raise SystemExit(f"redocly diff failed ({result.returncode}):\n{result.stderr}")
    report = json.loads(result.stdout)
    breaking: dict[str, None] = {}
    compatible: dict[str, None] = {}
    for change in report["changes"]:
        base, revision = change.get("base", {}), change.get("revision", {})
        pointer = str((revision or base).get("pointer") or change["path"])
        if "property" in change:
            pointer = pointer.removesuffix("/" + change["property"])
        where = _where(pointer)
        messages = [v["message"] for v in change.get("verdicts", [])] or [_describe(change, base, revision)]
        for message in messages:
            line = f"{where}: {message}"
            (breaking if change["impact"] == "major" else compatible).setdefault(line)
    return list(breaking), list(compatible), str(report.get("bump", "none"))


def update(source: str, recorded_source: str | None = None) -> int:
    content = fetch(source)
    digest = hashlib.sha256(content).hexdigest()
    if SPEC.exists() and SPEC.read_bytes() == content:
        print(f"spec: {source} is the pinned document ({digest[:12]}); nothing changed")
    else:
        with tempfile.TemporaryDirectory() as scratch:
            pulled = Path(scratch) / "messages.yml"
            pulled.write_bytes(content)
            breaking, compatible, bump = changelog(SPEC, pulled) if SPEC.exists() else ([], [], "none")
        print(f"spec: changes from the pinned document (Redocly CLI rates them a {bump} bump)")
        for title, lines in (("BREAKING", breaking), ("non-breaking", compatible)):
            print(f"  {title}: {len(lines)}")
            for line in lines:
                print(f"    {line}")
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
