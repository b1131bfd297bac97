"""The README's Python examples, as a user would meet them: they type-check under mypy --strict and
Pyright (pinned in tools/package.json), and run against Prism."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .support import ROOT

EXAMPLES = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
PYRIGHT = ROOT / "tools" / "node_modules" / ".bin" / "pyright"


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


def test_examples_pass_mypy_strict(examples: list[Path]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *map(str, examples)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout


def test_examples_pass_pyright(examples: list[Path]) -> None:
    result = subprocess.run(
        [str(PYRIGHT), "--pythonpath", sys.executable, *map(str, examples)], capture_output=True, text=True
    )
    assert result.returncode == 0 and "0 errors" in result.stdout, result.stdout


def test_examples_run_against_prism(examples: list[Path], prism: str) -> None:
    env = {**os.environ, "TELNYX_API_KEY": "any", "TELNYX_BASE_URL": prism}
    for path in examples:
        result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env, timeout=60)
        assert result.returncode == 0, f"{path.name}: {result.stderr}"
    (usage,) = [path for path, code in zip(examples, EXAMPLES, strict=True) if "show(message)" in code]
    output = subprocess.run([sys.executable, str(usage)], capture_output=True, text=True, env=env).stdout
    assert "cost: 0.0051 USD" in output and "True {" in output
