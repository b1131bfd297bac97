"""The README's Quick start, read from the README and run as written: its shell lines in a fresh copy
of the work tree (`make build` included), its Python in the environment those lines make, its
printed output as the README says."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from .support import ROOT

README = (ROOT / "README.md").read_text()
QUICK_START = README.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]


def quick_start() -> tuple[list[str], str, str, list[str]]:
    """The Quick start's shell lines, its Python, the command that runs it, and what it prints."""
    (shell,) = re.findall(r"```sh\n(.*?)```", QUICK_START, re.S)
    (python,) = re.findall(r"```python\n(.*?)```", QUICK_START, re.S)
    run = re.search(r"Save this as `(?P<file>[\w.]+)` and run `(?P<command>[^`]+)`", QUICK_START)
    assert run is not None, "the Quick start says which file to save the snippet as, and how to run it"
    assert run["command"] == f"python {run['file']}"
    printed = re.search(r"It prints ((?:`[^`]+`(?:, | and )?)+)\.", QUICK_START)
    assert printed is not None, "the Quick start says what the snippet prints"
    return shell.splitlines(), python, run["file"], re.findall(r"`([^`]+)`", printed[1])


def test_the_quick_start_is_on_the_first_screen_and_short() -> None:
    shell, python, _, printed = quick_start()
    before = README.split("\n## Quick start\n", 1)[0]
    assert len(before.splitlines()) + len(QUICK_START.splitlines()) <= 45
    assert shell[0] == "make build"
    assert any("[testing]" in line and line.startswith("pip install") for line in shell)
    assert len(shell) + len(python.splitlines()) <= 15
    assert "from telnyx_messages.testing import FakeTelnyx" in python and "api_key" not in python
    assert printed


def fresh_copy(destination: Path) -> Path:
    """The work tree as a clone of it would have it (tracked and new files, nothing git ignores),
    beside the shared spec mirror as on the build machines."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    clone = destination / "clone"
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a file deleted in the work tree is still listed by --cached
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    shared = ROOT.parent / "shared"
    if shared.is_dir():
        (destination / "shared").symlink_to(shared)
    else:  # no mirror beside this work tree: the pulled pin stands in for it (no upstream here)
        shutil.copy2(ROOT / "openapi" / "messages.yml", clone / "openapi" / "messages.yml")
    return clone


def with_the_dev_tools_of_this_run(clone: Path) -> None:
    """`make build` first installs the pinned dev tools (`pip install --group dev`, 268 MB, two
    minutes here); the suite already runs in them, so the copy's `.venv` borrows them: the make
    target's own stamp then says they are installed, and every later step runs as written."""
    # Without pip of its own (installing it is 6-7 s of CPU): this run's pip is among the tools borrowed.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(clone / ".venv")], check=True)
    bin_dir = clone / ".venv" / "bin"
    site = subprocess.check_output(
        [str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
    ).strip()
    Path(site, "zz_dev_tools.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    for tool in Path(sys.executable).parent.iterdir():
        if not (bin_dir / tool.name).exists() and not tool.name.startswith(("activate", "python", "pip")):
            (bin_dir / tool.name).symlink_to(tool)
    (bin_dir / ".dev-installed").touch()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_quick_start_runs_as_written_from_a_fresh_clone(tmp_path: Path) -> None:
    shell, python, file_name, printed = quick_start()
    clone = fresh_copy(tmp_path)
    with_the_dev_tools_of_this_run(clone)
    (clone / file_name).write_text(python)
    script = "\n".join(["set -euo pipefail", *shell, f"python {file_name}"])
    outside = ("VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "PYTHONPATH")
    env = {name: value for name, value in os.environ.items() if name not in outside}
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != venv_bin)
    run = subprocess.run(["bash", "-c", script], cwd=clone, env=env, capture_output=True, text=True, timeout=840)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    # The wheel make built, not this work tree's code, is what the snippet imported.
    wheels = list((clone / "dist").glob("telnyx_messages-*-py3-none-any.whl"))
    assert len(wheels) == 1
    assert run.stdout.splitlines()[-len(printed) :] == printed
    (venv_line,) = [line for line in shell if " -m venv " in line]
    venv = (clone / venv_line.split(" -m venv ", 1)[1].split()[0]).resolve()
    imported = [str(venv / "bin" / "python"), "-c", "import telnyx_messages; print(telnyx_messages.__file__)"]
    installed = subprocess.run(imported, cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert installed.startswith(str(venv)) and "site-packages" in installed
