"""The build pipeline: the pinned spec, deterministic generation, the wheel, the operations check."""

from __future__ import annotations

import copy
import filecmp
import hashlib
import json
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import openapi_python_client

from .support import ROOT
from .support.generation import generated_package
from .support.spec import SPEC, SPEC_PATH


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and ".ruff_cache" not in p.parts
    }


def test_generation_is_byte_identical_to_the_built_code(tmp_path: Path) -> None:
    fresh = _tree(generated_package(SPEC_PATH, tmp_path))
    built = _tree(ROOT / "generated" / "telnyx_messages_api")
    assert sorted(fresh) == sorted(built)
    differing = [name for name in fresh if fresh[name] != built[name]]
    assert differing == []


def test_the_operations_check_names_a_dropped_operation(tmp_path: Path) -> None:
    import yaml

    document = copy.deepcopy(SPEC)  # the document at SPEC_PATH, read once by the suite
    del document["paths"]["/messages/group/{message_id}"]  # GetGroupMmsMessages
    changed = tmp_path / "messages.yml"
    # Written by libyaml where PyYAML has it: the same document, a sixth of the pure-Python writer's CPU.
    changed.write_text(yaml.dump(document, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper)))
    result = subprocess.run(
        [sys.executable, "tools/check_operations.py", str(changed)], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "operation GetGroupMmsMessages" in result.stderr
    assert "client.messages.retrieve_group_messages calls it" in result.stderr


def test_the_wheel_installs_and_imports_in_a_fresh_venv(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("telnyx_messages-*.whl")
    # What plain pip pulls in: httpx2 and msgspec, ranged (PyNaCl with [webhooks], aiohttp and
    # httpx-aiohttp with [aiohttp], jsonschema and PyNaCl with [testing]); no dev or bench pins.
    with zipfile.ZipFile(wheel) as archive:
        (metadata_name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = archive.read(metadata_name).decode()
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in archive.namelist())
        # One top-level package, the generated code inside it (private), with its spec for the fake
        tops = {n.split("/")[0] for n in archive.namelist() if not n.split("/")[0].endswith(".dist-info")}
        assert tops == {"telnyx_messages"}, tops
        assert {"telnyx_messages/_api/api/__init__.py", "telnyx_messages/_api/spec.json"} <= set(archive.namelist())
        assert not [n for n in archive.namelist() if "__pycache__" in n or ".ruff_cache" in n]
    requires = sorted(line.split(": ", 1)[1] for line in metadata.splitlines() if line.startswith("Requires-Dist: "))
    assert requires == [
        "aiohttp<4,>=3.10; extra == 'aiohttp'",
        "httpx-aiohttp[httpx2]<0.3,>=0.2; extra == 'aiohttp'",
        "httpx2<3,>=2.17",
        "jsonschema>=4.18; extra == 'testing'",
        "msgspec>=0.18.5",
        "psycopg[binary]<4,>=3.2; extra == 'postgres'",
        "pynacl>=1.5; extra == 'receiver'",
        "pynacl>=1.5; extra == 'testing'",
        "pynacl>=1.5; extra == 'webhooks'",
        "rich>=13; extra == 'campaign'",
        "uvicorn>=0.30; extra == 'receiver'",
    ]
    assert "Provides-Extra: dev" not in metadata and "Provides-Extra: bench" not in metadata
    version = json.loads((ROOT / "openapi" / "messages.lock.json").read_text())["package_version"]
    assert f"\nVersion: {version}\n" in metadata
    venv = tmp_path / "venv"
    # A venv without pip of its own (ensurepip takes most of this test's time): this pip installs into it.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)]
    subprocess.run(install, check=True)
    # The runtime dependencies come from this environment, appended after the fresh site-packages,
    # so the package itself can only be found in the wheel just installed.
    fresh_site = Path(
        subprocess.check_output([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
        .decode()
        .strip()
    )
    (fresh_site / "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    probe = (
        "import telnyx_messages, telnyx_messages._api, pathlib, sys; "
        "from telnyx_messages import Telnyx; "
        "Telnyx(api_key='k').messages; "
        "print('httpx' in sys.modules or 'httpcore' in sys.modules); "
        "print(telnyx_messages.__file__); print(telnyx_messages._api.__file__); "
        "print(pathlib.Path(telnyx_messages.__file__).with_name('py.typed').exists()); "
        "print(pathlib.Path(telnyx_messages._api.__file__).with_name('py.typed').exists()); "
        "print(telnyx_messages.__version__); "
        # The fake of telnyx_messages.testing reads the spec the wheel ships.
        "from telnyx_messages.testing import FakeTelnyx; fake = FakeTelnyx(); "
        "fake.client().messages.send(to='+13125550002', text='hi'); print(len(fake.sent))"
    )
    legacy_imported, *out = subprocess.check_output([str(python), "-c", probe], cwd=tmp_path, text=True).split()
    assert legacy_imported == "False"  # legacy httpx is in the environment, and never imported by the package
    assert out[0].startswith(str(fresh_site)) and out[1].startswith(str(fresh_site))
    assert out[2:] == ["True", "True", version, "1"]
    assert filecmp.cmp(ROOT / "overlay" / "telnyx_messages" / "_client.py", Path(out[0]).with_name("_client.py"))


def test_the_overlay_uses_only_stable_generated_names() -> None:
    """The overlay names no model and no operation: only the generated resources (named by
    generation.yml), the shared types of types.py.jinja, and the models package, where a
    result's class is looked up by the name its Operation gives."""
    import ast

    import telnyx_messages._api.api as generated_api
    import telnyx_messages._api.types as generated_types

    allowed = {
        "telnyx_messages._api": {"models"},
        "telnyx_messages._api.models": {"*"},  # telnyx_messages.types, for type checkers
        "telnyx_messages._api.results": {"*", "ALIASES"},  # telnyx_messages, for type checkers; official names
        "telnyx_messages._api.webhooks": {"EVENT_TYPES", "UnknownWebhookEvent", "WebhookEvent", "parse_event"},
        "telnyx_messages._api.api": {"METHODS", *generated_api.__all__},
        "telnyx_messages._api.types": set(generated_types.__all__),
    }
    problems = []
    for source in sorted((ROOT / "overlay" / "telnyx_messages").rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                imported = [a.name for a in node.names if a.name.startswith("telnyx_messages._api")]
                stable = {"telnyx_messages._api.models", "telnyx_messages._api.results"}
                problems += [f"{source.name}: import {n}" for n in imported if n not in stable]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("telnyx_messages._api"):
                for alias in node.names:
                    if alias.name not in allowed.get(str(node.module), set()):
                        problems.append(f"{source.name}:{node.lineno}: from {node.module} import {alias.name}")
    assert problems == []


GENERATOR_TEMPLATES = Path(openapi_python_client.__file__).parent / "templates"
FORK_LINE = re.compile(r"\{#- Forked from openapi-python-client (\S+) templates/(\S+), sha256 ([0-9a-f]{64})")


def stale_forks(templates: Path) -> list[str]:
    """The forked templates whose recorded default is not the installed generator's."""
    stale = []
    for template in sorted(templates.rglob("*.jinja")):
        relative = template.relative_to(templates).as_posix()
        default = GENERATOR_TEMPLATES / relative
        match = FORK_LINE.match(template.read_text())
        if not default.exists():
            assert match is None, f"{relative} says it is a fork, but the generator has no such template"
            continue
        if match is None or match.group(2) != relative:
            stale.append(f"templates/{relative} (no fork line)")
        elif hashlib.sha256(default.read_bytes()).hexdigest() != match.group(3):
            stale.append(f"templates/{relative} (forked from {match.group(1)})")
    return stale


def test_every_forked_template_records_the_default_it_copies() -> None:
    """A generator upgrade that changes a default we forked fails here, naming the file to re-merge."""
    assert stale_forks(ROOT / "templates") == []


def test_a_template_forked_from_another_default_is_named(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    model = tmp_path / "templates" / "model.py.jinja"
    model.write_text(re.sub(r"sha256 [0-9a-f]{64}", "sha256 " + "0" * 64, model.read_text(), count=1))
    (tmp_path / "templates" / "str_enum.py.jinja").write_text("{# no fork line #}")
    assert stale_forks(tmp_path / "templates") == [
        "templates/model.py.jinja (forked from 0.29.1)",
        "templates/str_enum.py.jinja (no fork line)",
    ]


def test_every_generated_file_says_where_it_comes_from() -> None:
    package = ROOT / "generated" / "telnyx_messages_api"
    unmarked = [str(p) for p in package.rglob("*.py") if not p.read_text().startswith("# Generated from ")]
    assert unmarked == []
    ours = [p.read_text().splitlines()[0] for p in package.rglob("*.py")]
    assert "# Generated from templates/model.py.jinja by `make generate`; do not edit." in ours


def test_the_idempotency_override_holds_upstreams_parameter_unchanged() -> None:
    """generation.yml declares upstream's IdempotencyKey parameter as upstream wrote it
    (../shared/spec/upstream-idempotency.yml keeps upstream's text)."""
    import yaml
    from generate import configuration

    override = configuration()["idempotency"]
    upstream = ROOT.parent / "shared" / "spec" / "upstream-idempotency.yml"
    assert override["parameter"] == yaml.safe_load(upstream.read_bytes())["components"]["parameters"]["IdempotencyKey"]
    assert override["component"] == "IdempotencyKey"


# Issue 40: generated code cut to what differs per schema and per operation, templates that only render.
GENERATED_LINES_AT_MOST = 20_000
GENERATED_FILE_LINES_AT_MOST = 1_500
UNTAGGED_TEMPLATE_LINES_AT_MOST = 50
JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


def test_the_generated_package_keeps_within_its_line_budget() -> None:
    """The package built from the pinned spec: at most 20,000 lines of Python, no file over 1,500."""
    lines = {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines())
        for path in sorted((ROOT / "generated" / "telnyx_messages_api").rglob("*.py"))
    }
    assert 0 < sum(lines.values()) <= GENERATED_LINES_AT_MOST, sum(lines.values())
    assert {name: n for name, n in lines.items() if n > GENERATED_FILE_LINES_AT_MOST} == {}


def longest_untagged_run(text: str) -> int:
    """The most consecutive lines of a template that no template tag ({{ }}, {% %}, {# #}) touches."""
    tagged = set()
    for tag in JINJA_TAG.finditer(text):
        first = text.count("\n", 0, tag.start())
        tagged.update(range(first, first + tag.group().count("\n") + 1))
    longest = run = 0
    for number in range(len(text.splitlines())):
        run = 0 if number in tagged else run + 1
        longest = max(longest, run)
    return longest


def test_no_template_holds_a_long_stretch_without_a_tag() -> None:
    """Runtime code belongs in the overlay, where it is linted, typed and mutation-tested: no template
    holds more than 50 consecutive lines that are not rendered from what the generator hands it."""
    runs = {
        str(path.relative_to(ROOT)): longest_untagged_run(path.read_text())
        for path in sorted((ROOT / "templates").rglob("*.jinja"))
    }
    assert runs and {name: n for name, n in runs.items() if n > UNTAGGED_TEMPLATE_LINES_AT_MOST} == {}


def test_the_longest_untagged_run_counts_lines_no_tag_touches() -> None:
    assert longest_untagged_run("a\nb\n{{ x }}\nc\n") == 2
    assert longest_untagged_run("{# one\ntwo\nthree #}\nd\n") == 1
    assert longest_untagged_run("{% if x %}\n{% endif %}\n") == 0
    assert longest_untagged_run("a\nb\nc\n") == 3
