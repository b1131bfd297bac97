"""Two installs of this package side by side: before and after a change, in one run, turns interleaved.

    python bench/compare.py BEFORE AFTER [--turns T] [--rounds R] [--cold C] [--json OUT] [--smoke]

BEFORE and AFTER are work trees, each with its own `make install` (its .venv, its generated client).
One install cannot import the other's `telnyx_messages`, so each install's measurements run in a
process of its own, started with that install's python: a long-lived child per install for the
per-call and parse turns (it answers one turn per request on its stdin), a fresh interpreter per
start for the cold start. The parent hands the turns out alternately, the order flipped at each
repetition (A B, B A, A B, ...), so that both see the same state of a shared machine; one bench
server (bench/server.py) answers both.

  per call     GET /messages/group/{id}, N = 1, 8, 100: each turn R rounds of 5 calls, this package's
               calls interleaved with raw httpx2's (the floor, in the same process)
  parse only   the decoded group of 100 to the result model (the class the client itself returns),
               against json.loads of the same body, each body as the server sent it
  cold start   a fresh interpreter as a plain install (bench/run.py's COLD): import, construct, first
               call; its excess over raw httpx2's start in the same turn, by the same install's
               python; peak RSS (VmHWM)

For each measure it reports both installs' medians and after/before: of the ratio to the floor
(each turn's median over its floor's, then the median over turns: the figure the bench reports, and
the steadier one when the machine's load moves), and of the absolute medians (all samples pooled);
each on the wall clock and on CPU time (the client's thread; the cold start's whole interpreter),
which a loaded machine disturbs far less: at a load of 20 on 2 cores a call waits for a core most of
its wall-clock time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
KEY = "KEY-bench"
SIDES = ("before", "after")


# --- the child: one install's measurements, in that install's python -----------------------------


def _child(base_url: str) -> int:
    """Answers one JSON request a line on stdin with one JSON line on stdout, until stdin closes."""
    import gc

    import httpx2
    from telnyx_messages import Telnyx

    raw = httpx2.Client(base_url=base_url)
    ours = Telnyx(api_key=KEY, base_url=base_url)
    bodies: list[bytes] = []
    model: Any = None

    def timed(request: dict[str, Any]) -> dict[str, list[float]]:
        nonlocal model
        rounds, batch = request["rounds"], request["batch"]
        samples: dict[str, list[float]] = {"ours": [], "floor": [], "ours cpu": [], "floor cpu": []}
        if request["op"] == "per_call":
            path = f"/messages/group/{request['gid']}"
            contenders: dict[str, Callable[[], Any]] = {
                "floor": lambda: raw.get(path).json(),
                "ours": lambda: ours.messages.retrieve_group_messages(request["gid"]),
            }
            for call in contenders.values():
                call()  # warm
            gc.disable()
            try:
                for _ in range(rounds):
                    for name, call in contenders.items():
                        started, cpu_started = time.perf_counter(), time.thread_time()
                        for _ in range(batch):
                            call()
                        samples[name].append((time.perf_counter() - started) / batch)
                        samples[name + " cpu"].append((time.thread_time() - cpu_started) / batch)
            finally:
                gc.enable()
            return samples
        # parse only: each parser on a freshly decoded document (as in a call, new and warm in the
        # caches), the bodies the server sends in turn, so no message id is parsed twice running
        if model is None:
            path = f"/messages/group/{request['gid']}"
            bodies.extend(raw.get(path).content for _ in range(request["variants"]))
            model = type(ours.messages.retrieve_group_messages(request["gid"]))
        gc.disable()
        try:
            for turn in range(rounds):
                for name in ("floor", "ours"):
                    for i in range(batch):
                        body = bodies[(turn * batch + i) % len(bodies)]
                        if name == "floor":
                            started, cpu_started = time.perf_counter(), time.thread_time()
                            json.loads(body)
                        else:
                            document = json.loads(body)
                            started, cpu_started = time.perf_counter(), time.thread_time()
                            model.from_dict(document)
                        samples[name].append(time.perf_counter() - started)
                        samples[name + " cpu"].append(time.thread_time() - cpu_started)
        finally:
            gc.enable()
        return samples

    # A long-running program's state, as bench/run.py's steady_state: the client decodes with msgspec.
    for _ in range(1000):
        if "msgspec.json" in sys.modules:
            break
        ours.messages.retrieve_group_messages(f"00000000-0000-4000-8000-{100:012d}")
    else:
        raise RuntimeError("the client never switched to msgspec")
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        print(json.dumps(timed(json.loads(line))), flush=True)
    raw.close()
    ours.close()
    return 0


class Child:
    """One install's long-lived measuring process."""

    def __init__(self, tree: Path, base_url: str) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("TELNYX_LOG", "PYTHONPATH")}
        self.process = subprocess.Popen(
            [str(tree / ".venv" / "bin" / "python"), str(Path(__file__).resolve()), "--child", base_url],
            cwd=tree,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self._read()

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the measuring child exited ({self.process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def turn(self, **request: Any) -> dict[str, list[float]]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(30)


# --- the parent --------------------------------------------------------------------------------


def _orders(turns: int) -> Iterator[tuple[str, ...]]:
    """A B, B A, A B, ...: neither install always goes first."""
    for turn in range(turns):
        yield SIDES if turn % 2 == 0 else SIDES[::-1]


def _summary(per_turn: dict[str, list[dict[str, list[float]]]], scale: float) -> dict[str, Any]:
    """Per side and clock (wall, and the client thread's CPU, which other tenants of the machine
    touch less): the pooled median (scaled), and the median over turns of each turn's median over
    its floor's; and after/before of both."""
    out: dict[str, Any] = {}
    for clock, suffix in (("wall", ""), ("cpu", " cpu")):
        for side, turns in per_turn.items():
            pooled = [s for t in turns for s in t["ours" + suffix]]
            floor = [s for t in turns for s in t["floor" + suffix]]
            ratios = (statistics.median(t["ours" + suffix]) / statistics.median(t["floor" + suffix]) for t in turns)
            out.setdefault(side, {})[clock] = {
                "median": statistics.median(pooled) * scale,
                "floor_median": statistics.median(floor) * scale,
                "x_floor": statistics.median(ratios),
            }
            out[side]["turns"], out[side]["samples"] = len(turns), len(pooled)
        b, a = out["before"][clock], out["after"][clock]
        out[f"after/before {clock} x_floor"] = a["x_floor"] / b["x_floor"]
        out[f"after/before {clock} median"] = a["median"] / b["median"]
    return out


# bench/run.py's cold start (its COLD), timing the client's CPU beside the wall clock.
COLD = """
import sys
sys.modules.update(dict.fromkeys({absent!r}, None))
import time
started, cpu_started = time.perf_counter(), time.process_time()
{body}
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(elapsed, cpu, hwm)
"""


def _cold_start(trees: dict[str, Path], base_url: str, gid: str, repeats: int) -> dict[str, Any]:
    import run  # bench/run.py: the cold start's programs and the modules a plain install lacks

    code = {
        name: COLD.format(absent=run.NOT_IN_A_PLAIN_INSTALL, body=run.COLD_BODIES[name].format(url=base_url, gid=gid))
        for name in ("httpx2", "telnyx_messages")
    }
    # Bytecode written and a first, unmeasured, turn: an installed wheel's bytecode is compiled.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "TELNYX_LOG", "PYTHONPATH")}
    samples: dict[str, list[dict[str, float]]] = {side: [] for side in SIDES}
    for turn, order in enumerate(_orders(repeats + 1)):
        for side in order:
            python = str(trees[side] / ".venv" / "bin" / "python")
            start: dict[str, float] = {}
            for name in ("httpx2", "telnyx_messages") if turn % 4 < 2 else ("telnyx_messages", "httpx2"):
                done = subprocess.run(
                    [python, "-c", code[name]], cwd=trees[side], capture_output=True, text=True, check=True, env=env
                )
                seconds, cpu, hwm_kb = done.stdout.split()
                start[name], start[name + " cpu"], start[name + " rss"] = float(seconds), float(cpu), int(hwm_kb) / 1024
            if turn:
                samples[side].append(start)
    out: dict[str, Any] = {}
    for side, starts in samples.items():
        out[side] = {"samples": len(starts)}
        for clock, suffix in (("wall", ""), ("cpu", " cpu")):
            ours, floor = "telnyx_messages" + suffix, "httpx2" + suffix
            out[side][clock] = {
                "ms": statistics.median(s[ours] for s in starts) * 1e3,
                "httpx2_ms": statistics.median(s[floor] for s in starts) * 1e3,
                "over_httpx2_ms": statistics.median(s[ours] - s[floor] for s in starts) * 1e3,
            }
        out[side]["peak_rss_mb"] = statistics.median(s["telnyx_messages rss"] for s in starts)
        out[side]["httpx2_peak_rss_mb"] = statistics.median(s["httpx2 rss"] for s in starts)
    for clock in ("wall", "cpu"):
        b, a = out["before"][clock], out["after"][clock]
        out[f"after/before {clock} ms"] = a["ms"] / b["ms"]
        out[f"after-before {clock} excess ms"] = a["over_httpx2_ms"] - b["over_httpx2_ms"]
    out["after/before peak_rss"] = out["after"]["peak_rss_mb"] / out["before"]["peak_rss_mb"]
    return out


def compare(
    trees: dict[str, Path], turns: int, rounds: int, cold: int, sizes: tuple[int, ...] | None = None, parse: bool = True
) -> dict[str, Any]:
    from server import SIZES, VARIANTS, group_id, running_server

    spec = trees["after"] / "openapi" / "messages.yml"
    results: dict[str, Any] = {"trees": {side: str(tree) for side, tree in trees.items()}}
    with running_server(spec) as base_url:
        children = {side: Child(trees[side], base_url) for side in SIDES}
        try:
            for n in sizes or SIZES:
                per_turn: dict[str, list[dict[str, list[float]]]] = {side: [] for side in SIDES}
                for order in _orders(turns):
                    for side in order:
                        per_turn[side].append(
                            children[side].turn(op="per_call", gid=group_id(n), rounds=rounds, batch=5)
                        )
                results[f"per call N={n}"] = _summary(per_turn, 1e6)
            per_turn = {side: [] for side in SIDES}
            for order in _orders(turns if parse else 0):
                for side in order:
                    request = {"op": "parse", "gid": group_id(100), "variants": VARIANTS, "rounds": rounds, "batch": 5}
                    per_turn[side].append(children[side].turn(**request))
            if parse:
                results["parse only N=100"] = _summary(per_turn, 1e6)
        finally:
            for child in children.values():
                child.close()
        if cold:
            results["cold start"] = _cold_start(trees, base_url, group_id(8), cold)
    return results


def report(results: dict[str, Any]) -> str:
    lines = ["before / after, after/before; x floor: each turn's median over its floor's, the median of turns"]
    for clock in ("wall", "cpu"):
        what = "" if clock == "wall" else " (the client thread; for the cold start, the interpreter)"
        lines.append(f"{clock} clock{what}:")
        for measure, row in results.items():
            if measure.startswith(("per call", "parse")):
                b, a = row["before"][clock], row["after"][clock]
                lines.append(
                    f"  {measure:<18} {b['median']:8.1f} us ({b['x_floor']:.3f}x) / {a['median']:8.1f} us"
                    f" ({a['x_floor']:.3f}x)   x floor {row[f'after/before {clock} x_floor']:.3f}, median"
                    f" {row[f'after/before {clock} median']:.3f}  ({row['before']['turns']} turns,"
                    f" {row['before']['samples']} samples a side)"
                )
        if "cold start" not in results:
            continue
        cold = results["cold start"]
        b, a = cold["before"][clock], cold["after"][clock]
        lines.append(
            f"  cold start         {b['ms']:7.1f} ms ({b['over_httpx2_ms']:+.1f}) / {a['ms']:7.1f} ms"
            f" ({a['over_httpx2_ms']:+.1f})   after/before {cold[f'after/before {clock} ms']:.3f}, excess"
            f" {cold[f'after-before {clock} excess ms']:+.1f} ms  ({cold['before']['samples']} starts a side)"
        )
    if "cold start" not in results:
        return "\n".join(lines)
    b, a = results["cold start"]["before"], results["cold start"]["after"]
    lines.append(
        f"peak RSS             {b['peak_rss_mb']:7.1f} MB / {a['peak_rss_mb']:7.1f} MB   after/before"
        f" {results['cold start']['after/before peak_rss']:.3f}  (raw httpx2 {b['httpx2_peak_rss_mb']:.1f} /"
        f" {a['httpx2_peak_rss_mb']:.1f} MB)"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", type=Path, nargs="?")
    parser.add_argument("after", type=Path, nargs="?")
    parser.add_argument("--turns", type=int, default=12, help="turns a side for each per-call N and for parse")
    parser.add_argument("--rounds", type=int, default=20, help="rounds of 5 calls (or parses) in a turn")
    parser.add_argument("--cold", type=int, default=40, help="cold starts a side (0: none)")
    parser.add_argument(
        "--sizes", type=lambda text: tuple(int(n) for n in text.split(",")), help="the per-call N, e.g. 100"
    )
    parser.add_argument("--no-parse", action="store_true", help="leave out the parse turns")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--smoke", action="store_true", help="two turns of one round: checks the runner only")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(args.child)
    if args.before is None or args.after is None:
        parser.error("give the two work trees, BEFORE and AFTER")
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    for side, tree in trees.items():
        if not (tree / ".venv" / "bin" / "python").exists():
            parser.error(f"{side} ({tree}) has no .venv: run make install there")
    sys.path.insert(0, str(BENCH))
    turns, rounds, cold = (2, 1, 1) if args.smoke else (args.turns, args.rounds, args.cold)
    results = compare(trees, turns, rounds, cold, args.sizes, not args.no_parse)
    results["python"] = sys.version.split()[0]
    print(report(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
