"""The campaign engine (`telnyx_messages.campaign`) against the README's plain `send_all` recipe, and
its dry run over a long CSV.

  send       N rows (10,000) sent by the engine, a fresh SQLite journal each turn, pacing off
             (rate and sender_rate math.inf) and 200 requests at once, beside the README's
             "Sending many messages" recipe (`send_all`, read from the README, 200 at once) sending
             the same N messages: turns interleaved (recipe, campaign, recipe, campaign, ...), each on
             a fresh client; wall time of each turn, the campaign/recipe ratio of the medians, and
             the sends the server counted (each message once: counted == N)
  journals   the same N rows unpaced, journaled in SQLite, in PostgreSQL with one sender process and
             with three sharing the campaign, in sender processes, turns interleaved: rows a second
             each, x SQLite's in the same turn, each row accepted exactly once (bench/postgres_campaign.py)
  dry run    `telnyx-messages campaign send ROWS.csv --journal J --from F --dry-run` in a subprocess
             over a CSV of DRY_RUN_ROWS rows (1,000,000) and one of DRY_RUN_SMALL rows (10,000),
             both written to a temporary directory first: each run's wall time and peak RSS (the
             child's VmHWM, which it prints as it exits). Bounded memory: the two peaks close.
"""

from __future__ import annotations

import asyncio
import csv
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

KEY = "KEY-bench"
ROWS = 10_000
AT_ONCE = 200  # the recipe's default; the engine's max_in_flight
SENDER = "+18445550001"
TEXT = "hello"
DRY_RUN_ROWS = 1_000_000
DRY_RUN_SMALL = 10_000


def _recipients(n: int) -> list[str]:
    return [f"+1312{i:07d}" for i in range(n)]


async def _campaign_turn(base_url: str, rows: int, scratch: Path, turn: int) -> dict[str, Any]:
    import volume  # here, not at the top: bench/postgres_campaign.py's senders import this module without it
    from telnyx_messages import AsyncTelnyx
    from telnyx_messages.campaign import Campaign

    journal = scratch / f"campaign-{turn}.db"
    source = ({"id": n, "to": to, "from": SENDER, "text": TEXT} for n, to in enumerate(_recipients(rows)))
    async with AsyncTelnyx(api_key=KEY, base_url=base_url) as client:
        before = await volume._sends_counted(base_url)
        started, cpu_started = time.perf_counter(), time.process_time()
        report = await Campaign(
            client, source, journal, rate=math.inf, sender_rate=math.inf, max_in_flight=AT_ONCE, total=rows
        ).run()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        sent = await volume._sends_counted(base_url) - before
    return {
        "wall_s": wall,
        "cpu_us_per_call": cpu / rows * 1e6,
        "accepted": report.accepted,
        "failed": report.failed,
        "pending": report.pending,
        "sends_counted": sent,
        "doubled": max(sent - rows, 0),
        "journal_bytes": journal.stat().st_size,
    }


async def _recipe_turn(base_url: str, rows: int) -> dict[str, Any]:
    import volume

    result = await volume.recipe(base_url, rows)
    result["accepted"] = rows - result["failures"]
    return result


async def send(base_url: str, rows: int = ROWS, turns: int = 2) -> dict[str, Any]:
    """`turns` turns of each, interleaved (recipe first): their walls, medians and the ratio."""
    samples: dict[str, list[dict[str, Any]]] = {"recipe": [], "campaign": []}
    with tempfile.TemporaryDirectory() as scratch:
        for turn in range(turns):
            samples["recipe"].append(await _recipe_turn(base_url, rows))
            samples["campaign"].append(await _campaign_turn(base_url, rows, Path(scratch), turn))
    medians = {name: statistics.median(s["wall_s"] for s in runs) for name, runs in samples.items()}
    return {
        "rows": rows,
        "at_once": AT_ONCE,
        "turns": samples,
        "recipe_wall_s": medians["recipe"],
        "campaign_wall_s": medians["campaign"],
        "ratio": medians["campaign"] / medians["recipe"],
        "each_once": all(
            s["sends_counted"] == rows and s["accepted"] == rows for runs in samples.values() for s in runs
        ),
    }


def _write_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "to", "text"])
        for n in range(rows):
            writer.writerow([n, f"+1312{n % 10_000_000:07d}", f"Your code is {n % 10_000:04d}"])


