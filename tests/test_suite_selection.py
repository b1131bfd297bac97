"""The suite's selection: the slow tests are marked, and one flag leaves them out; the tests that read
the spec, which tests/test_spec_changes.py reruns under a later document, are told apart by a rule."""

from __future__ import annotations

import re
import textwrap

import pytest

from .support import ROOT, collection


@pytest.mark.background(collection.COLLECTION)
def test_one_flag_leaves_the_slow_tests_out_and_make_test_runs_them_all() -> None:
    collected = collection.collected()
    every, fast = "\n".join(collected.every), "\n".join(collected.selected)
    for slow in ("test_the_suite_passes_on_a_later_upstream_document", "accepted_exactly_once_through_failures"):
        assert slow in every and slow not in fast
    assert "test_date_times_go_back_as_written" in fast
    makefile = (ROOT / "Makefile").read_text()
    command = '$(BIN)/pytest -q -n $(TEST_WORKERS) --dist worksteal --durations=25 $(if $(FAST),-m "not slow",)'
    assert command in makefile
    assert "make test FAST=1" in (ROOT / "README.md").read_text()


def test_a_test_reads_the_spec_through_what_it_imports_uses_or_asks_for() -> None:
    def readers(source: str, known: frozenset[str] = frozenset()) -> list[str]:
        return collection.spec_readers_in(textwrap.dedent(source), known)

    # a fixture that serves the spec, asked for as a parameter or by usefixtures, on the test or module
    assert readers("def test_a(spec):\n    pass\ndef test_b(server):\n    pass\n") == ["test_a"]
    assert readers("@pytest.mark.usefixtures('prism')\ndef test_a():\n    pass\n") == ["test_a"]
    assert readers("pytestmark = pytest.mark.usefixtures('prism')\ndef test_a():\n    pass\n") == ["test_a"]
    assert readers("def test_a(type_checked):\n    pass\n") == ["test_a"]
    # an import of the spec's modules, in the test or at the top of the module and then used
    assert readers("def test_a():\n    from telnyx_messages._api.api import METHODS\n") == ["test_a"]
    assert readers("from .support import contract\ndef test_a():\n    contract\ndef test_b():\n    pass\n") == [
        "test_a"
    ]
    assert readers("import telnyx_messages.testing\ndef test_a():\n    telnyx_messages.testing.FakeTelnyx()\n") == [
        "test_a"
    ]
    # through a constant, a helper, a fixture of the module and a decorator, transitively
    module = """
        from .support.spec import message_example, CASES
        EXAMPLE = message_example()
        def reply():
            return EXAMPLE
        @pytest.fixture
        def answered(server):
            server.reply(reply())
        def test_by_helper():
            reply()
        def test_by_fixture(answered):
            pass
        @pytest.mark.parametrize("case", CASES)
        def test_by_parameters(case):
            pass
        def test_by_none(server):
            server.reply({"data": {}})
        """
    assert readers(module) == ["test_by_helper", "test_by_fixture", "test_by_parameters"]
    # an autouse fixture of the module that reads the spec: every test of the module
    autouse = (
        "from .support.spec import SPEC\n@pytest.fixture(autouse=True)\ndef f():\n    SPEC\ndef test_a():\n    pass\n"
    )
    assert readers(autouse) == ["test_a"]
    # a program run in a subprocess that imports the generated package; what the client shows of itself
    assert readers("def test_a():\n    run('-c', 'import telnyx_messages._api.models')\n") == ["test_a"]
    assert readers("def test_a():\n    inspect.signature(Telnyx.messages)\n") == ["test_a"]
    assert readers("def test_a():\n    webhooks.EVENT_TYPES\n") == ["test_a"]
    # what another module of tests/ defines that reads the spec
    helper = "from .test_cli import run\ndef test_a():\n    run('send')\n"
    assert readers(helper) == [] and readers(helper, frozenset({"tests.test_cli.run"})) == ["test_a"]
    # the stable names alone, on a loopback server: not
    assert readers("from .support.server import LoopbackServer\nfrom telnyx_messages import Telnyx\n") == []
    assert readers("def test_a(server):\n    Telnyx(base_url=server.base_url).messages.send(to='+1')\n") == []


def test_every_module_of_tests_support_that_imports_the_spec_is_a_reader_or_said_not_to_be() -> None:
    readers = collection.support_readers()
    assert {"tests.support.spec", "tests.support.contract"} <= readers
    assert not readers & collection.NOT_SPEC_READERS
    for path in (ROOT / "tests" / "support").glob("*.py"):
        module = f"tests.support.{path.stem}"
        imports = re.findall(r"^\s*(?:from|import) ([\w.]+)", path.read_text(), re.M)
        if any(name.startswith(collection.SPEC_MODULES) for name in imports):
            assert module in readers or module in collection.NOT_SPEC_READERS, module
