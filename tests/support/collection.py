"""The suite's test ids, from one `pytest --collect-only -m "not slow"` run (as `make test FAST=1`
selects) per session, for the tests about the suite itself: every test collected, and which of them
the marker leaves out. This module is also the pytest plugin (`-p tests.support.collection`) that
writes them down in that run. And which tests read the spec (spec_reading_tests), told from their
source: those tests/test_spec_changes.py reruns under a later document.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import attrs

from . import ROOT, background

_REPORT = "TELNYX_MESSAGES_COLLECTION_REPORT"
_DESELECTED: list[str] = []


@attrs.frozen
class Collected:
    selected: tuple[str, ...]  # by `-m "not slow"`
    deselected: tuple[str, ...]  # the slow ones

    @property
    def every(self) -> tuple[str, ...]:
        return self.selected + self.deselected


def _collect(directory: Path) -> Collected:
    report = directory / "collection.json"
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    command += ["-p", "tests.support.collection", "-m", "not slow", "tests"]
    env = {**os.environ, _REPORT: str(report)}
    result = background.run(command, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    written = json.loads(report.read_text())
    return Collected(tuple(written["selected"]), tuple(written["deselected"]))


# Once per session, shared by the xdist workers (the tests that ask for it are on either), started in
# the background once a test marked with it is selected (tests/conftest.py).
COLLECTION = background.Job("collection", _collect)


def collected() -> Collected:
    """Every test of tests/, and which `-m "not slow"` selects; collected in a subprocess once per session."""
    return COLLECTION.result()


# --- the plugin, in the collecting run ------------------------------------------------------


def pytest_deselected(items: list[Any]) -> None:
    _DESELECTED.extend(item.nodeid for item in items)


def pytest_collection_finish(session: Any) -> None:
    if path := os.environ.get(_REPORT):
        selected = [item.nodeid for item in session.items]
        Path(path).write_text(json.dumps({"selected": selected, "deselected": _DESELECTED}))


# --- which tests read the spec ----------------------------------------------------------------
# tests/test_spec_changes.py reruns, under a later document, the tests that read the spec under test or
# what is generated from it: only such a test can hold a fact of the spec, and so break on a document
# that changes it. The others call the client by its stable names alone, on loopback servers that
# answer what the test gives them. A test reads the spec if it (its body, decorators and parameters),
# or anything of its module it uses (a helper, a constant, a fixture, transitively), or its module's
# `pytestmark` or an autouse fixture of its module:
# - imports one of SPEC_MODULES, or a module of tests/support/ that does (but NOT_SPEC_READERS), or
#   names one of SPEC_MODULES in a string (a program run in a subprocess);
# - asks for one of SPEC_FIXTURES;
# - uses one of INTROSPECTION, which read what the client shows of itself.
SPEC_MODULES = (
    "tests.support.spec",  # the spec under test and the cases made from it
    "tests.support.contract",  # the schema walker
    "telnyx_messages._api",  # the generated package
    "telnyx_messages.testing",  # the fake, which reads the spec the generated package ships
    "telnyx_messages.cli",  # its commands and options are the generated methods, its help the spec's text
    "telnyx_messages.receiver",  # delivery statuses and their order are the spec's delivery update's
)
# The spec, Prism serving it, and the type checkers' runs, which check programs against the generated
# package.
SPEC_FIXTURES = frozenset({"spec", "prism", "type_checked", "pyright_checked"})
# Signatures, type hints, help and docstrings, completions, the names a module lists and the webhook
# event types: all generated from the spec.
INTROSPECTION = frozenset({"inspect", "get_type_hints", "pydoc", "help", "jedi", "dir", "__all__", "EVENT_TYPES"})
# The modules of tests/support/ that import one of SPEC_MODULES but read no spec themselves: a test
# that uses them reads the spec only through what it gives them.
NOT_SPEC_READERS = frozenset(
    {
        "tests.support.generation",  # generates the client from the document it is given
        "tests.support.typecheck",  # runs the type checkers (asked for through SPEC_FIXTURES)
    }
)
_SPEC_TEXT = re.compile(r"(?<![\w.])(?:" + "|".join(re.escape(m) for m in SPEC_MODULES) + r")(?![\w])")


def _is_spec_module(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in SPEC_MODULES)


def _import_bindings(node: ast.AST, package: str = "tests") -> list[tuple[str, str]]:
    """(the name bound, the module or module.name it stands for) of an import statement in `package`."""
    if isinstance(node, ast.Import):
        return [
            (alias.asname or alias.name.split(".")[0], alias.name if alias.asname else alias.name.split(".")[0])
            for alias in node.names
        ]
    if isinstance(node, ast.ImportFrom):
        base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
        module = ".".join([*base, *([node.module] if node.module else [])])
        return [(alias.asname or alias.name, f"{module}.{alias.name}") for alias in node.names]
    return []


def _imports_from(node: ast.AST, modules: frozenset[str], package: str = "tests") -> bool:
    """Whether an import statement binds a name to one of SPEC_MODULES (or what is in one), or to one
    of `modules` (or what is in one)."""
    for _, name in _import_bindings(node, package):
        if _is_spec_module(name) or name in modules or name.rsplit(".", 1)[0] in modules:
            return True
    return False


def _dotted(node: ast.AST) -> str | None:
    """`a.b.c` for the expression a.b.c, `a` for a name; None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (base := _dotted(node.value)) is not None:
        return f"{base}.{node.attr}"
    return None


