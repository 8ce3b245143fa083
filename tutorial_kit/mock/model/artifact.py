"""One artifact as the mock stores it: the ``artifacts`` table, its row, and the rule for a
repeated createArtifact (QUEUE-FACTS §e check 5).

What differs between storage types (details, replies, downloads, uploads) lives in
:mod:`~tutorial_kit.mock.model.storagetypes`; the Queue methods in
:mod:`~tutorial_kit.mock.model.artifacts`.
"""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from tutorial_kit.dates import parse_date

SCHEMA = """
CREATE TABLE IF NOT EXISTS artifacts (
    task_id TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    storage_type TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content_length INTEGER,
    expires TEXT NOT NULL,
    details TEXT NOT NULL,
    present INTEGER NOT NULL,
    PRIMARY KEY (task_id, run_id, name)
);
CREATE INDEX IF NOT EXISTS artifacts_expires ON artifacts (expires);
"""

COLUMNS = ("task_id, run_id, name, storage_type, content_type, content_length, expires, "
           "details, present")


@dataclass
class Artifact:
    """One row of the ``artifacts`` table."""

    taskId: str
    runId: int
    name: str
    storageType: str
    contentType: str
    expires: str  # Date.toJSON() form
    details: dict[str, Any] = field(default_factory=dict)
    present: bool = True
    contentLength: int | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row | tuple) -> Artifact:
        (task_id, run_id, name, storage_type, content_type, content_length, expires, details,
         present) = tuple(row)
        return cls(task_id, int(run_id), name, storage_type, content_type, expires,
                   json.loads(details), bool(present), content_length)

    def serialize(self) -> dict[str, Any]:
        """The ``artifact-response.json`` form (listings, artifactInfo)."""
        out: dict[str, Any] = {"storageType": self.storageType, "name": self.name,
                               "expires": self.expires, "contentType": self.contentType}
        if self.contentLength is not None:
            out["contentLength"] = self.contentLength
        return out

    def message_form(self) -> dict[str, Any]:
        # artifact-created's schema forbids contentLength (QUEUE-FACTS §j.2).
        return {"storageType": self.storageType, "name": self.name, "expires": self.expires,
                "contentType": self.contentType}


def load(conn: sqlite3.Connection, taskId: str, runId: int, name: str) -> Artifact | None:
    """The artifact ``name`` of a run, or None."""
    row = conn.execute(f"SELECT {COLUMNS} FROM artifacts WHERE task_id = ? AND run_id = ? "
                       "AND name = ?", (taskId, runId, name)).fetchone()
    return Artifact.from_row(row) if row is not None else None


def compatible(original: Artifact, storageType: str, contentType: str, expires: str,
               details: dict[str, Any]) -> bool:
    """May a repeated createArtifact be applied to an existing artifact? (§e check 5)"""
    # A link has no content type of its own, so only other types must keep it unchanged.
    if storageType != "link" and original.contentType != contentType:
        return False
    # expires may be extended, never shortened (both strings are Date.toJSON(), so they sort).
    if parse_date(original.expires) > parse_date(expires):
        return False
    if original.storageType == storageType:
        # Same type: identical details, except that a reference may point somewhere new.
        return storageType == "reference" or original.details == details
    # The one allowed change of type: a reference becomes a link.
    return original.storageType == "reference" and storageType == "link"


def encode_token(name: str) -> str:
    """The continuation token of a listing that goes on after ``name``."""
    raw = json.dumps({"name": name}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_token(token: str | None) -> str | None:
    """The name a listing token continues after; a token we cannot read restarts the listing
    (as the real queue does for its key tokens)."""
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode((token + "=" * (-len(token) % 4)).encode()))
        name = data["name"]
        return name if isinstance(name, str) else None
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
        return None
