"""Rendering shared by the widgets and by ``tutorial_kit.frames``: HTML, timeline SVG, styles.

Pure functions from API values to markup; nothing here talks to a deployment or imports the
widgets, so ``frames`` (pandas views) and ``widgets`` (live views) can both use it without
depending on each other.
"""

from __future__ import annotations

from .html import (RESOLVED_STATES, STATE_ICONS, badge, banner, esc, format_duration, markdown,
                   parse_time, pretty_json, stylesheet, table)
from .timeline import timeline_svg

__all__ = ["RESOLVED_STATES", "STATE_ICONS", "badge", "banner", "esc", "format_duration",
           "markdown", "parse_time", "pretty_json", "stylesheet", "table", "timeline_svg"]
