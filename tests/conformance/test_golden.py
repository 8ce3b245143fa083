"""Replay every golden trace against the mock queue and compare, step by step.

See compare.py for what is exact and what the README lets us compare loosely. A difference the
mock makes on purpose belongs in DELIBERATE_DIFFERENCES, with its reason; anything else fails.
"""

from __future__ import annotations

import pytest

from .compare import Mismatch, compare_trace
from .traces import load, trace_names

_EMPTY_PUT_REPLY = (
    "the upload PUT is answered by the storage service, not the Queue: the recording's S3 "
    "stand-in labelled its empty 200 reply text/html; the mock's blob store sends an empty reply "
    "without a content type (as S3's PutObject does), and no client reads either")
#: (scenario, step, JSON path) -> why the mock differs on purpose.
DELIBERATE_DIFFERENCES: dict[tuple[str, int | str, str], str] = {
    ("artifacts-s3", 4, "headers.content-type"): _EMPTY_PUT_REPLY,
    ("artifacts-private", 4, "headers.content-type"): _EMPTY_PUT_REPLY,
}
SHOWN = 12  # mismatches printed per failing scenario


def _deliberate(scenario: str, mismatch: Mismatch) -> bool:
    return (scenario, mismatch.step, mismatch.path) in DELIBERATE_DIFFERENCES


@pytest.mark.parametrize("trace_name", trace_names())
def test_golden_trace(golden_traces, replays, trace_name):
    golden = load(golden_traces, trace_name)
    result = replays.get(trace_name)
    mismatches = [m for m in compare_trace(golden, result.steps, result.trailing)
                  if not _deliberate(trace_name, m)]
    problems = [str(m) for m in mismatches[:SHOWN]]
    if len(mismatches) > SHOWN:
        problems.append(f"... and {len(mismatches) - SHOWN} more")
    if result.error:
        problems.append(f"replay stopped at {result.error}")
    elif len(result.steps) != len(golden["steps"]):
        problems.append(f"replayed {len(result.steps)} of {len(golden['steps'])} steps")
    assert not problems, f"{trace_name} ({result.seconds:.1f} s):\n  " + "\n  ".join(problems)


def test_comparison_catches_a_changed_golden(golden_traces, replays):
    """Against a real replay, a golden changed in three places gives exactly three mismatches."""
    golden = load(golden_traces, "claim-and-complete")
    result = replays.get("claim-and-complete")
    assert result.error is None and len(result.steps) == len(golden["steps"])
    step5 = golden["steps"][4]
    step5["body"]["status"]["runs"][0]["state"] = "failed"
    step5["messages"][1]["routingKey"] = "primary.T1.-.x"
    golden["steps"][7]["status"] = 400
    found = {(m.step, m.path) for m in compare_trace(golden, result.steps, result.trailing)}
    assert found == {(5, "body.status.runs[0].state"), (5, "messages[1].routingKey"), (8, "status")}
