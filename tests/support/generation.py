"""Generating the client into a scratch directory, with the command `make generate` runs.

What the generator makes depends only on what it reads: the document, the templates, generation.yml
(the generator's settings and the project's decisions), tools/generate.py, the `$ref` resolver, the
overlay's runtime names that types.py re-exports and the versions of the
generator, of ruff (its post-hook) and of Python. Packages are kept under build/generated/ by a hash
of all of these, so that a document is generated once, however many tests (or runs) ask for it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from generate import runtime_names  # tools/ is on the tests' path

from . import ROOT

CACHE = ROOT / "build" / "generated"
# Besides the document: every file the generation reads (and, in inputs_hash, the overlay's runtime
# names that types.py re-exports: generate.runtime_names(), not those modules' whole text).
INPUTS = (
    "generation.yml",
    "tools/generate.py",
    "tools/spec_refs.py",
    "overlay/telnyx_messages/_spec_refs.py",
    "templates",
)
PACKAGE = "telnyx_messages_api"


def inputs_hash(spec: Path) -> str:
    """A hash of what the package generated from `spec` depends on."""
    digest = hashlib.sha256()
    versions = [importlib.metadata.version(name) for name in ("openapi-python-client", "ruff")]
    digest.update(repr((versions, sys.version_info[:2])).encode())
    digest.update(spec.read_bytes())
    digest.update(json.dumps(runtime_names(), sort_keys=True).encode())
    for name in INPUTS:
        root = ROOT / name
        for path in sorted(root.rglob("*")) if root.is_dir() else [root]:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(f"\0{path.relative_to(ROOT).as_posix()}\0".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def cached_package(spec: Path) -> Path:
    """The package generated from `spec`, kept under build/generated/; fails the test with the
    generator's output. Not to be changed: copy it (generated_package) to change it."""
    cached = CACHE / inputs_hash(spec) / PACKAGE
    if not cached.is_dir():
        CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
            package = Path(scratch) / PACKAGE
            # In a process of its own, as make generate runs it: in a thread beside the tests (a background
            # job), CPython 3.11's ast (which the generator uses) may fail with "AST constructor
            # recursion depth mismatch" when a test parses Python at the same time.
            command = [sys.executable, str(ROOT / "tools" / "generate.py"), str(spec.resolve()), str(package)]
            result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            assert result.returncode == 0, result.stdout + result.stderr
            # Made whole elsewhere, then renamed: a run beside this one sees all of it or none.
            cached.parent.mkdir(exist_ok=True)
            try:
                os.rename(package, cached)
            except OSError:
                if not cached.is_dir():  # else the run beside this one made it first
                    raise
    return cached


def generated_package(spec: Path, into: Path) -> Path:
    """The package generated from `spec`, as it ships: telnyx_messages._api in a copy of the overlay's
    telnyx_messages under `into` (so `into`, `package.parents[1]`, is the root to import both from, first
    on PYTHONPATH); fails the test with the generator's output."""
    shutil.copytree(ROOT / "overlay" / "telnyx_messages", into / "telnyx_messages", ignore=_NOT_COPIED)
    package = into / "telnyx_messages" / "_api"
    shutil.copytree(cached_package(spec), package, ignore=_NOT_COPIED)
    return package


# Neither caches nor the tree's own link to its generated package (overlay/telnyx_messages/_api).
_NOT_COPIED = shutil.ignore_patterns("__pycache__", ".ruff_cache", "_api")


def shipped_root(spec: Path) -> Path:
    """A folder under build/, emptied, to lay out the package generated from `spec` in (generated_package):
    the same path each session for the same inputs, so that mypy's cache over it is kept."""
    root = ROOT / "build" / "shipped" / inputs_hash(spec)[:16]
    shutil.rmtree(root, ignore_errors=True)
    return root
