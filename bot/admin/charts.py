"""Server-rendered SVG charts of the /admin console: horizontal bars and stacked columns.

Each chart is an ``<svg role="img">`` named by its title and described by a sentence with its
figures (its text alternative); the page puts the same numbers in a table beside it. Colours keep
a 3:1 contrast with the white background (WCAG 1.4.11), and a second series differs by a pattern of
its own as well as by its colour. Labels are escaped here: the result is markup, ready to insert.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

#: Width of every chart's drawing (it scales with the page through its viewBox).
WIDTH = 640
BAR = 22
GAP = 8
LABEL_WIDTH = 260


def _svg(chart_id: str, title: str, description: str, height: int, body: list[str]) -> str:
    return (
        f'<svg class="chart" id="{escape(chart_id)}" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>'
        '<defs><pattern id="' + escape(chart_id) + '-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" class="s2"/>'
        '<line x1="0" y1="0" x2="0" y2="6" class="hatch"/></pattern></defs>' + "".join(body) + "</svg>"
    )


def hbars(chart_id: str, title: str, rows: Sequence[tuple[str, int, str]], description: str) -> str:
    """Horizontal bars: one row per ``(label, value, value as shown)``, longest bar = largest value."""
    top = max((value for _, value, _ in rows), default=0) or 1
    span = WIDTH - LABEL_WIDTH - 90
    height = max(len(rows), 1) * (BAR + GAP) + GAP
    body = []
    for n, (label, value, shown) in enumerate(rows):
        y = GAP + n * (BAR + GAP)
        width = round(span * value / top)
        body.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR * 0.7:.1f}" text-anchor="end" class="label">'
            f"{escape(label)}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width}" height="{BAR}" class="s1"/>'
            f'<text x="{LABEL_WIDTH + width + 6}" y="{y + BAR * 0.7:.1f}" class="value">{escape(shown)}</text>'
        )
    return _svg(chart_id, title, description, height, body)


def columns(
    chart_id: str,
    title: str,
    points: Sequence[tuple[str, Sequence[int]]],
    description: str,
    *,
    second_hatched: bool = True,
) -> str:
    """Stacked columns: one per ``(label, (first series, second series…))``; about eight labels shown."""
    height = 220
    base = height - 30
    top = max((sum(values) for _, values in points), default=0) or 1
    count = max(len(points), 1)
    slot = (WIDTH - 50) / count
    width = max(slot * 0.7, 2)
    every = max(1, round(count / 8))
    body = [
        f'<line x1="40" y1="{base}" x2="{WIDTH}" y2="{base}" class="axis"/>',
        f'<text x="36" y="{base - 150 + 4}" text-anchor="end" class="value">{top}</text>',
        f'<text x="36" y="{base + 4}" text-anchor="end" class="value">0</text>',
    ]
    for n, (label, values) in enumerate(points):
        x = 45 + n * slot
        y = float(base)
        for index, value in enumerate(values):
            h = 150 * value / top
            y -= h
            # The hatched series has no fill in the stylesheet: its pattern (an attribute) shows.
            look = (
                f'class="h2" fill="url(#{escape(chart_id)}-hatch)"'
                if index and second_hatched
                else f'class="s{index + 1}"'
            )
            body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}" {look}/>')
        if n % every == 0:
            body.append(
                f'<text x="{x + width / 2:.1f}" y="{base + 16}" text-anchor="middle" class="label">'
                f"{escape(label)}</text>"
            )
    return _svg(chart_id, title, description, height, body)
