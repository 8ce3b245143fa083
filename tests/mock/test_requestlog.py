"""The request log: what it keeps, in order, and that no bewit is ever held."""

from __future__ import annotations

from datetime import datetime, timezone

from tutorial_kit.mock.web.requestlog import RequestLog


def _record(log: RequestLog, n: int, query_string: str = "") -> None:
    log.record(time=datetime(2026, 11, 28, 20, 0, n, 123456, tzinfo=timezone.utc),
               method="status", http_method="GET", route=f"/api/queue/v1/task/T{n}/status",
               query_string=query_string, status=200, latency_ms=0.12345, client_id=None)


def test_records_come_back_formatted_in_order():
    log = RequestLog(maxlen=3)
    for n in range(5):
        _record(log, n)
    records = log.since(0)
    assert [r.seq for r in records] == [3, 4, 5]  # the ring keeps the last three
    assert records[0].time == "2026-11-28T20:00:02.123Z"
    assert records[0].latency_ms == 0.123 and records[0].query == {}
    assert [r.seq for r in log.since(3)] == [4, 5]
    assert [r.seq for r in log.since(0, limit=1)] == [3]
    assert log.last_seq == 5


def test_no_bewit_or_other_value_is_held():
    log = RequestLog()
    _record(log, 1, "bewit=c2VjcmV0&limit=5&continuationToken=abc&other=x")
    held = repr(list(log._records))
    assert "c2VjcmV0" not in held and "'x'" not in held
    assert log.since(0)[0].query == {"bewit": "<redacted>", "limit": "5",
                                     "continuationToken": "abc", "other": "<redacted>"}
