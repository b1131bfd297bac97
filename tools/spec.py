"""Pull the Messages spec by its pin, and move the pin when upstream moves.

    python tools/spec.py pull   [--upstream SOURCE] [--store STORE]
    python tools/spec.py update SOURCE [--recorded-source URL] [--store STORE]
    python tools/spec.py check  SOURCE --report FILE [--store STORE]

The lock (openapi/messages.lock.json) is the committed record of the pinned document: where it came
from, its sha256, its title and version, and the package version built from it. Upstream serves
only its latest document, so the pinned bytes are taken by sha256 from, in turn: the pulled copy
(openapi/messages.yml), STORE (a directory or URL prefix holding `<sha256>.yml`), and upstream,
accepted only when the hash matches.

`update` and `check` diff SOURCE against the pinned document with Redocly CLI and classify every
change twice: Redocly's verdict (written for strict clients) and what it means for this package,
whose response enums are tolerant and whose methods are generated from the spec.
`check` exits 0 when SOURCE is the pinned document, 10 when every change is harmless here, 20 when
any needs a review or breaks callers, and writes the changelog as Markdown to FILE.
"""

from __future__ import annotations

import argparse
import enum
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import yaml
from spec_refs import RefError, pointer_parts, resolve  # tools/ is on the path, as this script's folder

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "messages.yml"
LOCK = ROOT / "openapi" / "messages.lock.json"
REDOCLY = ROOT / "tools" / "node_modules" / ".bin" / "redocly"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

EXIT_UNCHANGED, EXIT_HARMLESS, EXIT_REVIEW = 0, 10, 20


class SpecError(Exception):
    """A failure this tool explains in its message; main() prints it and exits 1."""


# --- reading documents --------------------------------------------------------------------------


def read_source(source: str) -> bytes:
    if "://" in source:
        with urllib.request.urlopen(source, timeout=60) as response:
            return bytes(response.read())
    return Path(source).read_bytes()


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def describe(content: bytes) -> dict[str, str]:
    info = yaml.safe_load(content).get("info", {})
    return {"title": str(info.get("title", "")), "version": str(info.get("version", ""))}


def read_lock(lock: Path) -> dict[str, str]:
    return dict(json.loads(lock.read_text())) if lock.exists() else {}


def store_entry(store: str, digest: str) -> str:
    return f"{store.rstrip('/')}/{digest}.yml"


def pinned_document(lock: Path, pulled: Path, store: str | None, upstream: str | None) -> bytes:
    """The bytes whose sha256 the lock names, from the first place that holds them."""
    pinned = read_lock(lock).get("sha256")
    if not pinned:
        raise SpecError(f"spec: {lock} names no pinned document; `make spec-update SPEC_URL=...` pins one")
    places = [str(pulled)]
    if store:
        places.append(store_entry(store, pinned))
    if upstream:
        places.append(upstream)
    looked: list[str] = []
    for place in places:
        try:
            content = read_source(place)
        except OSError as exc:  # a missing file, or an unreachable URL (URLError is an OSError)
            looked.append(f"{place}: {type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}")
            continue
        if sha256(content) == pinned:
            return content
        looked.append(f"{place}: holds another document ({sha256(content)[:12]}, {_title(content)})")
    raise SpecError(
        f"spec: no place holds the pinned document {pinned}\n"
        + "".join(f"  looked in {line}\n" for line in looked)
        + "To build this pin, put the document at "
        + (store_entry(store, pinned) if store else "SPEC_STORE/<sha256>.yml")
        + " (SPEC_STORE=<directory or URL prefix> names another store);\n"
        + "to move to what upstream serves now: make spec-update"
    )


def _title(content: bytes) -> str:
    try:
        info = describe(content)
    except yaml.YAMLError:
        return "not YAML"
    return f"{info['title']} {info['version']}".strip()


def put_in_store(store: str | None, content: bytes) -> str | None:
    """Keep a newly pinned document where the next clone looks for it; the path, if written."""
    if not store or "://" in store or not os.path.isdir(store):
        return None
    entry = Path(store_entry(store, sha256(content)))
    if entry.exists() and entry.read_bytes() == content:
        return str(entry)
    try:
        entry.write_bytes(content)
    except OSError:
        return None
    return str(entry)


# --- classifying changes ------------------------------------------------------------------------


