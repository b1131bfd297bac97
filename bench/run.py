"""Benchmark: this package against raw httpx2 (the floor) and the official `telnyx` SDK, side by side.

    python bench/run.py [--rounds R] [--smoke] [--json OUT]

Everything is measured interleaved in one run, and reported as ratios to the floor: the machines
are shared and noisy, so absolute times from different runs do not compare.
  per call      GET /messages/group/{id} with N = 1, 8, 100 messages, median and p90 per call
  parse only    decoded dict -> models, against json.loads of the same body
  cold start    a fresh interpreter: import, construct, first call, and its excess over raw httpx2's start in
                the same turn; and its peak RSS (VmHWM)
  async         200 concurrent calls, throughput against raw httpx2.AsyncClient, per second of wall
                clock and per second of the client process's CPU: over whole turns, and over the rounds
                after a turn's first (in which httpcore spins until the warm-up's connections expire)
  volume        bursts of N concurrent sends, and the README's `send_all` recipe (bench/volume.py)
  campaign      10,000 rows through the campaign engine with its journal, pacing off, against the README's
                `send_all` recipe, turns interleaved; the same 10,000 rows journaled in SQLite, in PostgreSQL
                with 1 sender process and with 3 sharing the campaign, rows/s each side by side
                (bench/postgres_campaign.py); a 1,000,000-row `campaign send --dry-run`'s peak RSS
                (bench/campaign.py; `--campaign-only` runs it alone, `--journals-only` the journals alone)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx2

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "messages.yml"
sys.path.insert(0, str(ROOT / "bench"))

import campaign  # noqa: E402
import postgres_campaign  # noqa: E402
import volume  # noqa: E402
from server import SIZES, VARIANTS, group_id, load_spec, messages, running_server  # noqa: E402

KEY = "KEY-bench"
CONCURRENCY = 200
# The rows of each journal turn in the smoke run (--smoke), which tests/test_bench.py checks.
SMOKE_JOURNAL_ROWS = 30

try:
    import telnyx as official  # type: ignore[import-not-found]
except ImportError:  # the bench extra is not installed
    official = None


def quantiles(samples: list[float]) -> tuple[float, float, float]:
    """Median, p90 and best. On a shared machine the best is the steadiest estimate of a cost
    that is all CPU, and the median the fairer one of what a caller sees: both are reported."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))], ordered[0]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def interleaved(contenders: dict[str, Callable[[], Any]], rounds: int, batch: int) -> dict[str, list[float]]:
    """Per-call seconds for each contender, the contenders taking turns batch by batch."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for call in contenders.values():
        call()  # warm: connection open, lazy imports done
    with gc_paused():
        for _ in range(rounds):
            for name, call in contenders.items():
                started = time.perf_counter()
                for _ in range(batch):
                    call()
                samples[name].append((time.perf_counter() - started) / batch)
    return samples


def steady_state(call: Callable[[], Any]) -> None:
    """Calls until the process decodes with msgspec, as one does after its first few MB of bodies
    (telnyx_messages/_json.py): the per-call and async figures are a long-running program's; the
    cold start is a fresh one's, where the first call decodes with json.loads."""
    for _ in range(1000):
        if "msgspec.json" in sys.modules:
            return
        call()
    raise RuntimeError("the client never switched to msgspec")


def _get_json(client: httpx2.Client, path: str) -> Any:
    return client.get(path).json()


def per_call(base_url: str, rounds: int, batch: int) -> dict[str, Any]:
    from telnyx_messages import Telnyx

    results: dict[str, Any] = {}
    raw = httpx2.Client(base_url=base_url)
    ours = Telnyx(api_key=KEY, base_url=base_url)
    theirs = official.Telnyx(api_key=KEY, base_url=base_url, max_retries=0) if official else None
    steady_state(lambda: ours.messages.retrieve_group_messages(group_id(max(SIZES))))
    for n in SIZES:
        gid = group_id(n)
        contenders: dict[str, Callable[[], Any]] = {
            "httpx2": functools.partial(_get_json, raw, f"/messages/group/{gid}"),
            "telnyx_messages": functools.partial(ours.messages.retrieve_group_messages, gid),
        }
        if theirs is not None:
            contenders["telnyx (official)"] = functools.partial(theirs.messages.retrieve_group_messages, gid)
        samples = interleaved(contenders, rounds, batch)
        floor = quantiles(samples["httpx2"])
        results[f"N={n}"] = {
            name: {
                "median_us": q[0] * 1e6,
                "p90_us": q[1] * 1e6,
                "best_us": q[2] * 1e6,
                "ratio_median": q[0] / floor[0],
                "ratio_p90": q[1] / floor[1],
                "ratio_best": q[2] / floor[2],
            }
            for name, q in ((name, quantiles(s)) for name, s in samples.items())
        }
    raw.close()
    ours.close()
    return results


