"""Look and feel: theme variables only, state never by colour alone, stable text output."""

from __future__ import annotations

import re
from importlib import resources

from tutorial_kit.widgets import EventLog
from tutorial_kit.render.html import STATE_ICONS, badge, markdown


def test_css_uses_only_jupyterlab_theme_variables():
    css = resources.files("tutorial_kit.render").joinpath("style.css").read_text()
    colour_values = re.findall(r"(?:color|background|fill|stroke|border(?:-left)?)\s*:\s*([^;]+);",
                               css)
    assert colour_values
    for value in colour_values:
        assert not re.search(r"#[0-9a-fA-F]{3,8}\b|rgb|hsl|\b(?:red|green|blue|white|black)\b",
                             value), value
    assert "var(--jp-" in css


def test_badges_carry_text_and_icon_for_every_state():
    for state, icon in STATE_ICONS.items():
        html = badge(state)
        assert f">{icon} {state}</span>" in html and f'aria-label="state: {state}"' in html


def test_markdown_escapes_raw_html_and_unsafe_links():
    html = markdown("<script>alert(1)</script> [x](javascript:alert(1)) **ok**")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript:' not in html and "<strong>ok</strong>" in html


def test_text_output_is_stable_for_nbval():
    log = EventLog(messages=[])
    bundle = log._repr_mimebundle_()
    assert bundle["text/plain"] == "EventLog(messages=0, shown=0)"
