"""Where the mock listens: loopback by default; any other address only with strict auth.

Refusals must say how to proceed (``strict=True`` / ``--strict``) and must happen before
anything listens or any worker (the shell engine runs commands!) starts.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading

import pytest

from tutorial_kit.mock import start
from tutorial_kit.mock.server import launch

from .support import ServedQueue, Wire, check_error, new_task_id, task_definition


def outside_address() -> str:
    """An address of this machine that is not loopback (skip when there is none)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET: no packet is sent for a UDP connect
            address = s.getsockname()[0]
        except OSError:
            address = ""
    if not address or address.startswith("127."):
        pytest.skip("this machine has no non-loopback IPv4 address to probe from")
    return address


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def test_start_listens_on_loopback_only() -> None:
    with start(workers=False, claim_wait=0.1) as mock:
        assert mock.host == "127.0.0.1" and mock.root_url.startswith("http://127.0.0.1:")
        assert reachable("127.0.0.1", mock.port)
        assert not reachable(outside_address(), mock.port)


def test_the_cli_listens_on_loopback_only() -> None:
    with ServedQueue("--no-workers") as served:
        wire = Wire.for_root(served.root_url)
        assert wire.host == "127.0.0.1" and reachable("127.0.0.1", wire.port)
        assert not reachable(outside_address(), wire.port)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.com"])
def test_start_refuses_other_addresses_without_strict(host: str) -> None:
    threads = set(threading.enumerate())
    with pytest.raises(ValueError) as refusal:
        start(host=host, workers=True)
    message = str(refusal.value)
    assert "strict=True" in message and "--strict" in message and "127.0.0.1" in message
    assert set(threading.enumerate()) == threads, "something started before the refusal"


def test_the_cli_refuses_other_addresses_without_strict() -> None:
    done = subprocess.run([sys.executable, "-m", "tutorial_kit.cli", "mock-queue", "serve",
                           "--host", "0.0.0.0"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "export" not in done.stdout  # nothing was served
    assert "--strict" in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.count("\n") <= 2, done.stderr  # one clear line, not a dump


def test_strict_mode_beyond_loopback_still_demands_credentials() -> None:
    with start(host="0.0.0.0", strict=True, workers=False, claim_wait=0.1) as mock:
        wire = Wire("127.0.0.1", mock.port)
        answer = wire.api("PUT", f"/task/{new_task_id()}", json_body=task_definition())
        assert answer.status == 403 and check_error(answer)["code"] == "InsufficientScopes"
        assert wire.send("POST", "/mock/v1/reset").status in (401, 403)
        assert wire.send("GET", "/mock/v1/state").status in (401, 403)
        assert wire.send("GET", "/mock/v1/state", credentials=mock.credentials).status == 200


def test_launch_refuses_other_addresses_for_a_non_strict_app() -> None:
    from tutorial_kit.mock.web.app import QueueApp
    from tutorial_kit.mock.model.backend import QueueBackend

    app = QueueApp(QueueBackend(), strict=False)
    try:
        mock = launch(app, host="0.0.0.0")
    except ValueError as refusal:
        assert "strict" in str(refusal)
        return
    mock.stop()
    pytest.fail("launch() served a non-strict mock queue on 0.0.0.0")
