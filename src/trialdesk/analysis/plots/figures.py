"""The report's static figures (matplotlib): score trajectories, the escalation history, the
swimmer plot of follow-up and the participant flow. Each function returns a
``matplotlib.figure.Figure``; :func:`trialdesk.analysis.plots.render` turns it into PNG or
SVG bytes, identical for identical data.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch

from trialdesk.analysis.dataset import TrialDataset
from trialdesk.analysis.plots._render import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    SKY,
    VERMILION,
    new_figure,
    styled,
)
from trialdesk.analysis.plots.series import (
    SCORES,
    escalation,
    swimmer,
    trajectories,
    visit_summaries,
)

_LEVEL_COLOURS = (BLUE, ORANGE, GREEN, VERMILION, SKY, GREY)


def _no_data(fig: Figure, title: str, text: str) -> Figure:
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color=GREY)
    ax.set_axis_off()
    return fig


def score_over_time(ds: TrialDataset, score: str = "meld") -> Figure:
    """Each enrolled participant's ``score`` by study day (thin grey lines), and at each
    scheduled visit the mean with its 95% t-interval (blue; no interval for n < 2)."""
    name = SCORES.get(score, score)
    lines = trajectories(ds, score)
    summaries = visit_summaries(ds, score)
    with styled():
        fig = new_figure(7.0, 4.0)
        title = f"{name} over time, {ds.nct_id}"
        if not lines:
            return _no_data(fig, title, f"No {name} recorded yet")
        ax = fig.add_subplot()
        for t in lines:
            ax.plot(t.days, t.values, color=GREY, linewidth=0.7, alpha=0.6, marker=".", ms=3)
        xs = [s.target_day for s in summaries]
        ax.plot(xs, [s.mean for s in summaries], color=BLUE, linewidth=2, marker="o", ms=4)
        for s in summaries:
            if s.low is not None:
                ax.vlines(s.target_day, s.low, s.high, color=BLUE, linewidth=2)
        # study days on a symmetric-log axis (linear within a week of day 0): the first
        # weeks' visits and the months' stay apart on one axis
        ax.set_xscale("symlog", linthresh=7, linscale=1)
        seen = {c for t in lines for c in t.codes}
        n = {s.code: s.n for s in summaries}
        ticks = sorted((p.target_day, p.code) for p in ds.schedule if p.code in seen or p.code in n)
        ax.set_xticks(
            [d for d, _ in ticks],
            [f"{c}\nn={n[c]}" if c in n else c for _, c in ticks],
        )
        ax.minorticks_off()
        ax.set_xlabel("Scheduled visit at its target study day (symmetric-log scale)")
        ax.set_ylabel(name)
        ax.set_title(title)
        ax.legend(
            handles=[
                Line2D([], [], color=GREY, linewidth=0.7, marker=".", label="participant"),
                Line2D([], [], color=BLUE, linewidth=2, marker="o", label="mean, 95% CI"),
            ],
            loc="best",
            frameon=False,
        )
    return fig


def escalation_history(ds: TrialDataset) -> Figure:
    """The dose-escalation history: every participant at their dose level in order of
    dosing, cohort by cohort; DLTs marked; each cohort labelled with the signed safety
    review decision taken after it (a departure from the engine's recommendation starred)."""
    points, blocks = escalation(ds)
    levels = sorted(ds.dose_levels, key=lambda d: d.order)
    with styled():
        fig = new_figure(7.0, 3.6)
        title = f"Dose escalation, {ds.nct_id}"
        if not points:
            return _no_data(fig, title, "No participant enrolled in a cohort yet")
        ax = fig.add_subplot()
        styles = {
            "dlt": dict(marker="X", color=VERMILION, ms=9, linestyle=""),
            "no_dlt": dict(marker="o", color=GREEN, ms=7, linestyle=""),
            "pending": dict(marker="o", color=GREY, ms=7, linestyle="", fillstyle="none"),
        }
        for outcome, style in styles.items():
            mine = [p for p in points if p.dlt_outcome == outcome]
            if mine:
                ax.plot([p.position for p in mine], [p.dose_order for p in mine], **style)
        top = levels[-1].order + 0.6 if levels else 1
        for b in blocks:
            if b.first > 1:
                ax.axvline(b.first - 0.5, color=GREY, linewidth=0.6, linestyle=":")
            mid = (b.first + b.last) / 2
            ax.text(mid, top, f"Cohort {b.cohort}", ha="center", va="bottom", fontsize=8)
            if b.decision:
                star = " *" if b.departs else ""
                ax.text(
                    mid,
                    0.45,
                    b.decision + star,
                    ha="center",
                    va="top",
                    fontsize=7,
                    color=BLUE,
                )
        ax.set_yticks([d.order for d in levels], [f"{d.id}\n{d.label}" for d in levels])
        ax.set_ylim(0.0, top + 0.5)
        ax.set_xlim(0.5, points[-1].position + 0.5)
        ax.set_xticks([p.position for p in points], [p.subject_id for p in points])
        ax.tick_params(axis="x", labelrotation=60, labelsize=6)
        ax.set_title(title)
        fig.legend(
            handles=[
                Line2D([], [], label="DLT", **styles["dlt"]),
                Line2D([], [], label="no DLT", **styles["no_dlt"]),
                Line2D([], [], label="DLT window open", **styles["pending"]),
            ],
            loc="outside right upper",
            frameon=False,
            fontsize=7,
        )
        if any(b.departs for b in blocks):
            fig.text(0.01, 0.0, "* departs from the engine's recommendation", fontsize=7)
    return fig


_END_MARKERS = {
    "completed": dict(marker="s", color=GREEN),
    "withdrawn": dict(marker="X", color=ORANGE),
    "died": dict(marker="D", color="black"),
    "ongoing": dict(marker=">", color=BLUE),
}


def swimmer_plot(ds: TrialDataset) -> Figure:
    """Follow-up of every dosed participant from the first dose (day 0): a bar coloured by
    dose level, visits as ticks, adverse events as triangles (serious ones in vermilion),
    and how follow-up ended (completed, withdrawn, died, or ongoing at the data cut)."""
    rows = swimmer(ds)
    colours = {
        d.id: _LEVEL_COLOURS[i % len(_LEVEL_COLOURS)]
        for i, d in enumerate(sorted(ds.dose_levels, key=lambda d: d.order))
    }
    with styled():
        fig = new_figure(7.0, max(2.5, 0.9 + 0.22 * len(rows)))
        title = f"Follow-up since dosing, {ds.nct_id} (data cut {ds.data_cut:%Y-%m-%d})"
        if not rows:
            return _no_data(fig, title, "No participant dosed yet")
        ax = fig.add_subplot()
        for y, r in enumerate(rows):
            ax.barh(
                y, r.end_day, left=0, height=0.55, color=colours.get(r.dose_level, GREY), alpha=0.35
            )
            if r.visit_days:
                ax.plot(r.visit_days, [y] * len(r.visit_days), "|", color="black", ms=6)
            if r.ae_days:
                ax.plot(r.ae_days, [y] * len(r.ae_days), "^", color=ORANGE, ms=5)
            if r.sae_days:
                ax.plot(r.sae_days, [y] * len(r.sae_days), "^", color=VERMILION, ms=7)
            ax.plot([r.end_day], [y], linestyle="", ms=6, **_END_MARKERS[r.end_status])
        ax.set_yticks(range(len(rows)), [r.subject_id for r in rows], fontsize=6)
        ax.invert_yaxis()
        ax.set_xlabel("Days since first dose")
        ax.set_title(title)
        handles = (
            [
                Line2D([], [], marker="|", color="black", linestyle="", label="visit"),
                Line2D([], [], marker="^", color=ORANGE, linestyle="", label="AE"),
                Line2D([], [], marker="^", color=VERMILION, linestyle="", label="SAE"),
            ]
            + [Line2D([], [], linestyle="", label=k, **v) for k, v in _END_MARKERS.items()]
            + [
                Line2D([], [], color=colours[d], linewidth=6, alpha=0.35, label=d)
                for d in sorted({r.dose_level for r in rows if r.dose_level in colours})
            ]
        )
        fig.legend(handles=handles, loc="outside right upper", frameon=False, fontsize=7)
    return fig


def participant_flow(
    stages: Sequence[tuple[str, int]],
    exclusions: Sequence[tuple[str, int]] = (),
    *,
    title: str = "Participant flow",
) -> Figure:
    """A CONSORT-style flow diagram: ``stages`` top to bottom as (label, n) boxes joined by
    arrows, and beside the first box the screen-failure reasons as (reason, n) (CONSORT 2010
    flow diagram, Schulz KF et al., BMJ 2010;340:c332). Counts are drawn as given: the
    analysis's participant-flow table computes them."""
    if any(n < 0 for _, n in [*stages, *exclusions]):
        raise ValueError("participant flow: a negative count")
    with styled():
        fig = new_figure(7.0, 0.9 + 0.75 * max(len(stages), 1))
        if not stages:
            return _no_data(fig, title, "No one screened yet")
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.set_xlim(0, 10)
        ax.set_ylim(-len(stages) + 0.3, 1.0)
        ax.set_title(title)
        for i, (label, n) in enumerate(stages):
            y = -i
            ax.add_patch(
                FancyBboxPatch(
                    (0.3, y - 0.28), 4.2, 0.56, boxstyle="round,pad=0.02", fc="#EEF4FA", ec=BLUE
                )
            )
            ax.text(2.4, y, f"{label}\nn = {n}", ha="center", va="center", fontsize=8)
            if i:
                ax.annotate(
                    "",
                    xy=(2.4, y + 0.3),
                    xytext=(2.4, y + 0.72),
                    arrowprops=dict(arrowstyle="->", color=BLUE),
                )
        if exclusions:
            text = "Screen failures\n" + "\n".join(f"{r}: {n}" for r, n in exclusions)
            ax.text(
                5.2,
                0.2,
                text,
                ha="left",
                va="top",
                fontsize=7,
                bbox=dict(boxstyle="round", fc="#FFF4E5", ec=ORANGE),
            )
            ax.annotate(
                "",
                xy=(5.15, -0.1),
                xytext=(4.5, -0.1),
                arrowprops=dict(arrowstyle="->", color=ORANGE),
            )
    return fig