class Effect(enum.IntEnum):
    """What a change means for this package's users, from least to most."""

    HARMLESS = 0
    REVIEW = 1
    BREAKS = 2

    @property
    def label(self) -> str:
        return {0: "harmless here", 1: "needs a review", 2: "breaks callers"}[self.value]


class Bump(enum.IntEnum):
    NONE = 0
    PATCH = 1
    MINOR = 2
    MAJOR = 3


@attrs.frozen
class Change:
    where: str
    message: str
    redocly: str  # Redocly CLI's impact: major, minor or patch
    effect: Effect
    bump: Bump  # what this change alone asks of the package version

    def line(self) -> str:
        return f"[redocly {self.redocly}; {self.effect.label}] {self.where}: {self.message}"


def _side(path: str) -> str:
    if "/requestBody/" in path or "/parameters/" in path:
        return "request"
    if path.startswith("#/webhooks/") or "/responses/" in path:
        return "response"  # a webhook is read by this package like a response
    return "other"


def _where(path: str, revision: dict[str, Any], base: dict[str, Any]) -> str:
    """A readable place for a JSON pointer: `POST /messages (SendMessage) response 200 data.cc`."""
    parts = pointer_parts(path)
    if parts[0] == "components" and len(parts) >= 3:
        return f"{parts[1]} {'.'.join(p for p in parts[2:] if p not in {'properties', 'items'})}"
    if parts[0] in {"paths", "webhooks"} and len(parts) >= 2:
        head = parts[1] if parts[0] == "paths" else f"webhook {parts[1]}"
        if len(parts) >= 3 and parts[2] in HTTP_METHODS:
            operation = (revision.get(parts[0], {}).get(parts[1], {}) or base.get(parts[0], {}).get(parts[1], {})).get(
                parts[2], {}
            )
            head = f"{parts[2].upper()} {head}"
            if isinstance(operation, dict) and "operationId" in operation:
                head += f" ({operation['operationId']})"
        rest = parts[3:]
        if rest[:1] == ["requestBody"]:
            rest = ["request", *rest[3:]]  # requestBody/content/<type>
        elif rest[:1] == ["responses"] and len(rest) >= 2:
            rest = [f"response {rest[1]}", *rest[4:]]  # responses/<code>/content/<type>
        rest = [p for p in rest if p not in {"schema", "properties", "items"}]
        return " ".join([head, *rest[:1], ".".join(rest[1:])]).strip()
    return "/".join(parts)


def method_of(operation_id: str) -> str:
    """The method an operation gets: the naming table's name, else the generator's snake case."""
    from generate import method_names  # tools/ is on the path, as this script's folder
    from openapi_python_client.strings import PythonIdentifier

    return "client.messages." + (method_names().get(operation_id) or str(PythonIdentifier(operation_id, "field")))


def _operations_of(path_item: Any, added: bool) -> list[str]:
    if not isinstance(path_item, dict):
        return []
    return [
        f"{method.upper()} ({operation.get('operationId', 'no operationId')}"
        + (
            f"; new method: {method_of(str(operation['operationId']))})"
            if added and "operationId" in operation
            else ")"
        )
        for method, operation in path_item.items()
        if method in HTTP_METHODS and isinstance(operation, dict)
    ]


def _parameters_at(document: dict[str, Any], path: str) -> dict[tuple[str, str], bool]:
    """The parameters of the operation a `.../parameters` pointer is in, as {(in, name): required},
    their $refs followed: what Redocly reports as a parameter list, named."""
    parts = pointer_parts(path)
    if len(parts) < 4 or parts[0] != "paths" or parts[2] not in HTTP_METHODS:
        return {}
    operation = (document.get("paths", {}).get(parts[1]) or {}).get(parts[2]) or {}
    found = {}
    for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
        try:
            parameter = resolve(document, parameter)
        except RefError:
            continue  # a ref that leads nowhere names no parameter
        if isinstance(parameter, dict) and "name" in parameter:
            found[(str(parameter.get("in")), str(parameter["name"]))] = bool(parameter.get("required"))
    return found


