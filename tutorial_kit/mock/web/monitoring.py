"""The monitoring methods every Taskcluster service has (``ping``, ``lbheartbeat``,
``version``, ``heartbeat``), as the Object service answers them; the queue's model answers its
own."""

from __future__ import annotations

import time

from tutorial_kit.mock.model.call import Reply

MONITORING = frozenset({"ping", "lbheartbeat", "version", "heartbeat"})


def monitoring_reply(name: str, started: float) -> Reply:
    """The reply of monitoring method ``name`` of a service up since ``started``
    (``time.monotonic()``)."""
    from tutorial_kit import __version__

    if name == "ping":
        return Reply({"alive": True, "uptime": round(time.monotonic() - started, 3)})
    if name == "version":
        return Reply({"version": __version__, "commit": "mock", "build": "tutorial-kit",
                      "source": "https://github.com/taskcluster/taskcluster"})
    return Reply({})