def parse_only(rounds: int, batch: int) -> dict[str, Any]:
    """Each parser on a freshly decoded document, timed alone: as in a call, the dict is new and
    warm in the CPU's caches, and its ids are not the ones parsed just before."""
    from telnyx_messages._api import api, models

    spec = load_spec(SPEC)
    bodies = itertools.cycle([json.dumps(messages(spec, 100, variant)).encode() for variant in range(VARIANTS)])
    # The class SendMessage's sibling GetGroupMmsMessages answers with, as the client looks it up.
    model = getattr(models, str(api.OPERATIONS["retrieve_group_messages"].result))
    parsers: dict[str, Callable[[Any], Any]] = {
        "json.loads": json.loads,
        "telnyx_messages from_dict": model.from_dict,
    }
    if official is not None:
        from telnyx.types import MessageRetrieveGroupMessagesResponse  # type: ignore[import-not-found]

        parsers["telnyx (official) construct"] = lambda d: MessageRetrieveGroupMessagesResponse.construct(**d)
    samples: dict[str, list[float]] = {name: [] for name in parsers}
    with gc_paused():
        for _ in range(rounds):
            for name, parse in parsers.items():
                for _ in range(batch):
                    body = next(bodies)
                    document = body if name == "json.loads" else json.loads(body)
                    started = time.perf_counter()
                    parse(document)
                    samples[name].append(time.perf_counter() - started)
    floor = quantiles(samples["json.loads"])
    return {
        name: {"median_us": q[0] * 1e6, "ratio": q[0] / floor[0], "ratio_best": q[2] / floor[2]}
        for name, q in ((name, quantiles(s)) for name, s in samples.items())
    }


# What this environment has and a plain install of the package does not, that httpx2 and httpcore2
# import when they can: httpx2's command line (click, rich, pygments) and trio (which imports attrs and
# platform); and legacy httpx, which the package never imports (the generator and the tests need it).
# Each cold start keeps them out, as an absent module is: each contender's start is then a plain
# install's, and none of them hides a module another imports (click imports uuid, trio platform).
NOT_IN_A_PLAIN_INSTALL = ("click", "rich", "pygments", "trio", "httpx", "httpcore")
COLD = """
import sys
sys.modules.update(dict.fromkeys({absent!r}, None))
import time
started = time.perf_counter()
{body}
elapsed = time.perf_counter() - started
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(elapsed, hwm)
"""
COLD_BODIES = {
    "httpx2": "import httpx2\nhttpx2.Client(base_url={url!r}).get('/messages/group/{gid}').json()",
    "telnyx_messages": (
        "from telnyx_messages import Telnyx\n"
        "Telnyx(api_key='k', base_url={url!r}).messages.retrieve_group_messages('{gid}')"
    ),
    "telnyx (official)": (
        "from telnyx import Telnyx\n"
        "Telnyx(api_key='k', base_url={url!r}, max_retries=0).messages.retrieve_group_messages('{gid}')"
    ),
}


def cold_start(base_url: str, repeats: int, official_repeats: int) -> dict[str, Any]:
    """Each contender's median, and its median excess over raw httpx2's start in the same turn: the
    contenders' starts swing together with the machine, so the paired excess is the steadier figure.
    The official SDK, ten times slower to start, takes part in the first official_repeats turns."""
    bodies = {k: v for k, v in COLD_BODIES.items() if official is not None or "official" not in k}
    samples: dict[str, list[tuple[int, float, int]]] = {name: [] for name in bodies}
    # Bytecode written and the first, unmeasured, run thrown away: an installed wheel has its
    # bytecode compiled by the installer, as httpx in site-packages has; without this, under
    # PYTHONDONTWRITEBYTECODE the editable install recompiles the generated package at every start.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for turn in range(repeats + 1):
        for name, body in bodies.items():
            if "official" in name and turn > official_repeats:
                continue
            # The official SDK runs on legacy httpx: for it, httpx and httpcore are part of a plain install.
            absent = NOT_IN_A_PLAIN_INSTALL if "official" not in name else NOT_IN_A_PLAIN_INSTALL[:4]
            code = COLD.format(absent=absent, body=body.format(url=base_url, gid=group_id(8)))
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
            seconds, hwm_kb = out.stdout.split()
            if turn:
                samples[name].append((turn, float(seconds), int(hwm_kb)))
    floor = {turn: seconds for turn, seconds, _ in samples["httpx2"]}
    return {
        name: {
            "ms": statistics.median(s for _, s, _ in runs) * 1e3,
            "over_httpx2_ms": statistics.median(s - floor[turn] for turn, s, _ in runs) * 1e3,
            "peak_rss_mb": statistics.median(k for _, _, k in runs) / 1024,
            "samples": len(runs),
        }
        for name, runs in samples.items()
    }


