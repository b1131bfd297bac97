"""Legacy httpx releases other than the dev venv's pin, each installed once beside the venv.

The venv pins httpx 0.28.1 (openapi-python-client runs on it); a user's own `httpx.Client` passed as
`http_client=` may be a later release. `installed(version)` gives a directory holding that httpx
alone (`pip install --target --no-deps`): put first on a subprocess's PYTHONPATH, it shadows the
venv's httpx, and its dependencies (httpcore 1.x, anyio, certifi, idna) are the venv's. The directory
is kept under the venv by version, so PyPI is asked once per machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# What tests/test_legacy_httpx_versions.py and the bench's volume sweep run on besides the venv's own.
VERSIONS = ("0.29.0",)
CACHE = Path(sys.prefix) / "legacy-httpx"


def installed(version: str) -> Path:
    """The directory holding httpx `version` (installed from PyPI the first time)."""
    target = CACHE / version
    if (target / "httpx" / "__init__.py").exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=CACHE))
    try:
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input"]
        command += ["--no-deps", "--only-binary", ":all:", "--target", str(scratch), f"httpx=={version}"]
        run = subprocess.run(command, capture_output=True, text=True, timeout=300)
        if run.returncode != 0:
            errors = [line for line in run.stderr.splitlines() if line.startswith("ERROR")] or [run.stderr.strip()]
            raise RuntimeError(f"pip could not install httpx=={version}: {errors[0][:500]}")
        scratch.chmod(0o755)  # mkdtemp's is 0o700
        try:
            os.rename(scratch, target)  # atomic: a concurrent run sees the whole directory or none
        except OSError:
            if not (target / "httpx" / "__init__.py").exists():  # not another run's: a real failure
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def environment(version: str) -> dict[str, str]:
    """This process's environment with httpx `version` first on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(installed(version)), env.get("PYTHONPATH")]))
    return env
