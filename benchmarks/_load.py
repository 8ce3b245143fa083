"""A small closed-loop HTTP load generator shared by the benchmarks.

``clients`` coroutines each send requests back to back for ``seconds``; latencies are recorded
per request. The generator runs in its own process so that it doesn't share a GIL with the
server under test; both servers under comparison get the same generator.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable



@dataclass
class Result:
    label: str
    clients: int
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int
    #: CPU seconds the server process used while requests were measured (None: not sampled)
    server_cpu: float | None = None

    @property
    def cpu_us(self) -> float:
        """The server's CPU microseconds per request: unlike throughput, hardly moved by other
        processes competing for the machine's cores."""
        if self.server_cpu is None or not self.requests:
            return float("nan")
        return self.server_cpu / self.requests * 1e6

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, int(q * len(data)))]

    def line(self) -> str:
        cpu = f"  server CPU {self.cpu_us:5.0f} us/req" if self.server_cpu is not None else ""
        return (f"{self.label:<28} clients={self.clients:>2}  {self.rps:8.0f} req/s  "
                f"p50 {self.pct(0.50):6.2f} ms  p99 {self.pct(0.99):6.2f} ms  "
                f"errors {self.errors}{cpu}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its threads so far (Linux)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(argv: list[str], ready: re.Pattern[str], env: dict | None = None,
                 timeout: float = 30.0) -> tuple[subprocess.Popen, re.Match[str]]:
    """Start a server subprocess and wait for a stdout line matching ``ready``."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, **(env or {})})
    give_up = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < give_up:
        line = proc.stdout.readline()
        if not line:
            break
        match = ready.search(line)
        if match:
            return proc, match
    proc.kill()
    raise RuntimeError(f"server {argv} did not start")


PYTHON = sys.executable


async def run_raw_load(label: str, clients: int, seconds: float, host: str, port: int,
                       make_request: Callable[[int], bytes], *, warmup: float = 0.5,
                       server_pid: int | None = None) -> Result:
    """A closed-loop load on raw asyncio streams (HTTP/1.1 keep-alive, one connection per
    client) instead of httpx: a generator this light leaves the server as the bottleneck on a
    small machine, where httpx's own cost would cap both servers alike and hide the ratio.

    ``make_request(n)`` returns the complete request bytes; the response must carry
    ``Content-Length`` (both servers under test send it).
    """
    latencies: list[float] = []
    errors = 0
    counter = 0
    start_measure = time.perf_counter() + warmup
    stop = start_measure + seconds

    async def worker(n: int) -> None:
        nonlocal errors, counter
        reader, writer = await asyncio.open_connection(host, port)
        try:
            i = 0
            while True:
                t0 = time.perf_counter()
                if t0 >= stop:
                    return
                writer.write(make_request(n * 1_000_000 + i))
                i += 1
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                t1 = time.perf_counter()
                if t0 >= start_measure:
                    latencies.append((t1 - t0) * 1000)
                    counter += 1
                    if status >= 400:
                        errors += 1
        finally:
            writer.close()

    cpu: list[float] = []

    async def sample_cpu() -> None:
        # the server's CPU over the measured window only, as the requests are counted
        await asyncio.sleep(max(0.0, start_measure - time.perf_counter()))
        cpu.append(cpu_seconds(server_pid))
        await asyncio.sleep(max(0.0, stop - time.perf_counter()))
        cpu.append(cpu_seconds(server_pid))

    samplers = [sample_cpu()] if server_pid is not None and os.path.exists("/proc") else []
    await asyncio.gather(*(worker(n) for n in range(clients)), *samplers)
    return Result(label, clients, counter, seconds, latencies, errors,
                  cpu[1] - cpu[0] if len(cpu) == 2 else None)
