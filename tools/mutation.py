"""Mutation testing of the hand-written package (overlay/telnyx_messages) with mutmut.

    python tools/mutation.py [--max-children N] [MUTANT ...] [--tests FILE ...]

mutmut changes one small thing at a time in every function of the overlay and runs, against each
change, the fast tests that call that function; a change no test notices survives. mutmut reads a
package from src/ only, so the run happens in a workspace, build/mutation/, that lays the project
out that way: src/telnyx_messages is the overlay, the generated package is used as installed (it is
out of scope), and tests/ with what they read (the spec, the templates, tools/) beside it. Results
are kept there, so a second run tests only what changed.

Mutants no behaviour can tell apart from the original are listed, each with its reason, in
tests/mutation-equivalents.txt. Prints each survivor (file:line and the change) and, last,
`mutation: K killed, S survived, E equivalent, T total; score P%` with P = K / (T - E). Given MUTANT
names or globs, it prints and counts only the mutants they select, and says so in that last line.
"""

from __future__ import annotations

import argparse
import difflib
import fnmatch
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# TELNYX_MUTATION_WORKSPACE names another folder, so that runs over different modules can go side by side.
WORKSPACE = Path(os.environ.get("TELNYX_MUTATION_WORKSPACE", ROOT / "build" / "mutation")).resolve()
EQUIVALENTS = ROOT / "tests" / "mutation-equivalents.txt"
PACKAGE = "telnyx_messages"
# Written by hatchling at install time, and the generated package (copied in through its link).
NOT_MUTATED = ["src/telnyx_messages/_version.py", "src/telnyx_messages/_api/*"]
# The fast tests: everything but what runs Prism, Node tools, the generator, or the package in a
# subprocess (where mutmut's changes do not reach).
SLOW_TESTS = [
    "tests/test_spec_changes.py",
    "tests/test_spec_pipeline.py",
    "tests/test_pipeline.py",
    "tests/test_prism.py",
    "tests/test_readme.py",
    "tests/test_bench.py",
    "tests/test_contract.py",
    "tests/test_make_mock.py",  # the Makefile's mock target, not the overlay
    "tests/test_quick_start.py",  # builds and installs a wheel
]
# -x: a mutant is caught at the first failing test. Tests that run Prism, or a type checker in a
# subprocess, cannot see mutmut's changes.
PYTEST_ARGS = [
    "-p",
    "no:cacheprovider",
    "-q",
    "-x",
    "-m",
    "not prism and not slow",  # slow: volume runs and generator runs, minutes per mutant
    "-k",
    "not mypy and not pyright and not jedi and not type_check",
]
# What the tests read beside themselves (their ROOT is the workspace's mutants/ folder).
# Names missing from the tree are passed over (the generator's configuration has moved between files).
ALSO_COPY = [
    "tests",
    "openapi",
    "templates",
    "generation.yml",
    "generator-config.yaml",
    "README.md",
    "examples",
    "docs",
    "Makefile",
]
# Tests that generate a package lay it out from a copy of the overlay (tests/support/generation.py),
# with the generated package as its _api: so the overlay is copied too, without the tree's _api link.
OVERLAY = "overlay"
# mutmut's status for each exit code of a mutant's test run (mutmut/stats.py).
KILLED = {1, 3, 24, -24, 36, 152, 255, 37, -9, -11}
SURVIVED = {0}
NO_TESTS = {5, 33}


