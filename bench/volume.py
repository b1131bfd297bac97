"""The concurrency sweep: a burst of N concurrent async sends (`POST /messages`), N = 100 to 10,000,
each contender on a fresh client, side by side in one run.

For each point and contender: the burst's wall time, the client process's CPU per call, the calls
that failed, and the sends the server counted (more than the calls would be a doubled message).
Legacy httpx 0.28.1 is quadratic in its pool's queue, so its contenders (this package on a legacy
client, raw httpx, the official SDK's default client) run up to LEGACY_HTTPX_MAX calls and are
reported as not run above it: the official SDK's default client took 35 minutes over 10,000 here,
every call failing. Last, the README's "Sending many messages" recipe (`send_all`, read from the
README itself) sends the same number of messages, 200 at a time.

Each later legacy httpx release of tools/legacy_httpx.py (0.29.0) runs too, raw and under this
package, each burst in a subprocess with that release first on the path:
`python bench/volume.py BASE_URL CALLS CONTENDER` runs one burst there and prints its result as JSON.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import legacy_httpx

KEY = "KEY-bench"
POINTS = (100, 1_000, 3_000, 10_000)
LEGACY_HTTPX_MAX = 3_000
NOT_RUN = f"legacy httpx's pool is quadratic: minutes above {LEGACY_HTTPX_MAX}"
BODY = {"to": "+13125550002", "text": "hello"}

# A contender: given the server's URL, an async context that yields a send() coroutine function.
Send = Callable[[], Awaitable[Any]]


class _Contender:
    def __init__(self, name: str, legacy: bool = False) -> None:
        self.name = name
        self.legacy = legacy  # runs on legacy httpx: not above LEGACY_HTTPX_MAX

    async def open(self, base_url: str) -> tuple[Send, Callable[[], Awaitable[None]]]:
        raise NotImplementedError

    async def burst(self, base_url: str, calls: int) -> dict[str, Any]:
        return await burst(self, base_url, calls)


class _OnRelease(_Contender):
    """A contender of bench/volume.py's own list, run in a subprocess on another legacy httpx release."""

    def __init__(self, name: str, version: str) -> None:
        super().__init__(name, legacy=True)
        self._version = version

    async def burst(self, base_url: str, calls: int) -> dict[str, Any]:
        command = [sys.executable, __file__, base_url, str(calls), self.name]
        env = legacy_httpx.environment(self._version)
        run = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True, timeout=3600)
        if run.returncode != 0:
            raise RuntimeError(f"{self.name}: the burst's subprocess failed: {run.stderr.strip()[-2000:]}")
        result: dict[str, Any] = json.loads(run.stdout)
        return result


class _Ours(_Contender):
    def __init__(self, name: str, http_client: Callable[[], Any] | None = None, legacy: bool = False) -> None:
        super().__init__(name, legacy)
        self._http_client = http_client

    async def open(self, base_url: str) -> tuple[Send, Callable[[], Awaitable[None]]]:
        from telnyx_messages import AsyncTelnyx

        http = self._http_client() if self._http_client else None
        client = AsyncTelnyx(api_key=KEY, base_url=base_url, **({"http_client": http} if http else {}))

        async def close() -> None:
            await client.close()
            if http is not None:
                await http.aclose()

        return lambda: client.messages.send(to=BODY["to"], text=BODY["text"]), close


class _RawHttpx(_Contender):
    def __init__(self, name: str, module: Any, legacy: bool = False) -> None:
        super().__init__(name, legacy)
        self._module = module

    async def open(self, base_url: str) -> tuple[Send, Callable[[], Awaitable[None]]]:
        raw = self._module.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {KEY}"})
        content = json.dumps(BODY).encode()

        async def send() -> Any:
            response = await raw.post("/messages", content=content, headers={"Content-Type": "application/json"})
            response.raise_for_status()
            return json.loads(response.content)

        return send, raw.aclose


class _RawAiohttp(_Contender):
    async def open(self, base_url: str) -> tuple[Send, Callable[[], Awaitable[None]]]:
        import aiohttp

        session = aiohttp.ClientSession(base_url=base_url, headers={"Authorization": f"Bearer {KEY}"})

        async def send() -> Any:
            async with session.post("/messages", json=BODY) as response:
                response.raise_for_status()
                return json.loads(await response.read())

        return send, session.close


class _Official(_Contender):
    def __init__(self, name: str, aiohttp: bool) -> None:
        super().__init__(name, legacy=not aiohttp)  # its default client is a legacy httpx one
        self._aiohttp = aiohttp

    async def open(self, base_url: str) -> tuple[Send, Callable[[], Awaitable[None]]]:
        import telnyx  # type: ignore[import-not-found]

        options: dict[str, Any] = {"http_client": telnyx.DefaultAioHttpClient()} if self._aiohttp else {}
        client = telnyx.AsyncTelnyx(api_key=KEY, base_url=base_url, **options)
        return lambda: client.messages.send(to=BODY["to"], text=BODY["text"]), client.close


def _aiohttp_client() -> Any:
    from telnyx_messages import DefaultAioHttpClient

    return DefaultAioHttpClient()


