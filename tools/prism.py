"""Start and stop Prism, the spec-driven mock and validating proxy of the API, on 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

PRISM = Path(__file__).resolve().parent / "node_modules" / ".bin" / "prism"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_prism(
    spec: Path, *, upstream: str | None = None, extra: tuple[str, ...] = (), timeout: float = 60
) -> Iterator[str]:
    """Yield the base URL of a Prism server on 127.0.0.1; stop it afterwards.

    Without `upstream` it mocks the API from `spec` (`prism mock`); with one, it forwards to
    `upstream` and checks requests and responses against `spec` on the way (`prism proxy`).
    """
    if not PRISM.exists():
        raise RuntimeError(f"{PRISM} is missing: run `make test` or `make demo`, which install it")
    port = free_port()
    mode = ["mock", str(spec)] if upstream is None else ["proxy", str(spec), upstream]
    command = [str(PRISM), *mode, *extra, "-h", "127.0.0.1", "-p", str(port)]
    log = open(spec.parent / f".prism-{port}.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"prism exited with {process.returncode}; see {log.name}")
            try:
                urllib.request.urlopen(base_url + "/", timeout=1)
            except urllib.error.HTTPError:
                break  # it answers: ready
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"prism did not start within {timeout} s; see {log.name}") from None
                time.sleep(0.2)
            else:
                break
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        Path(log.name).unlink(missing_ok=True)
