"""The in-process mock: the same application through httpx transports that call it directly, sync
and async, with the built-in workers and the clock, and no socket at all (checked with an audit
hook that sees every bind, connect and name lookup of the process)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

import tutorial_kit as tk
from tutorial_kit.mock import start
from tutorial_kit.mockctl import MockControl

WAIT = 30.0  # real seconds a condition may take before a test gives up (not a timing assert)
NETWORK_EVENTS = {"socket.bind", "socket.connect", "socket.getaddrinfo", "socket.sendto"}
_seen: list[tuple[str, tuple]] | None = None


def _audit(event: str, args: tuple) -> None:
    if _seen is None:
        return
    if event in NETWORK_EVENTS:
        _seen.append((event, args))
    elif event == "socket.__new__" and args[1] in (socket.AF_INET, socket.AF_INET6):
        _seen.append((event, args))  # an IP socket (an event loop's AF_UNIX self-pipe is not)


sys.addaudithook(_audit)  # audit hooks cannot be removed: it records only inside no_network()


@contextlib.contextmanager
def no_network() -> Iterator[None]:
    """Fail if anything in the block creates an IP socket, binds, connects or resolves a name."""
    global _seen
    _seen = []
    try:
        yield
    finally:
        seen, _seen = _seen, None
    assert seen == [], f"the in-process mock touched the network: {seen[:5]}"


def _task(task_queue_id: str, deadline: str = "1 hour") -> dict:
    return {"taskQueueId": task_queue_id, "created": tk.fromNowJSON(""),
            "deadline": tk.fromNowJSON(deadline), "payload": {},
            "metadata": {"name": "in-process", "description": "no socket",
                         "owner": "tests@example.com", "source": "https://example.com/t"}}


def _wait_state(queue, task_id: str, state: str) -> dict:
    end = time.monotonic() + WAIT
    while (status := queue.status(task_id)["status"])["state"] != state:
        assert time.monotonic() < end, f"{task_id} stayed {status['state']}, wanted {state}"
        time.sleep(0.02)
    return status


def test_the_audit_hook_sees_a_real_socket() -> None:
    """The check itself: a loopback mock does open sockets, and no_network() says so."""
    with start(workers=False) as mock, pytest.raises(AssertionError, match="network"):
        with no_network():
            tk.Queue({"rootUrl": mock.root_url}).ping()


def test_sync_client_workers_and_clock_without_a_socket() -> None:
    with no_network():
        mock = start(in_process=True)
        try:
            assert mock.root_url.endswith(".mock-queue.invalid") and mock.port is None
            queue = mock.queue()
            assert queue.ping()["alive"] is True
            # the built-in worker claims and resolves, through the same app
            done, failed = tk.slugid(), tk.slugid()
            queue.createTask(done, _task("built-in/succeed"))
            queue.createTask(failed, _task("built-in/fail"))
            assert _wait_state(queue, done, "completed")["runs"][0]["workerGroup"] == "built-in"
            _wait_state(queue, failed, "failed")
            # the clock: past its deadline a pending task resolves, at once on the moved clock
            stuck = tk.slugid()
            queue.createTask(stuck, _task("nobody/waits", deadline="10 minutes"))
            mock.clock.advance(timedelta(minutes=11))
            status = _wait_state(queue, stuck, "exception")
            assert status["runs"][-1]["reasonResolved"] == "deadline-exceeded"
            # the request log has the workers' calls and ours
            methods = {record.method for record in mock.request_log.since(0)}
            assert {"createTask", "claimWork", "reportCompleted", "reportFailed"} <= methods
            # the control plane, by rootUrl alone (MockControl routes to the in-process app)
            control = MockControl(queue)
            assert control.is_mock() and control.state() is not None
            # an unknown task is the same 404 envelope as over HTTP
            with pytest.raises(tk.TaskclusterError) as error:
                queue.status(tk.slugid())
            assert error.value.status_code == 404
        finally:
            mock.stop()
    assert not mock.running


def test_async_client_from_another_loop() -> None:
    with no_network(), start(in_process=True) as mock:
        async def main() -> str:
            async with mock.async_queue() as queue:
                task_id = tk.slugid()
                await queue.createTask(task_id, _task("built-in/succeed"))
                for _ in range(int(WAIT / 0.02)):
                    state = (await queue.status(task_id))["status"]["state"]
                    if state == "completed":
                        return state
                    await asyncio.sleep(0.02)
                return state

        assert asyncio.run(main()) == "completed"


def test_on_a_running_loop_no_thread_is_started() -> None:
    """With loop= the caller's running loop (as under Pyodide, which has only that one), the
    ticker and the built-in workers are tasks on it: no thread, no socket."""
    async def main() -> None:
        before = threading.active_count()
        mock = start(in_process=True, loop=asyncio.get_running_loop())
        try:
            assert threading.active_count() == before
            queue = mock.async_queue()
            task_id = tk.slugid()
            await queue.createTask(task_id, _task("built-in/succeed"))
            for _ in range(int(WAIT / 0.02)):
                if (await queue.status(task_id))["status"]["state"] == "completed":
                    break
                await asyncio.sleep(0.02)
            assert (await queue.status(task_id))["status"]["state"] == "completed"
            # a blocking client here would wait on itself: a clear error, not a hang
            with pytest.raises(RuntimeError, match="AsyncQueue"):
                mock.queue(maxRetries=0).ping()
            assert threading.active_count() == before
            await queue.aclose()
        finally:
            await mock.astop()

    with no_network():
        asyncio.run(main())


def test_connect_in_process(capsys) -> None:
    from tutorial_kit import connection

    with no_network():
        queue = tk.connect(in_process=True)
        assert "no socket" in capsys.readouterr().out
        mock = connection._in_process
        try:
            assert queue.ping()["alive"] is True
            # fromNow follows the in-process mock's clock, as with the socket mock
            mock.clock.advance(timedelta(days=2))
            created = tk.fromNow("")
            assert abs((created - mock.clock.now()).total_seconds()) < 5
            assert tk.connect(in_process=True, quiet=True).options["rootUrl"] == mock.root_url
        finally:
            mock.stop()


def test_shell_engine_runs_a_command_in_process() -> None:
    """Where threads and subprocesses exist, the shell engine runs beside the built-in workers;
    its artifact uploads go through the in-process app too."""
    with no_network(), start(in_process=True) as mock:
        queue = mock.queue()
        task_id = tk.slugid()
        task = _task("tutorial/docker-worker")
        task["payload"] = {"image": "ubuntu:latest", "maxRunTime": 60,
                           "command": ["/bin/bash", "-c", "echo hello from in-process"]}
        queue.createTask(task_id, task)
        _wait_state(queue, task_id, "completed")
        names = [a["name"] for a in queue.listLatestArtifacts(task_id)["artifacts"]]
        logs = [name for name in names if name.startswith("public/logs/")]
        assert logs, names
        # the log was PUT to the mock's storage and comes back through the same transport
        assert b"hello from in-process" in queue.downloadLatestArtifact(task_id, logs[0])
        described = MockControl(queue)._call("GET", "/cluster")
        assert "tutorial/docker-worker" in described["taskQueues"]