class Throughput(NamedTuple):
    calls_per_s: float
    calls_per_cpu_s: float
    after_first_calls_per_s: float
    after_first_calls_per_cpu_s: float


async def _throughput(call: Callable[[], Any], rounds: int) -> Throughput:
    """Calls a second of wall-clock time, and a second of this process's CPU time (the client runs on
    one thread; its CPU time leaves out the server's share of the machine and other tenants'): over
    all `rounds`, then over the rounds after the first. The warm-up leaves the pool 200 idle
    connections, and in the first round httpcore spins, the CPU busy, until they pass their keep-alive
    (5 s: the round lasts as long as the expiry set); the rounds after it show the clients themselves."""
    if rounds < 2:
        raise ValueError(f"rounds must be at least 2 (the first, and the rounds after it), got {rounds}")
    await asyncio.gather(*(call() for _ in range(CONCURRENCY)))  # warm the pool
    started, cpu_started = time.perf_counter(), time.process_time()
    after_first = after_first_cpu = 0.0
    for done in range(rounds):
        if done == 1:
            after_first, after_first_cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(call() for _ in range(CONCURRENCY)))
    ended, cpu_ended = time.perf_counter(), time.process_time()
    calls = rounds * CONCURRENCY
    calls_after_first = (rounds - 1) * CONCURRENCY
    return Throughput(
        calls / (ended - started),
        calls / (cpu_ended - cpu_started),
        calls_after_first / (ended - after_first),
        calls_after_first / (cpu_ended - after_first_cpu),
    )


async def _raw_turn(base_url: str, path: str, limits: httpx2.Limits, rounds: int, library: Any = httpx2) -> Throughput:
    legacy_limits = library.Limits(
        max_connections=limits.max_connections, max_keepalive_connections=limits.max_keepalive_connections
    )
    async with library.AsyncClient(base_url=base_url, limits=legacy_limits) as raw:

        async def call() -> Any:
            return (await raw.get(path)).json()

        return await _throughput(call, rounds)


async def _our_turn(base_url: str, gid: str, limits: httpx2.Limits, rounds: int, aiohttp: bool = False) -> Throughput:
    from telnyx_messages import AsyncTelnyx, DefaultAioHttpClient

    pool_class = DefaultAioHttpClient if aiohttp else httpx2.AsyncClient
    async with pool_class(limits=limits) as pool:
        ours = AsyncTelnyx(api_key=KEY, base_url=base_url, http_client=pool)

        async def call() -> Any:
            return await ours.messages.retrieve_group_messages(gid)

        return await _throughput(call, rounds)


def _legacy_httpx() -> Any:
    import httpx  # legacy httpx, as raw as the floor: its pool is what the package moved away from

    return httpx


async def async_throughput(base_url: str, rounds: int, repeats: int) -> dict[str, Any]:
    limits = httpx2.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    gid = group_id(8)
    turns = {
        "httpx2": lambda: _raw_turn(base_url, f"/messages/group/{gid}", limits, rounds),
        "telnyx_messages": lambda: _our_turn(base_url, gid, limits, rounds),
        "telnyx_messages on aiohttp": lambda: _our_turn(base_url, gid, limits, rounds, aiohttp=True),
        "httpx 0.28.1": lambda: _raw_turn(base_url, f"/messages/group/{gid}", limits, rounds, library=_legacy_httpx()),
    }
    results: dict[str, list[Throughput]] = {name: [] for name in turns}
    # Each turn opens its own pool and closes it, and the order flips at each repeat: measured with
    # pools kept open across turns, a turn ran about twice as fast after a turn of the same
    # contender as after the other's, so a fixed order measured the order.
    for repeat in range(repeats):
        for name in turns if repeat % 2 == 0 else reversed(turns):
            results[name].append(await turns[name]())
    medians = {name: Throughput(*map(statistics.median, zip(*r, strict=True))) for name, r in results.items()}
    floor = medians["httpx2"]
    return {
        name: {
            **m._asdict(),
            "ratio": m.calls_per_s / floor.calls_per_s,
            "cpu_ratio": m.calls_per_cpu_s / floor.calls_per_cpu_s,
            "after_first_ratio": m.after_first_calls_per_s / floor.after_first_calls_per_s,
            "after_first_cpu_ratio": m.after_first_calls_per_cpu_s / floor.after_first_calls_per_cpu_s,
        }
        for name, m in medians.items()
    }


