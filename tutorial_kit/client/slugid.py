"""``slugid()``: a new Taskcluster id (a "nice" v4 slugid).

A random v4 UUID with its first bit cleared, in URL-safe base64 without padding: 22 characters,
starting with a letter in ``[A-Za-f]`` (never ``-``, so it cannot be mistaken for an option).

Reproducible notebooks: when the environment variable ``TUTORIAL_KIT_SEED`` is set, ids are
drawn from a ``random.Random`` seeded with it, so every fresh kernel makes the same sequence of
ids. Such ids are predictable; never use the seed against a shared, real deployment.
"""

from __future__ import annotations

import base64
import os
import random
import threading
import uuid

_lock = threading.Lock()
_seeded: tuple[str, random.Random] | None = None


def _random_bytes() -> bytes:
    global _seeded
    seed = os.environ.get("TUTORIAL_KIT_SEED")
    if not seed:
        return uuid.uuid4().bytes
    with _lock:
        if _seeded is None or _seeded[0] != seed:
            _seeded = (seed, random.Random(seed))
        return _seeded[1].getrandbits(128).to_bytes(16, "big")


def slugid() -> str:
    """A new 22-character slugid, matching ``tutorial_kit.api.SLUGID_PATTERN``."""
    raw = bytearray(_random_bytes())
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    raw[0] &= 0x7F  # "nice": the first base64 character is in [A-Za-f]
    return base64.urlsafe_b64encode(bytes(raw)).decode("ascii")[:22]
