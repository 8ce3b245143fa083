"""Small HTML builders shared by the widgets and frames: escaping, markdown, state badges, tables.

Everything that comes from the API is escaped before it lands in an ``ipywidgets.HTML`` value;
markdown is rendered with raw HTML disabled, so a task description cannot inject markup.
"""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from importlib import resources
from typing import TYPE_CHECKING, Any

from tutorial_kit.vocabulary import RESOLVED_STATES

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

#: Text + icon for every task/run state, so a state is never told by colour alone.
STATE_ICONS: dict[str, str] = {
    "unscheduled": "○",
    "pending": "◷",
    "running": "▶",
    "completed": "✔",
    "failed": "✖",
    "exception": "⚠",
}


def esc(value: Any) -> str:
    """HTML-escape any value (``None`` becomes an empty string)."""
    return "" if value is None else html.escape(str(value), quote=True)


@functools.lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # Imported on the first description drawn, not with the module: about 15 ms a kernel
    # spends for nothing when a cell only imports the widgets.
    from markdown_it import MarkdownIt

    # commonmark with raw HTML off: descriptions are untrusted text.
    return MarkdownIt("commonmark", {"html": False})


@functools.lru_cache(maxsize=2048)
def markdown(text: str | None) -> str:
    """Render markdown to safe HTML (raw HTML in the source is shown escaped)."""
    if not text:
        return ""
    return _markdown().render(str(text)).strip()


@functools.lru_cache(maxsize=1)
def stylesheet() -> str:
    """The widgets' CSS (JupyterLab theme variables only), as a ``<style>`` element."""
    css = resources.files("tutorial_kit.render").joinpath("style.css").read_text("utf-8")
    return f"<style>{css}</style>"


def badge(state: str | None) -> str:
    """A state badge: icon and text, with a class per state for the border colour."""
    state = state or "unknown"
    icon = STATE_ICONS.get(state, "?")
    return (f'<span class="tk-badge tk-state-{esc(state)}" data-state="{esc(state)}" '
            f'role="status" aria-label="state: {esc(state)}">{icon} {esc(state)}</span>')


def banner(message: str, kind: str = "banner") -> str:
    """An error banner (``kind="banner"``) or an informational note (``kind="note"``)."""
    role = "alert" if kind == "banner" else "note"
    icon = "⚠" if kind == "banner" else "ℹ"
    return f'<div class="tk-{kind}" role="{role}">{icon} {esc(message)}</div>'


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, cls: str = "tk-table") -> str:
    """A table whose cells are already HTML (escape them with :func:`esc` first).

    It scrolls sideways inside its own box when wider than the output (the runs table has
    eleven columns), instead of being cut at the notebook's edge."""
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return (f'<div class="tk-table-wrap"><table class="{cls}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{body}</tbody></table></div>')


def pretty_json(value: Any) -> str:
    """JSON as the API returned it (key order kept), indented, escaped, in a ``<pre>``."""
    return f'<pre class="tk-raw tk-mono">{esc(json.dumps(value, indent=2, ensure_ascii=False))}</pre>'


def parse_time(value: Any) -> datetime | None:
    """A Taskcluster timestamp (``2026-08-21T17:24:27.123Z`` or ``+00:00``) as an aware datetime.

    A datetime (pandas Timestamps included) passes through; NaT and anything else give None.
    """
    if isinstance(value, datetime):
        if value != value:  # NaT is a datetime that is not equal to itself
            return None
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def format_duration(delta: timedelta | None) -> str:
    """``1h 02m 03s`` / ``2m 03s`` / ``1.25s``; empty for None."""
    if delta is None:
        return ""
    seconds = delta.total_seconds()
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 60:
        return f"{sign}{seconds:.2f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{sign}{hours}h {minutes:02d}m {secs:02d}s"
    return f"{sign}{minutes}m {secs:02d}s"