def prepare(only: list[str] | None = None) -> None:
    """The workspace: the overlay under src/, the rest as the tests expect it."""
    WORKSPACE.mkdir(parents=True, exist_ok=True)
    _sync_tree(ROOT / "overlay" / PACKAGE, WORKSPACE / "src" / PACKAGE)
    for name in [*ALSO_COPY, OVERLAY]:
        target = WORKSPACE / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        if name == OVERLAY:
            shutil.copytree(ROOT / name, target, ignore=shutil.ignore_patterns("__pycache__", ".ruff_cache", "_api"))
        elif not (ROOT / name).exists():
            continue
        elif (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, target, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
        else:
            shutil.copy2(ROOT / name, target)
    tools = WORKSPACE / "tools"
    tools.mkdir(exist_ok=True)
    for script in (ROOT / "tools").glob("*.py"):
        shutil.copy2(script, tools / script.name)
    (WORKSPACE / "pyproject.toml").write_text(_config(only))
    _forget_stale_test_map()


_NOT_SYNCED = ("__pycache__", ".ruff_cache")


def _sync_tree(origin: Path, copy: Path) -> None:
    """`copy` made the same as `origin`: a file whose bytes changed is written anew (so its time is
    now), one unchanged is left with its time, one gone is removed. mutmut makes a file's mutants
    again only when the file is newer than them: copying times along (copytree) hid an edit made
    between a run's copy and its making of mutants, and the next run tested stale mutants."""
    wanted: set[Path] = set()
    # os.walk follows the overlay's _api link into the generated package (Path.rglob does not, on 3.11).
    for folder, folders, files in os.walk(origin, followlinks=True):
        folders[:] = [name for name in folders if name not in _NOT_SYNCED]
        wanted |= {(Path(folder) / name).relative_to(origin) for name in files}
    if copy.exists():
        for path in sorted(copy.rglob("*"), reverse=True):
            relative = path.relative_to(copy)
            if path.is_file() and relative not in wanted:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    for relative in sorted(wanted):
        target = copy / relative
        data = (origin / relative).read_bytes()
        if not target.is_file() or target.read_bytes() != data:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def _forget_stale_test_map() -> None:
    """mutmut maps each function to the tests that call it once, and afterwards adds only the tests
    that are new: a function written since, or an old test that now calls another function, would
    be missing from the map, and its mutants would meet too few tests. So when the tests or the
    overlay changed since the last run, the map is made again (one run of the tests)."""
    digest = hashlib.sha256()
    for path in sorted([*(WORKSPACE / "tests").rglob("*.py"), *(WORKSPACE / "src").rglob("*.py")]):
        digest.update(str(path.relative_to(WORKSPACE)).encode() + b"\0" + path.read_bytes())
    stamp = WORKSPACE / "test-map.sha256"
    if not stamp.exists() or stamp.read_text() != digest.hexdigest():
        (WORKSPACE / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
        stamp.write_text(digest.hexdigest())


def _config(only: list[str] | None = None) -> str:
    tests = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*.py"))
    fast = only or [t for t in tests if t not in SLOW_TESTS]
    # The tests read the dev dependency pins (which legacy httpx release is under test).
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]
    return f"""# Written by tools/mutation.py; do not edit.
[dependency-groups]
dev = {json.dumps(groups["dev"])}

[tool.mutmut]
source_paths = ["src/{PACKAGE}"]
do_not_mutate = {json.dumps(NOT_MUTATED)}
also_copy = {json.dumps(_present([*ALSO_COPY, OVERLAY, "tools"]))}
pytest_add_cli_args_test_selection = {json.dumps(fast)}
pytest_add_cli_args = {json.dumps(PYTEST_ARGS)}
use_git_change_detection = false

[tool.pytest.ini_options]
pythonpath = ["tools"]
timeout = 120
asyncio_mode = "auto"
asyncio_default_fixture_loop_scope = "function"
markers = ["prism: uses Prism"]
"""


def _present(names: list[str]) -> list[str]:
    """Those of `names` the workspace holds (mutmut stops at a name it cannot copy)."""
    return [name for name in names if (WORKSPACE / name).exists()]


def _matches(name: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def run_mutmut(max_children: int, names: list[str]) -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "TELNYX_MESSAGES_HYPOTHESIS_PROFILE": "mutation"}
    command = [str(Path(sys.executable).parent / "mutmut"), "run", "--max-children", str(max_children), *names]
    done = subprocess.run(command, cwd=WORKSPACE, env=env, check=False)
    if done.returncode != 0:  # a failed or killed stats run leaves every mutant "not run", saying nothing
        print(f"mutmut exited with {done.returncode}: mutants it did not reach are reported not run", file=sys.stderr)


def results() -> dict[str, int | None]:
    """Every mutant's exit code, by name, from mutmut's .meta files."""
    outcome: dict[str, int | None] = {}
    for meta in sorted((WORKSPACE / "mutants" / "src").rglob("*.py.meta")):
        outcome.update(json.loads(meta.read_text())["exit_code_by_key"])
    return outcome


def equivalents() -> dict[str, str]:
    """Mutant name -> why no behaviour can tell it from the original."""
    listed: dict[str, str] = {}
    for number, line in enumerate(EQUIVALENTS.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, separator, reason = line.partition(" ")
        if not separator or not reason.strip():
            raise SystemExit(f"{EQUIVALENTS.name}:{number}: a mutant name, a space, then its reason")
        listed[name] = reason.strip()
    return listed


def change(name: str) -> tuple[str, str]:
    """(file:line, the change) of one mutant, read from the file mutmut wrote: the mutant function
    beside the original one."""
    module, _, function = name.rpartition(".")
    path = WORKSPACE / "mutants" / "src" / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = path.with_suffix("") / "__init__.py"
    text = path.read_text()
    original_name = function.partition("__mutmut_")[0] + "__mutmut_orig"
    original = _function(text, original_name)
    mutant = _function(text, function)
    source = (WORKSPACE / "src" / path.relative_to(WORKSPACE / "mutants" / "src")).read_text().splitlines()
    diff = [
        line
        for line in difflib.unified_diff(original, mutant, lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    where = _line_of_change(source, original, mutant)
    if not where:  # the function not found in the source as written: the first line like the one changed
        removed = next((line[1:] for line in diff if line.startswith("-")), "")
        where = next((i + 1 for i, line in enumerate(source) if removed.strip() and line.strip() == removed.strip()), 0)
    return f"src/{path.relative_to(WORKSPACE / 'mutants' / 'src')}:{where}", " | ".join(d.strip() for d in diff)


def _line_of_change(source: list[str], original: list[str], mutant: list[str]) -> int:
    """The source's line number of the first line the mutant changes (0: not found). A function may
    hold the same line twice (two `continue`s): the line is found by its place in the function."""
    changed = next(
        (a for tag, a, _, _, _ in difflib.SequenceMatcher(None, original, mutant).get_opcodes() if tag != "equal"), None
    )
    body = [line.strip() for line in original[1:]]
    while body and not body[-1]:
        body.pop()
    if changed is None or not body:
        return 0
    for start in range(len(source)):
        if [line.strip() for line in source[start + 1 : start + 1 + len(body)]] == body:
            return start + 1 + changed
    return 0


def _function(text: str, name: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"\s*(async )?def {re.escape(name)}\(", line))
    indent = len(lines[start]) - len(lines[start].lstrip())
    body = [lines[start].replace(name, "_")]
    for line in lines[start + 1 :]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent and not line.lstrip().startswith(")"):
            break
        body.append(line)
    return body


def selected(outcome: dict[str, int | None], patterns: list[str]) -> dict[str, int | None]:
    """The mutants of `outcome` that `patterns` (mutmut's names or globs) select; all without patterns."""
    if not patterns:
        return outcome
    return {n: code for n, code in outcome.items() if _matches(n, patterns)}


def report(outcome: dict[str, int | None], listed: dict[str, str], patterns: list[str] | None = None) -> int:
    """Prints the survivors of the mutants `patterns` select (all without patterns), then the summary."""
    outcome = selected(outcome, patterns or [])
    listed = {n: why for n, why in listed.items() if not patterns or _matches(n, patterns)}
    killed = [n for n, code in outcome.items() if code in KILLED]
    equivalent = [n for n, code in outcome.items() if n in listed and code not in KILLED]
    survived = [n for n, code in outcome.items() if n not in listed and code not in KILLED]
    for name in sorted(survived):
        where, what = change(name)
        status = {0: "survived", None: "not run"}.get(outcome[name], f"exit {outcome[name]}")
        if outcome[name] in NO_TESTS:
            status = "no test calls it"
        print(f"{where}: {status}: {what}   [{name}]")
    stale = sorted(n for n in listed if n not in outcome or outcome[n] in KILLED)
    for name in stale:
        print(f"{EQUIVALENTS.name}: {name} is listed as equivalent but " + ("killed" if name in outcome else "gone"))
    total = len(outcome)
    if not_run := sum(1 for code in outcome.values() if code is None):
        print(f"{not_run} mutants were not run (the run was stopped): counted as survived")
    if len(equivalent) > total // 10:
        print(f"{EQUIVALENTS.name}: {len(equivalent)} equivalents, over 10% of the {total} mutants")
    score = 100.0 * len(killed) / max(1, total - len(equivalent))
    over = f" (of the mutants selected by {' '.join(patterns)})" if patterns else ""
    print(
        f"mutation{over}: {len(killed)} killed, {len(survived)} survived, {len(equivalent)} equivalent, "
        f"{total} total; score {score:.1f}%"
    )
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Most tests wait on sockets and sleeps rather than compute: more children than cores pay.
    parser.add_argument("--max-children", type=int, default=3 * (os.cpu_count() or 2))
    parser.add_argument("--report-only", action="store_true", help="print the last run's results")
    parser.add_argument(
        "--retest-survivors",
        action="store_true",
        help="after the run, run its survivors again, but those listed as equivalent (mutmut keeps a verdict "
        "until the function changes, so tests written since would not be tried on them)",
    )
    parser.add_argument(
        "--tests",
        action="extend",
        nargs="+",
        metavar="FILE",
        help="map and run only these test files (those that reach the mutated module): quicker, and a test "
        "failing elsewhere does not stop the run; a mutant they miss may be caught by another file",
    )
    parser.add_argument("mutants", nargs="*", help="run only these mutants (names as printed)")
    args = parser.parse_args(argv)
    # --tests takes every word after it: a mutant name there would be read as a test file.
    for name in args.tests or []:
        if not (ROOT / name).is_file():
            parser.error(f"--tests {name}: no such test file (name mutants before --tests, or after --)")
    if not args.report_only:
        prepare(args.tests)
        run_mutmut(args.max_children, args.mutants)
        if args.retest_survivors:
            listed = equivalents()
            chosen = selected(results(), args.mutants)
            if survivors := [n for n, code in chosen.items() if code not in KILLED and n not in listed]:
                run_mutmut(args.max_children, survivors)
    return report(results(), equivalents(), args.mutants)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
