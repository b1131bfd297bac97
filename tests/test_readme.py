"""The README, for users: its Python examples type-check under mypy --strict and Pyright (pinned in
tools/package.json) and run against Prism; its sections, length and one performance table."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .support import ROOT, typecheck
from .support.typecheck import Checked

EXAMPLES = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
# Type-checked with the suite's other programs, in its one mypy and one Pyright run.
PROGRAMS = [typecheck.program(f"readme_example_{index}", code) for index, code in enumerate(EXAMPLES)]


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("readme")
    paths = []
    for index, code in enumerate(EXAMPLES):
        path = folder / f"example_{index}.py"
        path.write_text(code)
        paths.append(path)
    return paths


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 2


def test_examples_pass_mypy_strict(type_checked: Checked) -> None:
    for name in PROGRAMS:
        assert type_checked.errors(name) == [], type_checked.report(name)


def test_examples_pass_pyright(pyright_checked: Checked) -> None:
    for name in PROGRAMS:
        assert pyright_checked.errors(name) == [], pyright_checked.report(name)


# Runs each example given as `python EXAMPLE` would, each in a process of its own: forked from one that has
# imported telnyx_messages (what every example imports), so that the package is imported once, not once an
# example (an interpreter's start and that import were most of this test's CPU). Each child runs its file
# as __main__ in a namespace of its own, its directory first on sys.path, its output to EXAMPLE.out and
# EXAMPLE.err; at most 60 s each (SIGALRM ends it). Prints each example's exit status, as JSON.
RUN_EACH = """
import json, os, runpy, signal, sys, traceback
import telnyx_messages

statuses = []
for path in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            with open(path + ".out", "wb", 0) as out, open(path + ".err", "wb", 0) as err:
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
            signal.alarm(60)
            sys.argv[:] = [path]
            sys.path[0] = os.path.dirname(path)
            runpy.run_path(path, run_name="__main__")
            code = 0
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else (exit.code is not None)
            if not isinstance(exit.code, int | None):
                print(exit.code, file=sys.stderr)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    statuses.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
print(json.dumps(statuses))
"""


def test_examples_run_against_prism(examples: list[Path], prism: str) -> None:
    env = {**os.environ, "TELNYX_API_KEY": "any", "TELNYX_BASE_URL": prism}
    command = [sys.executable, "-c", RUN_EACH, *map(str, examples)]
    run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60 * len(examples))
    assert run.returncode == 0, run.stderr
    statuses = json.loads(run.stdout)
    assert len(statuses) == len(examples)
    for path, status in zip(examples, statuses, strict=True):
        assert status == 0, f"{path.name}: {Path(f'{path}.err').read_text()}"
    (usage,) = [path for path, code in zip(examples, EXAMPLES, strict=True) if "show(message)" in code]
    output = Path(f"{usage}.out").read_text()
    assert "cost: 0.0051 USD" in output and "True {" in output


def test_the_readme_is_for_users_with_one_performance_table() -> None:
    from .support import ROOT

    readme = (ROOT / "README.md").read_text()
    sections = [line for line in readme.splitlines() if line.startswith("## ")]
    assert sections == ["## Quick start", "## Usage", "## Testing your code", "## Developing"]
    for needed in ("### Errors", "exactly once", "### Webhooks", "### Command line", "### Coming from the official"):
        assert needed in readme
    # The first screen: what it is, then the Quick start; no internals.
    first_screen = readme.split("\n## Usage\n", 1)[0]
    assert len(first_screen.splitlines()) <= 45
    for internal in ("msgspec", "httpx 0.2", "quadratic", "MiB", "benchmark", "Prism", "generat"):
        assert internal not in first_screen, internal
    # The user's part reads in about ten minutes; internals, history and figures live elsewhere.
    users_part = readme.split("\n## Developing\n", 1)[0]
    assert len(users_part.split()) <= 2600 and len(readme.split()) <= 3000
    assert "Measured 2026-" not in readme and "x raw httpx2" not in readme
    developing = readme.split("\n## Developing\n", 1)[1]
    assert len(developing.splitlines()) <= 25
    linked = ["docs/developing.md", "docs/internals.md", "docs/testing.md", "docs/spec-updates.md", "bench/README.md"]
    for path in linked:
        assert f"]({path})" in developing and (ROOT / path).exists(), path
    # The one performance table: bench/README.md's current figures.
    current = (ROOT / "bench" / "README.md").read_text().split("\n## Current figures\n", 1)[1].split("\n## ", 1)[0]
    tables = [block for block in current.split("\n\n") if block.lstrip().startswith("| ")]
    assert len(tables) == 1 and "x raw httpx2" in tables[0]
