"""mypy --strict and Pyright on the programs the tests write: one run of each for all of them, not
one per test.

A test module registers its programs when it is imported, `NAME = typecheck.program("name", source)`;
all are imported (collected) before the first test runs. The first test that asks the session fixture
`type_checked` (or `pyright_checked`; tests/conftest.py) for a result type-checks every registered
program in one run, each as its own module `<name>.py`, against the telnyx_messages and
telnyx_messages._api this session imports (on a later document's generated package too,
tests/test_spec_changes.py). mypy analyses the project's own packages once into build/mypy-cache/,
which later runs reuse.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from . import ROOT

CACHE = ROOT / "build" / "mypy-cache"
PYRIGHT = ROOT / "tools" / "node_modules" / ".bin" / "pyright"
_REGISTERED: dict[str, str] = {}
_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def program(name: str, source: str) -> str:
    """Register `source` (a whole program) to be type-checked as the module `name`; returns `name`."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"program name {name!r}: a lower-case module name")
    if _REGISTERED.get(name, source) != source:
        raise ValueError(f"program name {name!r}: registered twice, with different programs")
    _REGISTERED[name] = source
    return name


def package_roots() -> list[Path]:
    """Where the telnyx_messages this process imports lives (its generated telnyx_messages._api inside)."""
    import telnyx_messages

    return [Path(telnyx_messages.__file__ or "").parents[1]]


class Checked:
    """What one mypy run said, by program."""

    def __init__(self, names: list[str], output: str, returncode: int) -> None:
        self.output = output
        self.returncode = returncode
        self._lines: dict[str, list[str]] = {name: [] for name in names}
        self._elsewhere: list[str] = []  # errors outside the programs: in the packages they use
        for line in output.splitlines():
            if ": error: " not in line and ": note: " not in line:
                continue
            name = line.split(".py:", 1)[0]
            self._lines.get(name, self._elsewhere).append(line)
        if returncode not in (0, 1):  # a crash, or a usage error: no program passed
            self._elsewhere.append(f"mypy exited with {returncode}: {output.strip()[-2000:]}")

    def messages(self, name: str) -> list[str]:
        """mypy's errors and notes about the program `name` (`<name>.py:6: error: ...`), and every error
        it found elsewhere (in the packages it imports, or a crash)."""
        return self._lines[name] + [line for line in self._elsewhere if ": note: " not in line]

    def errors(self, name: str) -> list[str]:
        """The error lines of `messages(name)`."""
        return [line for line in self.messages(name) if ": note: " not in line]

    def report(self, name: str) -> str:
        """For an assertion's message."""
        return "\n".join(self.messages(name)) or f"no messages about {name}.py"


def check(programs: Mapping[str, str], directory: Path, roots: list[Path] | None = None) -> Checked:
    """One `mypy --strict` run over `programs` (name -> source), written to `directory`, against the
    packages under `roots` (default: the ones this process imports)."""
    roots = package_roots() if roots is None else roots
    directory.mkdir(parents=True, exist_ok=True)
    for name, source in programs.items():
        (directory / f"{name}.py").write_text(source)
    ours = all(root.is_relative_to(ROOT) for root in roots)
    key = hashlib.sha256(repr(sorted(map(str, roots))).encode()).hexdigest()[:16]
    cache = CACHE / key if ours else directory / ".mypy_cache"  # a scratch package's cache dies with it
    command = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache)]
    command += ["--no-error-summary", "--hide-error-context"]
    command += [f"{name}.py" for name in programs]
    env = {**os.environ, "MYPYPATH": os.pathsep.join(map(str, roots))}
    result = subprocess.run(command, cwd=directory, env=env, capture_output=True, text=True)
    return Checked(list(programs), result.stdout + result.stderr, result.returncode)


def check_registered(directory: Path) -> Checked:
    """Every program registered so far, in one run."""
    return check(dict(_REGISTERED), directory)


def check_pyright(programs: Mapping[str, str], directory: Path, roots: list[Path] | None = None) -> Checked:
    """One Pyright run (pinned in tools/package.json) over `programs`, as check() runs mypy; its
    diagnostics written as mypy writes them (`<name>.py:6: error: ...`, lines from 1)."""
    roots = package_roots() if roots is None else roots
    directory.mkdir(parents=True, exist_ok=True)
    for name, source in programs.items():
        (directory / f"{name}.py").write_text(source)
    (directory / "pyrightconfig.json").write_text(json.dumps({"extraPaths": list(map(str, roots))}))
    command = [str(PYRIGHT), "--outputjson", "--pythonpath", sys.executable, *(f"{name}.py" for name in programs)]
    result = subprocess.run(command, cwd=directory, capture_output=True, text=True)
    try:
        diagnostics = json.loads(result.stdout)["generalDiagnostics"]
    except (ValueError, KeyError):
        return Checked(list(programs), result.stdout + result.stderr, 2)
    lines = []
    for diagnostic in diagnostics:
        path = Path(diagnostic["file"])
        where = path.stem if path.parent == directory.resolve() else str(path.with_suffix(""))
        line = diagnostic["range"]["start"]["line"] + 1
        message = diagnostic["message"].splitlines()[0]
        kind = "error" if diagnostic["severity"] == "error" else "note"
        lines.append(f"{where}.py:{line}: {kind}: {message}")
    return Checked(list(programs), "\n".join(lines), result.returncode)


def check_registered_pyright(directory: Path) -> Checked:
    """Every program registered so far, in one Pyright run."""
    return check_pyright(dict(_REGISTERED), directory)
