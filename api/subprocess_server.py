"""``linli serve`` as a subprocess on a free port, for the crash test and the load benchmark.

The server runs in its own process group (job workers included), is ready once ``/docs``
answers, and is stopped with SIGKILL or, when ``graceful``, with SIGINT first.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


class ServerStartError(RuntimeError):
    """The server exited or stayed silent; the message ends with its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A ``linli serve`` subprocess (its own process group) and its base URL."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def output(self, chars: int = 4000) -> str:
        """The end of the server's log, for failure messages."""
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]

    def cpu_s(self) -> float:
        """User + system CPU seconds so far of the server's live processes (its process
        group: HTTP and job workers included; Linux /proc)."""
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with suppress(OSError, IndexError, ValueError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == self.process.pid:
                    ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")


@contextmanager
def serve(
    url: str,
    log: Path,
    *,
    env: Mapping[str, str],
    start_timeout_s: float = 60.0,
    poll_s: float = 0.1,
    graceful: bool = False,
    options: Sequence[str] = (),
) -> Iterator[Server]:
    """Start the server on database ``url`` and wait until /docs answers; stop it after.

    ``options`` are more ``linli serve`` options, e.g. ``("--workers", "2")``."""
    port = free_port()
    command = [sys.executable, "-m", "api.cli", "serve", "--db", url, "--port", str(port)]
    command += list(options)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=dict(env),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + start_timeout_s
        while True:
            if process.poll() is not None:
                raise ServerStartError(
                    f"server exited with {process.returncode}:\n{server.output()}"
                )
            with suppress(httpx.TransportError):
                if httpx.get(f"{server.base_url}/docs", timeout=2.0).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"server did not answer within {start_timeout_s:.0f} s:\n{server.output()}"
                )
            time.sleep(poll_s)
        yield server
    finally:
        if process.poll() is None:
            if graceful:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
            else:
                process.kill()
        process.wait(timeout=20)
        with suppress(ProcessLookupError):  # helpers the server started share its group
            os.killpg(process.pid, signal.SIGKILL)
