"""The trial's plots: static figures for the report (matplotlib, PNG/SVG, deterministic)
and interactive ones for the app's pages (plotly figure specs as JSON).

>>> from datetime import date
>>> from trialdesk.analysis.synthetic import dataset, dose, participant, visit
>>> ds = dataset(participants=[participant("P01")], doses=[dose("P01", date(2026, 1, 5))],
...              visits=[visit("P01", "D1", date(2026, 1, 5), meld=15)])
>>> render(score_over_time(ds), "png")[:8]
b'\\x89PNG\\r\\n\\x1a\\n'
"""

from trialdesk.analysis.plots._render import STYLE, render
from trialdesk.analysis.plots.figures import (
    escalation_history,
    participant_flow,
    score_over_time,
    swimmer_plot,
)

__all__ = [
    "STYLE",
    "escalation_history",
    "participant_flow",
    "render",
    "score_over_time",
    "swimmer_plot",
]
