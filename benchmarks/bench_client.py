"""The client's cost per call, as ratios against baselines measured in the same run.

Against one mock queue (``tutorial_kit.mock.start``, no workers), sequential ``status`` calls:

- raw ``httpx.Client`` GETs with no signing (the floor: what the server and HTTP cost);
- the official ``taskcluster.Queue`` (requests, a new connection per call, mohawk);
- ``tutorial_kit.Queue``, anonymous (against the raw floor) and with Hawk (against the
  official client, which signs too).

It runs twice when needed: against the mock as shipped, and with the mock's listening socket
made with ``IPPROTO_TCP`` (see ``_nodelay_bind``): as of this writing the shipped one has proto 0,
so asyncio leaves Nagle on and every keep-alive request waits ~40 ms for a delayed ACK; the
official client does not notice because it opens a new connection per call.

Plus the signing alone: ``tutorial_kit.client.hawk`` vs ``mohawk.Sender`` for the same request.
Targets (printed, not asserted): our client at least as fast as the official one, and within
1.5x of the raw-httpx floor.
"""

from __future__ import annotations

import time
from typing import Callable

CALLS = 300
SIGNINGS = 5000


def _best_rates(candidates: dict[str, Callable[[], object]], n: int, rounds: int = 3) -> dict[str, float]:
    """Calls per second of each candidate: the best of ``rounds`` interleaved rounds, so that
    load from other processes on the machine hits all candidates alike."""
    for fn in candidates.values():
        fn()  # warm up (connection, imports)
    best = dict.fromkeys(candidates, 0.0)
    for _ in range(rounds):
        for label, fn in candidates.items():
            started = time.perf_counter()
            for _ in range(n):
                fn()
            best[label] = max(best[label], n / (time.perf_counter() - started))
    for label, rate in best.items():
        print(f"{label:<34} {rate:9.0f} /s   {1000 / rate:7.3f} ms each")
    return best


def _nodelay_bind(host: str, port: int):
    """The mock's listening socket, created with proto IPPROTO_TCP so that asyncio turns on
    TCP_NODELAY for accepted connections (with proto 0 it does not, and every keep-alive
    request then waits ~40 ms for a delayed ACK)."""
    import socket
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def main() -> None:
    import socket
    from unittest import mock as patching

    from tutorial_kit.mock import server

    probe = server._bind("127.0.0.1", 0)
    shipped_proto = probe.proto
    probe.close()
    _compare(f"mock as shipped (listening socket proto={shipped_proto})")
    if shipped_proto != socket.IPPROTO_TCP:
        with patching.patch.object(server, "_bind", _nodelay_bind):
            _compare("mock with an IPPROTO_TCP listening socket (TCP_NODELAY on)")
    _signing()


def _compare(title: str) -> None:
    import httpx
    import taskcluster

    from tutorial_kit.client import Queue, fromNowJSON, slugid
    from tutorial_kit.mock.server import start

    print(f"\n--- {title}")
    with start(workers=False) as mock:
        creds = dict(mock.credentials)
        ours = Queue({"rootUrl": mock.root_url, "credentials": creds})
        task_id = slugid()
        ours.createTask(task_id, {
            "taskQueueId": "bench/client", "created": fromNowJSON("0 seconds"),
            "deadline": fromNowJSON("1 hour"), "payload": {},
            "metadata": {"name": "bench", "description": "bench", "owner": "b@example.com",
                         "source": "https://example.com/bench"}})
        official = taskcluster.Queue({"rootUrl": mock.root_url, "credentials": dict(creds)})
        raw = httpx.Client()
        url = ours.buildUrl("status", task_id)

        anonymous = Queue({"rootUrl": mock.root_url})
        print(f"sequential status() calls against {mock.root_url}, best of 3 rounds of {CALLS}")
        rates = _best_rates({
            "raw httpx GET (anonymous)": lambda: raw.get(url).json(),
            "official taskcluster.Queue": lambda: official.status(task_id),
            "tutorial_kit.Queue (anonymous)": lambda: anonymous.status(task_id),
            "tutorial_kit.Queue (Hawk)": lambda: ours.status(task_id),
        }, CALLS)
        print("ratio tutorial_kit / official (both Hawk): "
              f"{rates['tutorial_kit.Queue (Hawk)'] / rates['official taskcluster.Queue']:5.2f}x "
              "throughput (target >= 1.0)")
        print("ratio raw floor / tutorial_kit (both anonymous): "
              f"{rates['raw httpx GET (anonymous)'] / rates['tutorial_kit.Queue (anonymous)']:5.2f}x "
              "(target <= 1.5)")
        raw.close()
        ours.close()
        anonymous.close()


def _signing() -> None:
    import mohawk

    from tutorial_kit.client import hawk
    from tutorial_kit.client.options import Credentials

    creds = {"clientId": "bench", "accessToken": "bench-token"}
    c = Credentials(creds["clientId"], creds["accessToken"])
    ext = hawk.make_ext(c, None)
    sign_url = "http://127.0.0.1:1234/api/queue/v1/task/abc/status"
    print(f"\nHawk header signing only, best of 3 rounds of {SIGNINGS}")
    rates = _best_rates({
        "mohawk.Sender": lambda: mohawk.Sender(
            {"id": c.clientId, "key": c.accessToken, "algorithm": "sha256"}, sign_url, "GET",
            content="", content_type="", ext=ext).request_header,
        "tutorial_kit.client.hawk": lambda: hawk.authorization_header(c, "GET", sign_url, ext=ext),
    }, SIGNINGS)
    print(f"ratio ours / mohawk: {rates['tutorial_kit.client.hawk'] / rates['mohawk.Sender']:5.2f}x "
          "throughput")


if __name__ == "__main__":
    main()
