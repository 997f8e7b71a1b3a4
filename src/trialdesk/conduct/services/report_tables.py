"""The report's tables: the analysis's results (``trialdesk.analysis.endpoints`` and
``.safety``) laid out as rows of formatted text. Nothing is computed here beyond formatting:
every number comes from the pure core.

Formats: a count cell is ``n (p%) [e]`` - participants, percent of those at risk (one
decimal), events; a summary is mean (SD); p values with three decimals ("<0.001" below);
a statistic the data cannot give is "n.e." (not estimable) with the reason in the table's
note; missing is an en dash, never 0.
"""

from __future__ import annotations

from trialdesk.analysis import baseline, endpoints, flow, safety
from trialdesk.analysis.dataset import TrialDataset
from trialdesk.conduct.services.report import Table, fmt

NE = "n.e."


def count_cell(c: safety.Count) -> str:
    """``n (p%) [events]``; the percent is of the participants at risk."""
    pct = "–" if c.percent is None else f"{c.percent:.1f}%"
    return f"{c.n} ({pct}) [{c.events}]"


def p_value(p: float | None) -> str:
    if p is None:
        return NE
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _mean_sd(s) -> str:  # noqa: ANN001
    if s.mean is None:
        return NE
    return f"{s.mean:.2f} ({fmt(s.sd)})" if s.sd is not None else f"{s.mean:.2f} (–)"


def _ci(s) -> str:  # noqa: ANN001
    return NE if s.ci_low is None else f"{s.ci_low:.2f} to {s.ci_high:.2f}"


def _median_iqr(s) -> str:  # noqa: ANN001
    return NE if s.median is None else f"{s.median:.2f} ({s.q1:.2f} to {s.q3:.2f})"


# -- participant flow ---------------------------------------------------------------------


def flow_counts(
    ds: TrialDataset,
) -> tuple[tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]]:
    """(stage, n) screened -> completed and (screen-failure reason, n) for the flow plot,
    from the analysis's participant flow."""
    f = flow.participant_flow(ds)
    stages = tuple((s.name.capitalize(), s.n) for s in f.stages)
    reasons = tuple((r.reason, r.n) for r in f.screen_failure_reasons)
    return stages, reasons


def flow_table(ds: TrialDataset) -> Table:
    f = flow.participant_flow(ds)
    rows = [(s.name.capitalize(), str(s.n), ", ".join(s.subject_ids) or "–") for s in f.stages]
    rows += [
        ("Screen failures", str(f.screen_failed.n), ", ".join(f.screen_failed.subject_ids) or "–"),
        ("Still in screening", str(f.in_screening.n), ", ".join(f.in_screening.subject_ids) or "–"),
    ]
    rows += [
        (
            f"Screen failure: {r.reason} ({r.text})"
            if r.text != r.reason
            else f"Screen failure: {r.reason}",
            str(r.n),
            ", ".join(r.subject_ids),
        )
        for r in f.screen_failure_reasons
    ]
    rows += [
        (f"Dosed, follow-up {s.name}", str(s.n), ", ".join(s.subject_ids) or "–")
        for s in (f.died, f.withdrawn, f.ongoing)
    ]
    return Table(
        "flow",
        "Participant flow",
        ("Stage", "Participants", "Participant ids"),
        tuple(rows),
        note="Each stage counts those who reached it and every stage before it. A participant "
        "may fail screening for more than one reason.",
    )


# -- baseline characteristics ------------------------------------------------------------


def _category_cell(c) -> str:  # noqa: ANN001
    pct = "–" if c.percent is None else f"{c.percent:.1f}%"
    return f"{c.n} ({pct})"


def _measure_cell(m) -> str:  # noqa: ANN001
    s = m.summary
    if not s.n:
        return f"– (missing {len(m.missing)})" if m.missing else "–"
    text = f"{_mean_sd(s)}; median {s.median:.1f} ({s.minimum:.0f} to {s.maximum:.0f})"
    return text + (f"; missing {len(m.missing)}" if m.missing else "")