def classify(change: dict[str, Any], base_doc: dict[str, Any], revision_doc: dict[str, Any]) -> list[Change]:
    """One Redocly change as this package reads it. The rules, in order:
    - a component alone changes nothing (its uses are reported at the operations that use it);
    - an operation or webhook added is a new method or event; removed, a method gone;
    - a field added is harmless unless it is a new required request field; removed, it breaks callers;
    - an enum that gains values is harmless (response enums are tolerant, request enums accept more);
      one that loses them breaks callers on the request side and needs a review on the response side;
    - a new null in a response is read as absent; other type, format or nullability changes need a review;
    - text (descriptions, summaries, examples) is harmless and a patch."""
    path: str = change["path"]
    kind: str = change["kind"]
    type_name: str = change["typeName"]
    prop: str | None = change.get("property")
    redocly: str = change["impact"]
    side = _side(path)
    verdicts = [str(v["message"]) for v in change.get("verdicts", [])]
    where = _where(path, revision_doc, base_doc)

    def made(message: str, effect: Effect, bump: Bump) -> list[Change]:
        return [Change(where, message, redocly, effect, bump) for message in (verdicts or [message])]

    if path.startswith("#/components/"):
        return made(f"{type_name.lower()} {kind}", Effect.HARMLESS, Bump.PATCH if kind != "modified" else Bump.NONE)
    if type_name in {"PathItem", "Operation"} and kind in {"added", "removed"}:
        part = change.get("revision" if kind == "added" else "base", {}).get("value")
        # A path item holds operations by method; an operation added to a path there before is one.
        held = part if type_name == "PathItem" else {path.rsplit("/", 1)[-1]: part}
        operations = _operations_of(held, kind == "added")
        message = f"{'operation' if not operations else 'operations ' + ', '.join(operations)} {kind}"
        if kind == "added":
            return [Change(where, message, redocly, Effect.HARMLESS, Bump.MINOR)]
        return [Change(where, message, redocly, Effect.BREAKS, Bump.MAJOR)]
    if type_name == "WebhooksMap" or (path.startswith("#/webhooks/") and path.count("/") == 2):
        names = sorted(set(revision_doc.get("webhooks") or {}) ^ set(base_doc.get("webhooks") or {}))
        message = f"webhooks {kind}: {', '.join(names)}" if names else f"webhook {kind}"
        added = kind == "added"
        return [
            Change(
                where,
                message,
                redocly,
                Effect.HARMLESS if added else Effect.BREAKS,
                Bump.MINOR if added else Bump.MAJOR,
            )
        ]
    if type_name == "Schema" and kind == "added":
        required_request = side == "request" and redocly == "major"
        effect = Effect.BREAKS if required_request else Effect.HARMLESS
        return made(
            f"field {where.rsplit('.', 1)[-1].rsplit(' ', 1)[-1]} added",
            effect,
            Bump.MAJOR if required_request else Bump.MINOR,
        )
    if type_name == "Schema" and kind == "removed":
        return made("field removed", Effect.BREAKS, Bump.MAJOR)
    if type_name in {"ParameterList", "Parameter"} and kind == "added" and "/parameters" in path:
        before, after = _parameters_at(base_doc, path), _parameters_at(revision_doc, path)
        added = sorted(set(after) - set(before))
        if added:
            required = [key for key in added if after[key]]
            named = ", ".join(
                f"{where} parameter {name}{' (required)' if after[(where, name)] else ''}" for where, name in added
            )
            return [
                Change(
                    where,
                    f"{named} added",
                    redocly,
                    Effect.BREAKS if required else Effect.HARMLESS,
                    Bump.MAJOR if required else Bump.MINOR,
                )
            ]
    if type_name in {"Parameter", "RequestBody"} and kind in {"added", "removed"}:
        breaks = kind == "removed" or redocly == "major"
        return made(
            f"{type_name.lower()} {kind}",
            Effect.BREAKS if breaks else Effect.HARMLESS,
            Bump.MAJOR if breaks else Bump.MINOR,
        )
    if type_name == "Response" and kind in {"added", "removed"}:
        code = path.rsplit("/", 1)[-1]
        success = code.startswith("2")
        if kind == "removed" and success:
            return made(f"response {code} removed", Effect.BREAKS, Bump.MAJOR)
        return made(
            f"response {code} {kind}",
            Effect.REVIEW if success else Effect.HARMLESS,
            Bump.MINOR if success else Bump.PATCH,
        )
    if prop == "enum":
        before = set((change.get("base") or {}).get("value") or [])
        after = set((change.get("revision") or {}).get("value") or [])
        lost, gained = sorted(before - after), sorted(after - before)
        message = "; ".join(
            text
            for text in (f"gained {', '.join(gained)}" if gained else "", f"lost {', '.join(lost)}" if lost else "")
            if text
        )
        if lost:
            effect = Effect.BREAKS if side == "request" else Effect.REVIEW
            return [
                Change(where, f"enum {message}", redocly, effect, Bump.MAJOR if effect is Effect.BREAKS else Bump.MINOR)
            ]
        return [Change(where, f"enum {message}", redocly, Effect.HARMLESS, Bump.MINOR)]
    if prop in {"description", "summary", "example", "examples", "title", "x-format"} or (prop or "").startswith("x-"):
        return made(f"{prop} changed", Effect.HARMLESS, Bump.PATCH)
    if prop == "nullable" and side == "response":
        becomes_nullable = bool((change.get("revision") or {}).get("value"))
        if becomes_nullable:
            return made("may now be null (read as absent)", Effect.HARMLESS, Bump.PATCH)
    if kind == "modified" and prop is not None:
        before = json.dumps((change.get("base") or {}).get("value"))
        after = json.dumps((change.get("revision") or {}).get("value"))
        effect = Effect.BREAKS if side == "request" and redocly == "major" else Effect.REVIEW
        return made(f"`{prop}` {before} -> {after}", effect, Bump.MAJOR if effect is Effect.BREAKS else Bump.MINOR)
    effect = Effect.REVIEW if redocly == "major" else Effect.HARMLESS
    return made(f"{type_name.lower()} {kind}", effect, Bump.MINOR if effect is Effect.REVIEW else Bump.PATCH)


