"""The benchmark runner works end to end: one iteration of everything (a smoke run, not a timing)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from legacy_httpx import VERSIONS

from .support import ROOT
from .support.postgres import PACKAGE_DIRS, find_programs, in_ci

# The rows of each journal turn in the smoke run (bench/run.py's SMOKE_JOURNAL_ROWS).
ROWS = 30


@pytest.mark.slow  # a PostgreSQL server made; on a machine's first run it installs httpx 0.29.0
@pytest.mark.timeout(600)
def test_the_benchmark_runs(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    run = subprocess.run(
        [sys.executable, "bench/run.py", "--smoke", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(out.read_text())
    assert set(results["per_call"]) == {"N=1", "N=8", "N=100"}
    for table in results["per_call"].values():
        assert table["httpx2"]["ratio_median"] == 1.0
        assert table["telnyx_messages"]["median_us"] > 0
    assert set(results["parse_only"]) >= {"json.loads", "telnyx_messages from_dict"}
    assert results["cold_start"]["telnyx_messages"]["peak_rss_mb"] > 0
    assert results["cold_start"]["httpx2"]["over_httpx2_ms"] == 0.0
    assert results["cold_start"]["telnyx_messages"]["samples"] == 1
    assert results["async"]["telnyx_messages"]["calls_per_s"] > 0
    assert results["async"]["telnyx_messages"]["calls_per_cpu_s"] > 0
    assert results["async"]["telnyx_messages"]["after_first_calls_per_s"] > 0
    assert results["async"]["httpx2"]["after_first_ratio"] == 1.0
    assert "per call (ratio to raw httpx2" in run.stdout
    # The concurrency sweep: each contender sent each call once, and the server counted each send once.
    (point,) = results["volume"].values()
    # The later legacy httpx releases (tools/legacy_httpx.py) run each in a subprocess of their own.
    releases = [f"{kind} httpx {v}" for v in ("0.28.1", *VERSIONS) for kind in ("telnyx_messages on", "raw")]
    for name in ("telnyx_messages", "raw httpx2", *releases):
        assert point[name]["failures"] == 0 and point[name]["doubled"] == 0, point[name]
        assert point[name]["sends_counted"] == 10 and point[name]["cpu_us_per_call"] > 0
    recipe = point["README recipe, 200 at once"]  # the README's send_all, as written there
    assert (recipe["failures"], recipe["sends_counted"], recipe["doubled"]) == (0, 10, 0), recipe
    assert "volume: a burst of N concurrent async sends" in run.stdout
    # The campaign section: the engine with its journal beside the recipe, each message once; the dry run
    # of a CSV through the CLI writes no journal.
    campaign = results["campaign"]
    assert campaign["send"]["each_once"] and campaign["send"]["turns"]["campaign"][0]["sends_counted"] == 10
    assert campaign["dry_run"]["100"]["peak_rss_mb"] > 0 and not campaign["dry_run"]["100"]["journal_written"]
    assert "campaign: 10 rows" in run.stdout
    # The journals side by side: ROWS rows on SQLite, on PostgreSQL with 1 sender process and with 3 sharing
    # the campaign, each row accepted exactly once (the server counted ROWS sends, the journal holds ROWS rows
    # accepted), rows/s each and its ratio to SQLite's in the same turn.
    journals = campaign["journals"]
    assert journals["rows"] == ROWS and journals["each_once"] is True
    (sqlite,) = journals["turns"]["SQLite, 1 sender x 200"]
    assert (sqlite["sends_counted"], sqlite["journal_accepted"], sqlite["accepted"]) == (ROWS, ROWS, ROWS)
    assert sqlite["sent_by_each"] == [sqlite["journal_attempts"]] and sqlite["rows_per_s"] > 0
    assert journals["SQLite, 1 sender x 200"]["ratio"] == 1.0
    assert f"campaign journals: {ROWS} rows, unpaced" in run.stdout
    postgres = ("PostgreSQL, 1 sender x 200", 1), ("PostgreSQL, 3 senders x 200", 3)
    missing = _postgres_missing()
    if missing is not None:
        assert not in_ci(), f"{missing}; CI is set, and CI must run the PostgreSQL bench"
        for name, _ in postgres:
            assert journals[name] == {"skipped": missing} and name not in journals["turns"]
            assert f"{name:<28} skipped: {missing}" in run.stdout
        return
    for name, senders in postgres:
        (cell,) = journals["turns"][name]
        assert (cell["senders"], len(cell["sent_by_each"])) == (senders, senders)
        assert cell["sends_counted"] == cell["journal_accepted"] == cell["accepted"] == ROWS and cell["pending"] == 0
        # Each send the senders made reached the server, or went unanswered and was re-sent with the row's key.
        assert sum(cell["sent_by_each"]) == cell["journal_attempts"] >= ROWS
        assert cell["rows_per_s"] > 0 and cell["server_cpu_us_per_row"] > 0
        assert journals[name]["turn_ratios"] == [cell["rows_per_s"] / sqlite["rows_per_s"]]
        assert f"{name:<28} turn 1" in run.stdout


def _postgres_missing() -> str | None:
    """Why the bench cannot run PostgreSQL here (as bench/postgres_campaign.py says it), or None."""
    if find_programs() is None:
        return f"PostgreSQL is not installed (no initdb on PATH or in {PACKAGE_DIRS})"
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not installed (pip install 'telnyx-messages[postgres]')"
    return None