def baseline_table(ds: TrialDataset) -> Table:
    """Age, sex, country, site and the liver scores at baseline per safety column."""
    if ds.baseline_code is None or not ds.dosed():
        return Table(
            "baseline", "Baseline characteristics (dosed participants)", ("",), (),
            empty="No participant dosed yet.",
        )  # fmt: skip
    columns = baseline.baseline_characteristics(ds)
    header = ("", *(f"{c.group.id} (N={c.group.at_risk})" for c in columns))
    rows: list[tuple[str, ...]] = [("Age (years), mean (SD); median (range)",
                                    *(_measure_cell(c.age) for c in columns))]  # fmt: skip

    def categories(title: str, pick) -> None:  # noqa: ANN001
        values = []
        for c in columns:
            for cat in pick(c):
                if cat.value not in values:
                    values.append(cat.value)
        for value in values:
            cells = []
            for c in columns:
                cat = next((x for x in pick(c) if x.value == value), None)
                cells.append(_category_cell(cat) if cat else "0")
            rows.append((f"{title}: {value}", *cells))

    categories("Sex", lambda c: c.sex)
    categories("Country", lambda c: c.country)
    categories("Site", lambda c: c.site)
    for i, m in enumerate(columns[0].scores):
        rows.append((f"{m.name} at baseline", *(_measure_cell(c.scores[i]) for c in columns)))
    categories("Child-Pugh class", lambda c: c.child_pugh_class)
    return Table(
        "baseline",
        f"Baseline characteristics (dosed participants, scores at {ds.baseline_code})",
        header,
        tuple(rows),
        note="n (%) of the column's participants; scores: mean (SD); median (range).",
    )


# -- dose escalation ------------------------------------------------------------------------


def dlt_table(ds: TrialDataset) -> Table:
    rows = []
    for r in safety.dlt_table(ds):
        events = "; ".join(f"{s}: {term} (grade {fmt(g)})" for s, term, g in r.dlt_events)
        rows.append(
            (
                str(r.cohort),
                r.dose_level,
                str(len(r.enrolled)),
                str(r.n_evaluable),
                str(r.n_with_dlt),
                ", ".join(r.pending) or "–",
                events or "–",
            )
        )
    return Table(
        "dlt",
        "Dose-limiting toxicities by cohort",
        (
            "Cohort",
            "Dose level",
            "Enrolled",
            "Evaluable",
            "With DLT",
            "DLT window open",
            "DLT events",
        ),
        tuple(rows),
        note="Evaluable: the DLT outcome is recorded (DLT or no DLT).",
        empty="No cohort enrolled yet.",
    )


# -- efficacy -----------------------------------------------------------------------------