@attrs.frozen
class Changelog:
    old_sha: str
    new_sha: str
    redocly_bump: str
    changes: tuple[Change, ...]

    @property
    def effect(self) -> Effect:
        return max((c.effect for c in self.changes), default=Effect.HARMLESS)

    @property
    def bump(self) -> Bump:
        if self.old_sha == self.new_sha:
            return Bump.NONE
        # Bytes that differ with no change Redocly sees (formatting, key order) still make a new pin.
        return max((c.bump for c in self.changes), default=Bump.PATCH)

    def text(self) -> str:
        lines = [
            f"spec: {len(self.changes)} changes from the pinned document {self.old_sha[:12]} to {self.new_sha[:12]}",
            f"  Redocly CLI rates them a {self.redocly_bump} bump; for this package: {self.effect.label}, "
            f"a {self.bump.name.lower()} version bump",
        ]
        for effect in sorted(Effect, reverse=True):
            group = [c for c in self.changes if c.effect is effect]
            lines.append(f"  {effect.label}: {len(group)}")
            lines += [f"    {c.line()}" for c in group]
        return "\n".join(lines)

    def markdown(self, source: str, new_version: str) -> str:
        lines = [
            f"# Upstream spec changed: {self.old_sha[:12]} -> {self.new_sha[:12]}",
            "",
            f"Source: `{source}`. For this package: **{self.effect.label}**, a **{self.bump.name.lower()}** "
            f"version bump (to {new_version}); Redocly CLI rates it a {self.redocly_bump} bump.",
            "",
            f"To adopt it: `make spec-update SPEC_URL={source}`, review, commit `openapi/messages.lock.json`.",
        ]
        for effect in sorted(Effect, reverse=True):
            group = [c for c in self.changes if c.effect is effect]
            if group:
                lines += ["", f"## {effect.label.capitalize()} ({len(group)})", ""]
                lines += [f"- `{c.where}`: {c.message} (Redocly: {c.redocly})" for c in group]
        return "\n".join(lines) + "\n"


