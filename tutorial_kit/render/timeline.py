"""The runs of a task drawn on a time axis, as inline SVG (no JavaScript, theme colours)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from .html import STATE_ICONS, esc, format_duration, parse_time

WIDTH = 640
LABEL = 170  # room on the left for "run 0 ✔ completed"
ROW = 20


def run_label(run: dict[str, Any], index: int) -> str:
    return f"run {run.get('runId', index)}"


def timeline_svg(runs: Sequence[dict[str, Any]], now: datetime,
                 label: Callable[[dict[str, Any], int], str] = run_label) -> str:
    """One row per run: a grey bar while pending, a coloured bar while running or resolved.

    Open runs extend to ``now``. The state is written beside each bar, not told by colour alone.
    ``label(run, index)`` names a row (``run 0`` by default).
    """
    if not runs:
        return '<div class="tk-muted">no runs yet</div>'
    spans = []
    for run in runs:
        scheduled = parse_time(run.get("scheduled")) or now
        started = parse_time(run.get("started"))
        resolved = parse_time(run.get("resolved"))
        spans.append((run, scheduled, started, resolved))
    t0 = min(s for _, s, _, _ in spans)
    t1 = max([now if r is None else r for _, _, _, r in spans] + [t0])
    total = max((t1 - t0).total_seconds(), 1e-3)
    scale = (WIDTH - LABEL - 10) / total

    def x(t: datetime) -> float:
        return LABEL + max(0.0, (t - t0).total_seconds()) * scale

    parts = []
    for i, (run, scheduled, started, resolved) in enumerate(spans):
        y = 4 + i * ROW
        state = str(run.get("state", ""))
        text = f"{label(run, i)} {STATE_ICONS.get(state, '?')} {state}"
        parts.append(f'<text x="4" y="{y + 12}">{esc(text[:28])}</text>')
        wait_end = started or resolved or now
        parts.append(
            f'<rect class="tk-wait" x="{x(scheduled):.1f}" y="{y + 3}" height="10" '
            f'width="{max(1.0, x(wait_end) - x(scheduled)):.1f}">'
            f'<title>pending {esc(format_duration(wait_end - scheduled))}</title></rect>')
        if started is not None:
            end = resolved or now
            parts.append(
                f'<rect class="tk-run-{esc(state)}" x="{x(started):.1f}" y="{y + 1}" height="14" '
                f'width="{max(1.0, x(end) - x(started)):.1f}">'
                f'<title>{esc(state)} {esc(format_duration(end - started))}</title></rect>')
    height = 4 + len(spans) * ROW + 16
    axis_y = height - 14
    parts.append(f'<line class="tk-axis" x1="{LABEL}" y1="{axis_y}" x2="{WIDTH - 10}" '
                 f'y2="{axis_y}"/>')
    parts.append(f'<text x="{LABEL}" y="{height - 2}">{esc(t0.strftime("%H:%M:%S"))} UTC</text>')
    parts.append(f'<text x="{WIDTH - 10}" y="{height - 2}" text-anchor="end">'
                 f'+{esc(format_duration(t1 - t0))}</text>')
    return (f'<svg class="tk-timeline" role="img" aria-label="timeline of the runs" '
            f'width="{WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
            + "".join(parts) + "</svg>")
