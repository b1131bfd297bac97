"""A TCP server on 127.0.0.1 that writes scripted bytes: for answers no HTTP server library would send."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator


class RawServer:
    """A TCP server on 127.0.0.1 that writes what `script` yields, with pauses; bounded: each
    connection ends after the script, and the server after `seconds`."""

    def __init__(self, script: Callable[[], Iterator[bytes | float]], seconds: float = 20.0) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.base_url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.script = script
        self.until = time.monotonic() + seconds
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while time.monotonic() < self.until:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            try:
                for step in self.script():
                    if time.monotonic() > self.until:
                        return
                    if isinstance(step, float):
                        time.sleep(step)
                    else:
                        connection.sendall(step)
            except OSError:
                return

    def close(self) -> None:
        self.until = 0
        self.listener.close()

    def __enter__(self) -> RawServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