def report(results: dict[str, Any]) -> str:
    lines = ["per call (ratio to raw httpx2; median / p90 / best):"]
    for size, table in results["per_call"].items():
        for name, row in table.items():
            ratios = f"{row['ratio_median']:5.2f}x / {row['ratio_p90']:5.2f}x / {row['ratio_best']:5.2f}x"
            lines.append(f"  {size:<6} {name:<28} {row['median_us']:9.1f} us  {ratios}")
    lines.append("parse only, N=100 (ratio to json.loads; median / best):")
    for name, row in results["parse_only"].items():
        lines.append(f"  {name:<35} {row['median_us']:9.1f} us  {row['ratio']:5.2f}x / {row['ratio_best']:5.2f}x")
    lines.append("cold start: import + construct + first call, fresh interpreters (median; median excess over httpx2):")
    for name, row in results["cold_start"].items():
        lines.append(
            f"  {name:<35} {row['ms']:7.1f} ms  {row['over_httpx2_ms']:+7.1f} ms  peak RSS {row['peak_rss_mb']:6.1f} MB"
            f"  ({row['samples']} starts)"
        )
    lines.append(
        f"async, {CONCURRENCY} concurrent calls, N=8 (ratio to raw httpx2.AsyncClient; wall clock / client CPU;"
        " whole turns, then the rounds after the first):"
    )
    for name, row in results["async"].items():
        for label, key in (("whole turn", ""), ("after the first round", "after_first_")):
            lines.append(
                f"  {name:<26} {label:<22} {row[key + 'calls_per_s']:7.0f} calls/s  {row[key + 'ratio']:5.2f}x"
                f"  / {row[key + 'calls_per_cpu_s']:6.0f} calls/CPU-s  {row[key + 'cpu_ratio']:5.2f}x"
            )
    lines += volume.report(results["volume"])
    lines += campaign.report(results["campaign"])
    return "\n".join(lines)


def _save(path: Path | None, results: dict[str, Any]) -> None:
    """The figures as JSON at `path` (--json), if one was given."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument(
        "--smoke", action="store_true", help="one iteration of everything: checks the runner, measures nothing"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--volume-only", action="store_true", help="only the concurrency sweep")
    parser.add_argument(
        "--points", type=lambda text: tuple(int(n) for n in text.split(",")), help="the sweep's N, e.g. 1000,3000"
    )
    parser.add_argument("--campaign-only", action="store_true", help="only the campaign section")
    parser.add_argument(
        "--journals-only", action="store_true", help="only the campaign's journals (SQLite, PostgreSQL x1 and x3)"
    )
    parser.add_argument("--repeats", type=int, default=1, help="turns of the sweep at each N, order flipped each turn")
    args = parser.parse_args()
    # Short turns: the contenders see the same state of a shared machine.
    rounds, batch, cold, async_rounds = (1, 1, 1, 2) if args.smoke else (args.rounds, 5, 45, 5)
    if args.smoke:  # checks the runner's own code only: small, and without the official SDK
        global official, CONCURRENCY
        official, CONCURRENCY = None, 10
    points = args.points or ((10,) if args.smoke else volume.POINTS)
    with running_server(SPEC) as base_url:
        if args.volume_only:
            swept = asyncio.run(volume.sweep(base_url, points, official is not None, args.repeats))
            print("\n".join(volume.report(swept)))
            _save(args.json, {"python": sys.version.split()[0], "volume": swept})
            return 0
        if args.journals_only:
            journals = postgres_campaign.run(base_url)
            print("\n".join(postgres_campaign.report(journals)))
            _save(args.json, {"python": sys.version.split()[0], "journals": journals})
            return 0
        if args.campaign_only:
            measured = campaign.run(base_url)
            print("\n".join(campaign.report(measured)))
            _save(args.json, {"python": sys.version.split()[0], "campaign": measured})
            return 0
        results = {
            "python": sys.version.split()[0],
            "httpx2": httpx2.__version__,
            "official": getattr(official, "__version__", None),
            "per_call": per_call(base_url, rounds, batch),
            "parse_only": parse_only(rounds, batch),
            "cold_start": cold_start(base_url, cold, min(cold, 15)),
            "async": asyncio.run(async_throughput(base_url, async_rounds, 1 if args.smoke else 10)),
            "volume": asyncio.run(volume.sweep(base_url, points, official is not None, args.repeats)),
            # About 2 minutes (a 1,000,000-row CSV) and 10-15 for the journals (2 turns of 10,000 rows each); the
            # smoke run's: 10 rows, one turn, one dry run of a 100-row CSV, 30 rows a journal (and a PostgreSQL
            # start). The smoke checks that each part runs and reports, not a rate: at 300 rows a journal, the
            # journals were half the smoke run's CPU (5 sender processes opening up to 200 connections each).
            "campaign": (
                campaign.run(base_url, 10, 1, 100, SMOKE_JOURNAL_ROWS) if args.smoke else campaign.run(base_url)
            ),
        }
    print(report(results))
    _save(args.json, results)
    return 0


if __name__ == "__main__":
    os.environ.pop("TELNYX_LOG", None)
    sys.exit(main())
