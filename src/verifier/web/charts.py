"""Charts drawn on the server: series of labelled numbers turned into SVG geometry (pure; no I/O, no JavaScript).

`templates/web/_charts.html` draws the geometry: every bar is a link to the cases behind it, carries a <title>
(read aloud by screen readers and shown on hover) and has its number written beside it, so nothing depends on
reading a bar's length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    label: str  # what the bar is (Chinese)
    value: int  # its size: a count, or fen
    shown: str  # the number written beside it ("12", "3,456.00 元", "4.0%")
    href: str | None = None  # the cases behind it
    tone: str = ""  # a CSS class for its colour: "", "warn", "good", "muted"


@dataclass(frozen=True)
class Bar:
    point: Point
    x: float
    y: float
    width: float
    height: float
    label_x: float
    label_y: float
    value_x: float
    value_y: float

    @property
    def title(self) -> str:
        return f"{self.point.label}：{self.point.shown}"


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    kind: str  # bars (horizontal) | columns (vertical)
    width: int
    height: int
    bars: tuple[Bar, ...]
    empty: bool  # every value is zero: the template says so in words

    @property
    def total_shown(self) -> str:
        return "、".join(f"{b.point.label} {b.point.shown}" for b in self.bars)


def _scale(value: int, top: int, length: float) -> float:
    if top <= 0 or value <= 0:
        return 0.0
    return max(2.0, round(length * value / top, 1))  # a non-zero value is always visible


def bar_chart(id: str, title: str, points: Sequence[Point], *, width: int = 380, label_width: int = 100,
              row: int = 24, value_width: int = 90) -> Chart:
    """Horizontal bars, one row per point: its label at the left, the bar, its number after the bar."""
    top = max((p.value for p in points), default=0)
    length = width - label_width - value_width
    bars = []
    for i, p in enumerate(points):
        y = i * row + 4
        w = _scale(p.value, top, length)
        bars.append(Bar(point=p, x=label_width, y=y, width=w, height=row - 8, label_x=label_width - 6,
                        label_y=y + (row - 8) / 2, value_x=label_width + w + 6, value_y=y + (row - 8) / 2))
    return Chart(id=id, title=title, kind="bars", width=width, height=max(row, len(points) * row),
                 bars=tuple(bars), empty=top <= 0)


def column_chart(id: str, title: str, points: Sequence[Point], *, width: int = 380, height: int = 180,
                 axis: int = 22, headroom: int = 18) -> Chart:
    """Vertical columns, one per point (months): its number above, its label below."""
    top = max((p.value for p in points), default=0)
    n = max(1, len(points))
    slot = width / n
    length = height - axis - headroom
    bars = []
    for i, p in enumerate(points):
        h = _scale(p.value, top, length)
        x = round(i * slot + slot * 0.15, 1)
        y = round(height - axis - h, 1)
        centre = round(i * slot + slot / 2, 1)
        bars.append(Bar(point=p, x=x, y=y, width=round(slot * 0.7, 1), height=h, label_x=centre,
                        label_y=height - 6, value_x=centre, value_y=y - 4))
    return Chart(id=id, title=title, kind="columns", width=width, height=height, bars=tuple(bars), empty=top <= 0)