# The CLI's own main() in a fresh interpreter, which then prints its peak RSS (VmHWM: the high-water
# mark of this process's memory since its exec). Not the child's ru_maxrss: Linux carries the
# parent's RSS at fork over into it, so that every child of a large bench process reports at least that.
CHILD = """
import sys
from telnyx_messages.cli import main
try:
    code = main(sys.argv[1:])
finally:
    hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
    print("VmHWM", hwm, file=sys.stderr)
sys.exit(code)
"""


def _dry_run(csv_path: Path, scratch: Path) -> dict[str, Any]:
    """One dry run in a child process: its wall time and peak RSS."""
    arguments = ["campaign", "send", str(csv_path), "--journal", str(scratch / "dry.db"), "--from", SENDER]
    env = {k: v for k, v in os.environ.items() if k not in ("TELNYX_LOG",)}
    env.setdefault("TELNYX_API_KEY", KEY)
    started = time.perf_counter()
    child = subprocess.run([sys.executable, "-c", CHILD, *arguments, "--dry-run"], capture_output=True, env=env)
    wall = time.perf_counter() - started
    err = child.stderr.decode()
    if child.returncode != 0 or "VmHWM" not in err:
        raise RuntimeError(f"the dry run failed ({child.returncode}): {err[-2000:]}")
    hwm_kb = int(err.rsplit("VmHWM", 1)[1].split()[0])
    return {
        "wall_s": wall,
        "peak_rss_mb": hwm_kb / 1024,
        "journal_written": (scratch / "dry.db").exists(),
        "output": child.stdout.decode()[-600:],
    }


def dry_run(rows: int = DRY_RUN_ROWS, small: int = DRY_RUN_SMALL) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        scratch = Path(directory)
        results: dict[str, Any] = {}
        for n in sorted({small, rows}):  # one run when they are the same size (the smoke run's)
            path = scratch / f"rows-{n}.csv"
            _write_csv(path, n)
            results[str(n)] = {"csv_mb": path.stat().st_size / 2**20, **_dry_run(path, scratch)}
            path.unlink()
    large, little = results[str(rows)], results[str(small)]
    results["peak_rss_ratio"] = large["peak_rss_mb"] / little["peak_rss_mb"]
    results["rows_per_s"] = rows / large["wall_s"]
    return results


def run(
    base_url: str, rows: int = ROWS, turns: int = 2, dry_rows: int = DRY_RUN_ROWS, journal_rows: int = ROWS
) -> dict[str, Any]:
    import postgres_campaign

    return {
        "send": asyncio.run(send(base_url, rows, turns)),
        "journals": postgres_campaign.run(base_url, journal_rows, turns),
        "dry_run": dry_run(dry_rows, min(DRY_RUN_SMALL, dry_rows)),
    }


def report(results: dict[str, Any]) -> list[str]:
    sent = results["send"]
    lines = [
        f"campaign: {sent['rows']:,} rows, pacing off, {sent['at_once']} at once, a fresh SQLite journal, against the"
        " README recipe (send_all), turns interleaved:"
    ]
    for name in ("recipe", "campaign"):
        for turn, cell in enumerate(sent["turns"][name], 1):
            lines.append(
                f"  {name:<9} turn {turn}  {cell['wall_s']:7.2f} s  {cell['cpu_us_per_call']:6.0f} us/call"
                f"  accepted {cell['accepted']}  counted by the server {cell['sends_counted']}"
            )
    lines.append(
        f"  median: recipe {sent['recipe_wall_s']:.2f} s, campaign {sent['campaign_wall_s']:.2f} s,"
        f" campaign/recipe {sent['ratio']:.2f}x; each message once: {sent['each_once']}"
    )
    import postgres_campaign

    lines += postgres_campaign.report(results["journals"])
    dry = results["dry_run"]
    lines.append("campaign --dry-run, a CSV streamed through the CLI in a subprocess (wall; peak RSS):")
    for n, cell in dry.items():
        if isinstance(cell, dict):
            lines.append(
                f"  {int(n):>9,} rows ({cell['csv_mb']:5.1f} MB CSV)  {cell['wall_s']:7.2f} s"
                f"  peak RSS {cell['peak_rss_mb']:6.1f} MB"
            )
    lines.append(f"  peak RSS large/small {dry['peak_rss_ratio']:.2f}x; {dry['rows_per_s']:,.0f} rows/s")
    return lines
