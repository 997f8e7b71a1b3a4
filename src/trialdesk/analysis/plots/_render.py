"""Deterministic rendering of the report's figures (matplotlib, no pyplot, no GUI).

Identical data gives identical bytes: the figures are built with the object API
(``matplotlib.figure.Figure``, rendered by the Agg canvas, never through pyplot's global
state); the style below is applied while building AND saving, with

- ``svg.hashsalt`` fixed, so the ids matplotlib writes into an SVG (clip paths, glyphs) do
  not change from run to run (matplotlib's rcParams documentation, "svg.hashsalt");
- the font fixed to DejaVu Sans, the font that ships inside matplotlib itself
  (``mpl-data/fonts``), so no machine's font set changes the glyphs; text is drawn as
  paths in the SVG (``svg.fonttype: path``), so viewers need no font either;
- the metadata that would carry a date or a version dropped (``Date``, ``Creator``,
  ``Software`` set to ``None``; see ``Figure.savefig``'s ``metadata`` argument).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

Format = Literal["png", "svg"]

#: The style of every figure (rcParams), applied while building and saving.
STYLE: dict[str, object] = {
    "svg.hashsalt": "trialdesk",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "path.simplify": False,
}

#: Colours (the Okabe-Ito palette, readable with colour-vision deficiency; Okabe & Ito 2008,
#: "Color Universal Design").
BLUE, ORANGE, GREEN, VERMILION, GREY, SKY = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#8C8C8C",
    "#56B4E9",
)

_METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
}


@contextmanager
def styled() -> Iterator[None]:
    """Build a figure inside this: text and lines take the fixed style when created."""
    with matplotlib.rc_context(STYLE):
        yield


def new_figure(width: float, height: float) -> Figure:
    """A figure of ``width`` x ``height`` inches on the Agg canvas (no global state); call
    it inside :func:`styled`."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def render(fig: Figure, fmt: Format = "png") -> bytes:
    """The figure as PNG or SVG bytes, the same bytes for the same figure."""
    if fmt not in _METADATA:
        raise ValueError(f"plot format {fmt!r}: use 'png' or 'svg'")
    buf = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        fig.savefig(buf, format=fmt, metadata=_METADATA[fmt])
    return buf.getvalue()
