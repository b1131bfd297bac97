"""The suite's selection: the slow tests are marked, and one flag leaves them out."""

from __future__ import annotations

from .support import ROOT, collection


def test_one_flag_leaves_the_slow_tests_out_and_make_test_runs_them_all() -> None:
    collected = collection.collected()
    every, fast = "\n".join(collected.every), "\n".join(collected.selected)
    for slow in ("test_the_suite_passes_on_a_later_upstream_document", "accepted_exactly_once_through_failures"):
        assert slow in every and slow not in fast
    assert "test_date_times_go_back_as_written" in fast
    makefile = (ROOT / "Makefile").read_text()
    assert '$(BIN)/pytest -q $(if $(FAST),-m "not slow",)' in makefile
    assert "make test FAST=1" in (ROOT / "README.md").read_text()