def _fixtures_asked(node: ast.AST) -> list[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        arguments = node.args
        return [a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]]
    if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "usefixtures":
        return [str(argument.value) for argument in node.args if isinstance(argument, ast.Constant)]
    return []


@attrs.frozen
class _Statement:
    """A statement of a module's top level: the names it binds, the names it uses, the fixtures it
    asks for, and whether it reads the spec by itself."""

    binds: frozenset[str]
    uses: frozenset[str]
    asks: frozenset[str]
    direct: bool


def _bound(statement: ast.stmt) -> set[str]:
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {statement.name}
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return {name for name, _ in _import_bindings(statement)}
    return {n.id for n in ast.walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _statement(statement: ast.stmt, support_readers: frozenset[str]) -> _Statement:
    uses: set[str] = set()
    asks: set[str] = set()
    direct = False
    for node in ast.walk(statement):
        asks.update(_fixtures_asked(node))
        if isinstance(node, ast.Import | ast.ImportFrom):
            direct = direct or _imports_from(node, support_readers)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            direct = direct or bool(_SPEC_TEXT.search(node.value))
        elif isinstance(node, ast.Name):
            uses.add(node.id)
            direct = direct or node.id in INTROSPECTION
        elif isinstance(node, ast.Attribute):
            direct = direct or node.attr in INTROSPECTION
        if (dotted := _dotted(node)) is not None and _is_spec_module(dotted):
            direct = True  # telnyx_messages.testing.FakeTelnyx, after `import telnyx_messages.testing`
    return _Statement(frozenset(_bound(statement)), frozenset(uses), frozenset(asks), direct)


def _is_fixture(statement: ast.stmt, *, autouse: bool = False) -> bool:
    if not isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    for decorator in statement.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        if (_dotted(call.func if call else decorator) or "").endswith("fixture"):
            return not autouse or any(
                k.arg == "autouse" and isinstance(k.value, ast.Constant) and k.value.value is True
                for k in (call.keywords if call else [])
            )
    return False


def _readers(module: ast.Module, known: frozenset[str]) -> set[str]:
    """The names of a module's top level bound by a statement that reads the spec; `known`: the
    modules, and module.name, elsewhere in tests/ that do."""
    statements = [_statement(s, known) for s in module.body]
    readers: set[str] = set()
    changed = True
    while changed:
        changed = False
        for s in statements:
            if not s.binds <= readers and (s.direct or s.uses & readers or s.asks & (SPEC_FIXTURES | readers)):
                readers |= s.binds
                changed = True
    return readers


def spec_readers_in(source: str, known: frozenset[str] = frozenset()) -> list[str]:
    """The tests of a module (its source) that read the spec, as pytest names them after the module's
    path: `test_x`, or `TestX` for a class of tests (all of it); `known` as _readers takes it."""
    module = ast.parse(source)
    readers = _readers(module, known)
    tests = [s for s in module.body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
    tests = [s for s in tests if s.name.startswith("test_" if not isinstance(s, ast.ClassDef) else "Test")]
    everything = "pytestmark" in readers or any(_is_fixture(s, autouse=True) and s.name in readers for s in module.body)
    return [s.name for s in tests if everything or s.name in readers]


def support_readers() -> frozenset[str]:
    """The modules of tests/support/ that read the spec: those that import one of SPEC_MODULES, or
    such a module of tests/support/, but NOT_SPEC_READERS."""
    sources = {f"tests.support.{p.stem}": ast.parse(p.read_text()) for p in (ROOT / "tests" / "support").glob("*.py")}
    readers: set[str] = set(m for m in sources if _is_spec_module(m))
    changed = True
    while changed:
        changed = False
        for name, tree in sources.items():
            if name in readers or name in NOT_SPEC_READERS:
                continue
            for node in ast.walk(tree):
                if _imports_from(node, frozenset(readers), "tests.support"):
                    readers.add(name)
                    changed = True
                    break
    return frozenset(readers)


# Readers of the spec left out: test_spec_changes.py, which makes the later document, and the
# pipeline's, which compares a generation from the spec under test with the package built from the pin.
NOT_UNDER_A_LATER_DOCUMENT = frozenset({"test_spec_changes.py", "test_pipeline.py"})


@functools.cache
def spec_reading_tests() -> tuple[str, ...]:
    """The tests run under a later document, as pytest node ids from the project's root
    (`tests/test_x.py::test_y`, every parametrisation of it); read once per process, when asked, and
    kept under build/ by a hash of the sources of tests/ (2-3 s of CPU to read; the suite's processes
    each ask, and each session)."""
    sources = {path: path.read_bytes() for path in sorted((ROOT / "tests").rglob("*.py"))}
    digest = hashlib.sha256()
    for path, source in sources.items():
        digest.update(f"\0{path.relative_to(ROOT).as_posix()}\0".encode() + source)
    kept = ROOT / "build" / "spec-reading-tests" / f"{digest.hexdigest()}.json"
    if kept.exists():
        return tuple(json.loads(kept.read_text()))
    chosen = _spec_reading_tests()
    kept.parent.mkdir(parents=True, exist_ok=True)
    # Written whole elsewhere, then renamed: a process beside this one reads all of it or none.
    with tempfile.NamedTemporaryFile("w", dir=kept.parent, suffix=".tmp", delete=False) as written:
        json.dump(chosen, written)
    os.replace(written.name, kept)
    for earlier in kept.parent.glob("*.json"):  # those of the sources before an edit
        if earlier != kept:
            earlier.unlink(missing_ok=True)
    return chosen


def _spec_reading_tests() -> tuple[str, ...]:
    modules = {path: ast.parse(path.read_text()) for path in sorted((ROOT / "tests").glob("test_*.py"))}
    # A test module may use what another defines (`from .test_cli import run`): its readers count.
    known = support_readers()
    while True:
        found = frozenset(
            f"tests.{path.stem}.{name}" for path, tree in modules.items() for name in _readers(tree, known)
        )
        if found <= known:
            break
        known |= found
    chosen = []
    for path in modules:
        if path.name not in NOT_UNDER_A_LATER_DOCUMENT:
            module = path.relative_to(ROOT).as_posix()
            chosen += [f"{module}::{name}" for name in spec_readers_in(path.read_text(), known)]
    return tuple(chosen)