def changelog(old: bytes, new: bytes) -> Changelog:
    """Every change from old to new, as Redocly CLI's `diff` finds them, classified for this package."""
    if not REDOCLY.exists():
        raise SpecError(f"{REDOCLY} is missing: `cd tools && npm ci` installs it")
    with tempfile.TemporaryDirectory() as scratch:
        old_path, new_path = Path(scratch) / "pinned.yml", Path(scratch) / "offered.yml"
        old_path.write_bytes(old)
        new_path.write_bytes(new)
        result = subprocess.run(
            [str(REDOCLY), "diff", str(old_path), str(new_path), "--format=json", "--fail-on=none"],
            capture_output=True,
            text=True,
            env={**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"},
        )
    if result.returncode != 0:
        raise SpecError(f"redocly diff failed ({result.returncode}):\n{result.stderr}")
    report = json.loads(result.stdout)
    base_doc, revision_doc = yaml.safe_load(old), yaml.safe_load(new)
    seen: dict[Change, None] = {}
    for change in report["changes"]:
        for classified in classify(change, base_doc, revision_doc):
            seen.setdefault(classified)
    return Changelog(sha256(old), sha256(new), str(report.get("bump", "none")), tuple(seen))


def bumped(version: str, bump: Bump) -> str:
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", version)
    if match is None:
        raise SpecError(f"package_version {version!r} in the lock is not MAJOR.MINOR.PATCH")
    major, minor, patch = (int(part) for part in match.groups())
    if bump is Bump.MAJOR:
        return f"{major + 1}.0.0"
    if bump is Bump.MINOR:
        return f"{major}.{minor + 1}.0"
    if bump is Bump.PATCH:
        return f"{major}.{minor}.{patch + 1}"
    return version


# --- commands -----------------------------------------------------------------------------------


@attrs.frozen
class Paths:
    lock: Path
    pulled: Path
    store: str | None


def pull(paths: Paths, upstream: str | None) -> int:
    content = pinned_document(paths.lock, paths.pulled, paths.store, upstream)
    if not paths.pulled.exists() or paths.pulled.read_bytes() != content:
        paths.pulled.write_bytes(content)
    lock = read_lock(paths.lock)
    print(
        f"spec: {paths.pulled.name} is the pinned document ({lock['sha256'][:12]}, {lock['title']} {lock['version']})"
    )
    return 0


def _offered(paths: Paths, source: str) -> tuple[bytes, bytes, Changelog]:
    new = read_source(source)
    old = pinned_document(paths.lock, paths.pulled, paths.store, None)
    return old, new, changelog(old, new)


def update(paths: Paths, source: str, recorded_source: str | None) -> int:
    lock = read_lock(paths.lock)
    if lock:
        old, new, log = _offered(paths, source)
        if old == new:
            print(f"spec: {source} is the pinned document ({sha256(new)[:12]}); nothing changed")
            return 0
        print(log.text())
        version = bumped(lock.get("package_version", "0.0.0"), log.bump)
    else:
        new = read_source(source)
        version = "0.1.0"
    new_lock = {
        "source": recorded_source or source,
        "sha256": sha256(new),
        **describe(new),
        "package_version": version,
    }
    paths.lock.write_text(json.dumps(new_lock, indent=2) + "\n")
    # Written after the lock, so that make sees the pulled copy as up to date.
    paths.pulled.write_bytes(new)
    stored = put_in_store(paths.store, new)
    print(
        f"spec: pinned {new_lock['sha256'][:12]} ({new_lock['title']} {new_lock['version']}) from {source}; "
        f"package version {lock.get('package_version', '(none)')} -> {version}"
        + (f"; stored as {stored}" if stored else "; not written to a store (no writable SPEC_STORE directory)")
    )
    return 0


def check(paths: Paths, source: str, report: Path) -> int:
    old, new, log = _offered(paths, source)
    version = read_lock(paths.lock).get("package_version", "0.0.0")
    if old == new:
        report.write_text(f"# Upstream spec unchanged\n\n`{source}` is the pinned document ({sha256(new)[:12]}).\n")
        print(f"spec-check: {source} is the pinned document ({sha256(new)[:12]})")
        return EXIT_UNCHANGED
    report.write_text(log.markdown(source, bumped(version, log.bump)))
    print(log.text())
    print(f"spec-check: changelog written to {report}")
    return EXIT_REVIEW if log.effect > Effect.HARMLESS else EXIT_HARMLESS


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spec.py", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--lock", type=Path, default=LOCK)
    parser.add_argument("--pulled", type=Path, default=SPEC, help="where the pinned document is kept")
    parser.add_argument("--store", default=os.environ.get("SPEC_STORE") or None)
    commands = parser.add_subparsers(dest="command", required=True)
    pull_parser = commands.add_parser("pull")
    pull_parser.add_argument("--upstream", help="tried last, accepted only if its sha256 is the pin")
    update_parser = commands.add_parser("update")
    update_parser.add_argument("source")
    update_parser.add_argument("--recorded-source", help="what the lock names as the source")
    check_parser = commands.add_parser("check")
    check_parser.add_argument("source")
    check_parser.add_argument("--report", type=Path, required=True)
    args = parser.parse_args(argv)
    paths = Paths(lock=args.lock, pulled=args.pulled, store=args.store)
    try:
        if args.command == "pull":
            return pull(paths, args.upstream)
        if args.command == "update":
            return update(paths, args.source, args.recorded_source)
        return check(paths, args.source, args.report)
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
