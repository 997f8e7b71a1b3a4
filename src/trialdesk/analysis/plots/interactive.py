"""Interactive versions of the report's plots for the app's pages: plotly figure specs
(``{"data": [...], "layout": {...}}``, plain JSON values) that plotly.js draws in the browser.
They show the same series as the static figures (``plots.series``), with the subject id,
visit and value on hover.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from trialdesk.analysis.dataset import TrialDataset
from trialdesk.analysis.plots._render import BLUE, GREEN, GREY, ORANGE, VERMILION
from trialdesk.analysis.plots.series import (
    SCORES,
    escalation,
    swimmer,
    trajectories,
    visit_summaries,
)

_LAYOUT = dict(
    template="simple_white",
    font=dict(family="DejaVu Sans, sans-serif", size=12),
    margin=dict(l=60, r=20, t=50, b=60),
    hovermode="closest",
)


def _spec(fig: go.Figure) -> dict[str, Any]:
    """The figure as plain JSON values (validated by plotly while building)."""
    return json.loads(fig.to_json())


def score_over_time(ds: TrialDataset, score: str = "meld") -> dict[str, Any]:
    name = SCORES.get(score, score)
    fig = go.Figure()
    for t in trajectories(ds, score):
        fig.add_trace(
            go.Scatter(
                x=list(t.days),
                y=list(t.values),
                mode="lines+markers",
                name=t.subject_id,
                line=dict(color=GREY, width=1),
                marker=dict(size=5),
                text=list(t.codes),
                hovertemplate=f"{t.subject_id} %{{text}}: day %{{x}}, {name} %{{y}}<extra></extra>",
                showlegend=False,
            )
        )
    summaries = visit_summaries(ds, score)
    fig.add_trace(
        go.Scatter(
            x=[s.target_day for s in summaries],
            y=[s.mean for s in summaries],
            mode="lines+markers",
            name="mean, 95% CI",
            line=dict(color=BLUE, width=3),
            error_y=dict(
                type="data",
                symmetric=False,
                array=[(s.high - s.mean) if s.high is not None else 0 for s in summaries],
                arrayminus=[(s.mean - s.low) if s.low is not None else 0 for s in summaries],
            ),
            text=[f"{s.code} (n={s.n})" for s in summaries],
            hovertemplate="%{text}: mean %{y:.2f}<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"{name} over time, {ds.nct_id}",
        xaxis_title="Study day",
        yaxis_title=name,
        **_LAYOUT,
    )
    return _spec(fig)


def escalation_history(ds: TrialDataset) -> dict[str, Any]:
    points, blocks = escalation(ds)
    labels = {d.order: f"{d.id} ({d.label})" for d in ds.dose_levels}
    fig = go.Figure()
    styles = {
        "dlt": ("DLT", dict(symbol="x", color=VERMILION, size=14)),
        "no_dlt": ("no DLT", dict(symbol="circle", color=GREEN, size=11)),
        "pending": ("DLT window open", dict(symbol="circle-open", color=GREY, size=11)),
    }
    for outcome, (label, marker) in styles.items():
        mine = [p for p in points if p.dlt_outcome == outcome]
        fig.add_trace(
            go.Scatter(
                x=[p.position for p in mine],
                y=[p.dose_order for p in mine],
                mode="markers",
                name=label,
                marker=marker,
                text=[f"{p.subject_id}, cohort {p.cohort}, {p.dose_level}" for p in mine],
                hovertemplate="%{text}<extra>" + label + "</extra>",
            )
        )
    for b in blocks:
        text = f"Cohort {b.cohort}" + (f"<br>{b.decision}" if b.decision else "")
        fig.add_annotation(
            x=(b.first + b.last) / 2, y=1.0, yref="paper", text=text, showarrow=False
        )
        if b.first > 1:
            fig.add_vline(x=b.first - 0.5, line=dict(color=GREY, dash="dot", width=1))
    fig.update_layout(
        title=f"Dose escalation, {ds.nct_id}",
        xaxis=dict(
            title="Participant, in order of dosing",
            tickvals=[p.position for p in points],
            ticktext=[p.subject_id for p in points],
        ),
        yaxis=dict(
            title="Dose level",
            tickvals=sorted(labels),
            ticktext=[labels[k] for k in sorted(labels)],
        ),
        **_LAYOUT,
    )
    return _spec(fig)


def swimmer_plot(ds: TrialDataset) -> dict[str, Any]:
    rows = swimmer(ds)
    ids = [r.subject_id for r in rows]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=[r.end_day for r in rows],
            y=ids,
            orientation="h",
            name="follow-up",
            marker=dict(color=BLUE, opacity=0.35),
            text=[f"{r.dose_level or ''} · {r.end_status}" for r in rows],
            hovertemplate="%{y}: %{x} days, %{text}<extra></extra>",
        )
    )
    for name, days, terms, colour in (
        ("AE", "ae_days", "ae_terms", ORANGE),
        ("SAE", "sae_days", "sae_terms", VERMILION),
    ):
        xs, ys, texts = [], [], []
        for r in rows:
            for day, term in zip(getattr(r, days), getattr(r, terms), strict=True):
                xs.append(day)
                ys.append(r.subject_id)
                texts.append(term)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="markers",
                name=name,
                marker=dict(symbol="triangle-up", color=colour, size=10),
                text=texts,
                hovertemplate="%{y} day %{x}: %{text}<extra>" + name + "</extra>",
            )
        )
    fig.update_layout(
        title=f"Follow-up since dosing (data cut {ds.data_cut:%Y-%m-%d})",
        xaxis_title="Days since first dose",
        yaxis=dict(autorange="reversed", type="category"),
        height=max(300, 120 + 22 * len(rows)),
        **_LAYOUT,
    )
    return _spec(fig)


def participant_flow(
    stages: Sequence[tuple[str, int]], exclusions: Sequence[tuple[str, int]] = ()
) -> dict[str, Any]:
    fig = go.Figure(
        go.Funnel(
            y=[label for label, _ in stages],
            x=[n for _, n in stages],
            textinfo="value",
            marker=dict(color=BLUE),
            hovertemplate="%{y}: %{x}<extra></extra>",
        )
    )
    note = "<br>".join(f"{r}: {n}" for r, n in exclusions)
    if note:
        fig.add_annotation(
            x=1.0,
            y=0.0,
            xref="paper",
            yref="paper",
            xanchor="right",
            yanchor="bottom",
            align="left",
            text="Screen failures<br>" + note,
            showarrow=False,
            bordercolor=ORANGE,
        )
    fig.update_layout(title="Participant flow", **_LAYOUT)
    return _spec(fig)