def endpoint_tables(ds: TrialDataset) -> tuple[Table, ...]:
    """Change from baseline in each score at M3, M6, M12 (overall; by dose level for an
    escalation trial), and the listing of missing values."""
    by = "dose_level" if ds.design == "escalation" else None
    results = endpoints.endpoint_table(ds, by=by)
    tables = []
    empty_scores = []
    for score, label in endpoints.SCORES.items():
        mine = [r for r in results if r.score == score]
        if score != "meld" and not any(r.observations for r in mine):
            empty_scores.append(label)
            continue
        rows = []
        notes: set[str] = set()
        for r in mine:
            for note in (*r.change.notes, r.t_test.note, r.wilcoxon.note):
                if note.startswith("not estimable"):
                    notes.add(note)
            missing = ", ".join(
                f"{reason} {len(ids)}" for reason, ids in sorted(r.missing_by_reason().items())
            )
            rows.append(
                (
                    r.group,
                    r.time_point,
                    str(len(r.expected)),
                    str(len(r.observations)),
                    missing or "–",
                    _mean_sd(r.baseline_summary),
                    _mean_sd(r.value_summary),
                    _mean_sd(r.change),
                    _ci(r.change),
                    _median_iqr(r.change),
                    p_value(r.t_test.p_value),
                    p_value(r.wilcoxon.p_value),
                )
            )
        window = mine[0].window_rule if mine else "include"
        baseline = mine[0].baseline_code if mine else "D1"
        tables.append(
            Table(
                f"change-{score.replace('_', '-')}",
                f"Change from baseline ({baseline}) in {label}",
                (
                    "Group",
                    "Time point",
                    "Expected",
                    "Observed",
                    "Missing (reason n)",
                    "Baseline mean (SD)",
                    "Value mean (SD)",
                    "Change mean (SD)",
                    "95% CI of change",
                    "Median change (IQR)",
                    "Paired t p",
                    "Wilcoxon p",
                ),
                tuple(rows),
                note=(
                    f"Out-of-window visits: rule '{window}'. Missing values are not imputed. "
                    "CI: t distribution; IQR: linear quantiles; Wilcoxon signed-rank with zero "
                    "differences dropped." + (" " + "; ".join(sorted(notes)) + "." if notes else "")
                ),
            )
        )
    if empty_scores:
        first = tables[0]
        tables[0] = Table(
            first.id,
            first.caption,
            first.header,
            first.rows,
            note=first.note + f" No change from baseline yet in {', '.join(empty_scores)}.",
        )
    missing_rows = [
        (r.time_point, r.group, m.subject_id, m.reason, m.detail)
        for r in results
        if r.score == "meld"
        for m in r.missing
    ]
    tables.append(
        Table(
            "missing-meld",
            "MELD values missing at the time points, by participant",
            ("Time point", "Group", "Participant", "Reason", "Detail"),
            tuple(missing_rows),
            empty="No value missing.",
        )
    )
    return tuple(tables)


# -- safety -------------------------------------------------------------------------------


def _safety_table(id: str, t: safety.SafetyTable, *, detail: bool = False) -> Table:  # noqa: A002
    header = ("", *(f"{g.id} (N={g.at_risk})" for g in t.groups))
    rows = []
    for r in t.rows:
        rows.append((r.label, *(count_cell(c) for c in r.cells)))
        if detail:
            for d in r.detail:
                rows.append((f"\u2003{d.label}", *(count_cell(c) for c in d.cells)))
    return Table(
        id,
        t.title,
        header,
        tuple(rows),
        note="n (%) [events]: participants with at least one such event, percent of the "
        "participants at risk (dosed), number of events. Treatment-emergent events only.",
        empty="No adverse event.",
    )


def safety_tables(ds: TrialDataset) -> tuple[Table, ...]:
    saes = [
        (
            r.subject_id,
            r.dose_level,
            r.term,
            r.grade,
            f"{r.onset_date:%Y-%m-%d}",
            r.study_day,
            f"{r.resolution_date:%Y-%m-%d}" if r.resolution_date else None,
            ", ".join(r.seriousness) or None,
            r.related,
            r.outcome,
            r.dlt,
        )
        for r in safety.sae_listing(ds)
    ]
    dead = [
        (
            d.subject_id,
            d.dose_level,
            f"{d.date:%Y-%m-%d}" if d.date else None,
            d.study_day,
            d.cause,
            d.related,
        )
        for d in safety.deaths(ds)
    ]
    return (
        _safety_table("ae-overview", safety.ae_overview(ds)),
        _safety_table("ae-by-term", safety.by_term(ds), detail=True),
        _safety_table("ae-by-relatedness", safety.by_relatedness(ds)),
        Table(
            "sae-listing",
            "Serious adverse events (listing)",
            (
                "Participant",
                "Dose level",
                "Term",
                "Grade",
                "Onset",
                "Study day",
                "Resolved",
                "Seriousness",
                "Attribution",
                "Outcome",
                "DLT",
            ),
            tuple(tuple(fmt(c) for c in row) for row in saes),
            empty="No serious adverse event.",
        ),
        Table(
            "deaths",
            "Deaths",
            ("Participant", "Dose level", "Date", "Study day", "Cause", "Attribution"),
            tuple(tuple(fmt(c) for c in row) for row in dead),
            empty="No death.",
        ),
    )