def contenders(official: bool) -> list[_Contender]:
    found: list[_Contender] = [
        _Ours("telnyx_messages"),
        _Ours(f"telnyx_messages on httpx {httpx.__version__}", lambda: httpx.AsyncClient(), legacy=True),
        _RawHttpx("raw httpx2", httpx2),
        _RawHttpx(f"raw httpx {httpx.__version__}", httpx, legacy=True),
    ]
    for version in legacy_httpx.VERSIONS:
        if version != httpx.__version__:  # (in the subprocess, the contenders above are that release's)
            found += [_OnRelease(f"telnyx_messages on httpx {version}", version)]
            found += [_OnRelease(f"raw httpx {version}", version)]
    if importlib.util.find_spec("aiohttp") is not None:
        found.append(_Ours("telnyx_messages on DefaultAioHttpClient", _aiohttp_client))
        found.append(_RawAiohttp("raw aiohttp"))
    if official:
        found += [_Official("telnyx (official)", aiohttp=False), _Official("telnyx (official) aiohttp", aiohttp=True)]
    return found


async def _sends_counted(base_url: str) -> int:
    async with httpx2.AsyncClient(base_url=base_url) as client:
        return int((await client.get("/_sends")).content)


async def burst(contender: _Contender, base_url: str, calls: int) -> dict[str, Any]:
    """One burst of `calls` concurrent sends on a fresh client (after one call that opens a connection)."""
    send, close = await contender.open(base_url)
    try:
        await send()
        before = await _sends_counted(base_url)
        started, cpu_started = time.perf_counter(), time.process_time()
        outcomes = await asyncio.gather(*(send() for _ in range(calls)), return_exceptions=True)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        sent = await _sends_counted(base_url) - before
    finally:
        await close()
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    return {
        "wall_s": wall,
        "cpu_us_per_call": cpu / calls * 1e6,
        "failures": len(failures),
        "first_failure": repr(failures[0])[:200] if failures else None,
        "sends_counted": sent,
        "doubled": max(sent - calls, 0),
    }


def readme_recipe() -> Callable[..., Awaitable[dict[str, str]]]:
    """`send_all` as the README's "Sending many messages" section writes it."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    (code,) = [block for block in re.findall(r"```python\n(.*?)```", readme, re.S) if "async def send_all(" in block]
    namespace: dict[str, Any] = {"__name__": "readme_recipe"}  # not __main__: its main() does not run
    exec(compile(code, "README.md", "exec"), namespace)
    send_all: Callable[..., Awaitable[dict[str, str]]] = namespace["send_all"]
    return send_all


async def recipe(base_url: str, calls: int) -> dict[str, Any]:
    from telnyx_messages import AsyncTelnyx

    send_all = readme_recipe()
    async with AsyncTelnyx(api_key=KEY, base_url=base_url) as client:
        before = await _sends_counted(base_url)
        started, cpu_started = time.perf_counter(), time.process_time()
        outcomes = await send_all(client, [f"+1312{n:07d}" for n in range(calls)], "hello")
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        sent = await _sends_counted(base_url) - before
    failed = [o for o in outcomes.values() if o.startswith("failed")]
    return {
        "wall_s": wall,
        "cpu_us_per_call": cpu / calls * 1e6,
        "failures": len(failed) + (calls - len(outcomes)),
        "first_failure": failed[0][:200] if failed else None,
        "sends_counted": sent,
        "doubled": max(sent - calls, 0),
    }


async def sweep(base_url: str, points: tuple[int, ...], official: bool, repeats: int = 1) -> dict[str, dict[str, Any]]:
    """Each point's row, or with repeats one row a turn ("1000 turn 2"), the contenders' order flipped each turn."""
    results: dict[str, dict[str, Any]] = {}
    for calls in points:
        for turn in range(repeats):
            row: dict[str, Any] = {}
            for contender in contenders(official)[:: -1 if turn % 2 else 1]:
                if contender.legacy and calls > LEGACY_HTTPX_MAX:
                    row[contender.name] = {"not_run": NOT_RUN}
                    continue
                row[contender.name] = await contender.burst(base_url, calls)
            row["README recipe, 200 at once"] = await recipe(base_url, calls)
            results[str(calls) if repeats == 1 else f"{calls} turn {turn + 1}"] = row
    return results


def report(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["volume: a burst of N concurrent async sends on a fresh client (wall; client CPU per call; failures):"]
    for calls, row in results.items():
        for name, cell in sorted(row.items()):
            if "not_run" in cell:
                lines.append(f"  N={calls:<6} {name:<34} not run ({cell['not_run']})")
                continue
            doubled = f"  DOUBLED {cell['doubled']}" if cell["doubled"] else ""
            lines.append(
                f"  N={calls:<6} {name:<34} {cell['wall_s']:8.2f} s  {cell['cpu_us_per_call']:7.0f} us/call"
                f"  {cell['failures']:5d} failed{doubled}"
            )
    return lines


def main(argv: list[str]) -> int:
    """One burst of one contender, by name, its result printed as JSON (what _OnRelease runs)."""
    base_url, calls, name = argv
    (contender,) = [c for c in contenders(official=False) if c.name == name]
    print(json.dumps(asyncio.run(contender.burst(base_url, int(calls)))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
