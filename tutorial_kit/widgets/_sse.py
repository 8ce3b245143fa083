"""Reading the mock queue's event stream (``/mock/v1/events``, Server-Sent Events).

Each event carries ``id: <seq>`` and ``data: {"exchange", "routingKey", "payload", ...}``. The
readers below return when the stream goes idle for ``read_timeout`` seconds (``"idle"``), when
the server closes it (``"closed"``), or when the callback asks to stop (``"stopped"``); callers
reopen with ``?since=<last seq>`` so nothing is lost between connections.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

import tutorial_kit._httpx  # noqa: F401  # isort: skip  (first: httpx without its CLI)
import httpx

from tutorial_kit.client.tls import ssl_context

OnMessage = Callable[[dict[str, Any]], Any]  # returns True to stop reading


class Parser:
    """Incremental SSE parser: feed lines, get a message dict per complete event."""

    def __init__(self) -> None:
        self.id: str | None = None
        self.data: list[str] = []

    def feed(self, line: str) -> dict[str, Any] | None:
        if line == "":
            if not self.data:
                return None
            text, self.data = "\n".join(self.data), []
            try:
                message = json.loads(text)
            except ValueError:
                return None  # a malformed event is skipped, not fatal
            if not isinstance(message, dict):
                return None
            if self.id and self.id.isdigit():
                message.setdefault("seq", int(self.id))
            return message
        if line.startswith(":"):
            return None  # a comment (connected / keep-alive)
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self.data.append(value)
        elif name == "id":
            self.id = value
        return None


def events_url(root_url: str, since: int) -> str:
    return f"{root_url.rstrip('/')}/mock/v1/events?since={int(since)}"


def follow(url: str, on_message: OnMessage, *, read_timeout: float,
           should_stop: Callable[[], bool] = lambda: False) -> str:
    """Read the stream (blocking). Raises ``httpx.HTTPError`` when it cannot be read."""
    parser = Parser()
    try:
        with httpx.stream("GET", url, timeout=httpx.Timeout(10.0, read=read_timeout),
                          verify=ssl_context()) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if should_stop():
                    return "stopped"
                message = parser.feed(line)
                if message is not None and on_message(message) is True:
                    return "stopped"
    except httpx.ReadTimeout:
        return "idle"
    return "closed"


async def afollow(url: str, on_message: OnMessage, *, read_timeout: float) -> str:
    """Read the stream in a coroutine; ``on_message`` may be async."""
    parser = Parser()
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=read_timeout),
                                     verify=ssl_context()) as client:
            async with client.stream("GET", url) as response:
                response.raise_for_status()
                async for line in response.aiter_lines():
                    message = parser.feed(line)
                    if message is None:
                        continue
                    result = on_message(message)
                    if inspect.isawaitable(result):
                        result = await result
                    if result is True:
                        return "stopped"
    except httpx.ReadTimeout:
        return "idle"
    return "closed"
