"""A ClinicalTrials.gov results-style summary of a trial, in the field names of the
ClinicalTrials.gov API v2 ``resultsSection``: ``participantFlowModule``,
``baselineCharacteristicsModule``, ``outcomeMeasuresModule`` and ``adverseEventsModule``
(the results data elements of 42 CFR Part 11 as the PRS and the API v2 name them).

The numbers come from the analysis (one home for each count): the participant flow from
:func:`trialdesk.analysis.flow.participant_flow`, the baseline characteristics from
:func:`trialdesk.analysis.baseline.baseline_characteristics`, the outcome measures from
:func:`trialdesk.analysis.endpoints.change_from_baseline`, the adverse events from
:mod:`trialdesk.analysis.safety` (its safety population, groups as treated, treatment-emergent
events and deaths). This module only lays them out as ClinicalTrials.gov shows them.

Groups (``FG000``, ``BG000``, ``OG000``, ``EG000``): an escalation trial has one per dose
level given (as treated, in escalation order); a single-arm trial has one. The period of the
flow starts at the infusion (STARTED = dosed); screening, eligibility, consent, enrolment and
the screen-failure reasons are in ``preAssignmentDetails``. Baseline: the dosed participants
(age, sex, region of enrolment = the ISO 3166 name of the country, MELD at baseline), with a
Total column when there are several groups. Outcome: change from baseline in MELD at
months 3, 6 and 12 (mean and SD; the window rule is the analysis's, default "include").
Adverse events: all-cause mortality, serious AEs (every term), other (non-serious) AEs of
the terms whose frequency reaches the threshold (default 5%) in at least one group, each with
number affected (and events) and number at risk; the organ system is the CTCAE v5.0 term's
system organ class.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from trialdesk.analysis.dataset import TrialDataset
from trialdesk.analysis.endpoints import TIME_POINTS, change_from_baseline
from trialdesk.analysis.flow import participant_flow as analysis_flow
from trialdesk.analysis.safety import ae_overview, by_term, deaths, safety_groups
from trialdesk.interop.errors import ExportError
from trialdesk.interop.sdtm.subjects import country_code


def _levels(dataset: TrialDataset) -> list[tuple[str | None, str]]:
    """(dose level id, or None for everyone; title) of each group, as treated."""
    groups = safety_groups(dataset)
    if dataset.design == "escalation" and len(groups) > 1:
        return [(g.id, g.label) for g in groups[1:]]
    return [(None, "All participants")]


def _fmt(x: float | None) -> str:
    return "NA" if x is None else f"{x:.1f}"


def participant_flow(dataset: TrialDataset) -> dict[str, Any]:
    flow = analysis_flow(dataset)
    if dataset.design == "escalation" and flow.arms:
        arms = [(a.label, a.dosed, a.completed, a.died, a.withdrawn, a.ongoing) for a in flow.arms]
    else:
        arms = [
            ("All participants", flow.stage("dosed"), flow.stage("completed"), flow.died,
             flow.withdrawn, flow.ongoing)
        ]  # fmt: skip
    stages = "; ".join(f"{s.name}: {s.n}" for s in flow.stages[:5])
    reasons = "; ".join(f"{r.reason} ({r.text}): {r.n}" for r in flow.screen_failure_reasons)
    failed = f"screen failures: {flow.screen_failed.n}" + (f" ({reasons})" if reasons else "")

    def counts(index: int) -> list[dict[str, str]]:
        return [
            {"groupId": f"FG{i:03d}", "numSubjects": str(arm[index].n)}
            for i, arm in enumerate(arms)
        ]

    not_completed = [
        {"groupId": f"FG{i:03d}", "numSubjects": str(arm[1].n - arm[2].n)}
        for i, arm in enumerate(arms)
    ]
    return {
        "recruitmentDetails": f"Data cut {dataset.data_cut.date().isoformat()}.",
        "preAssignmentDetails": f"{stages}; {failed}.",
        "groups": [{"id": f"FG{i:03d}", "title": arm[0]} for i, arm in enumerate(arms)],
        "periods": [
            {
                "title": "Infusion and follow-up",
                "milestones": [
                    {"type": "STARTED", "achievements": counts(1)},
                    {"type": "COMPLETED", "achievements": counts(2)},
                    {"type": "NOT COMPLETED", "achievements": not_completed},
                ],
                "dropWithdraws": [
                    {"type": "Death", "reasons": counts(3)},
                    {"type": "Withdrawal by Subject", "reasons": counts(4)},
                    {"type": "Ongoing at data cut", "reasons": counts(5)},
                ],
            }
        ],
    }


def country_name(country: str) -> str:
    """The ISO 3166 name of a country however the site wrote it ("Vietnam", "VN" ->
    "Viet Nam"), so one country is one region."""
    import pycountry

    return pycountry.countries.get(alpha_3=country_code(country)).name


def baseline_characteristics(dataset: TrialDataset) -> dict[str, Any]:
    """Laid out from :func:`trialdesk.analysis.baseline.baseline_characteristics`: its
    dose-level columns then its "All" column as Total (escalation), or the one column."""
    from trialdesk.analysis.baseline import baseline_characteristics as analysis_baseline

    analysed = analysis_baseline(dataset)
    if dataset.design == "escalation" and len(analysed) > 2:
        columns = [(c.group.label, c) for c in analysed[1:]] + [("Total", analysed[0])]
    elif dataset.design == "escalation" and len(analysed) == 2:
        columns = [(analysed[1].group.label, analysed[1])]
    else:
        columns = [("All participants", analysed[0])]
    ids = [f"BG{i:03d}" for i in range(len(columns))]
    pairs = list(zip(ids, (c for _, c in columns), strict=True))

    def region(value: str) -> str:
        return value if value == "not recorded" else country_name(value)

    regions = sorted({region(cat.value) for _, c in pairs for cat in c.country})

    def count(column, categories, wanted: str, key=lambda v: v) -> str:
        return str(
            sum(len(cat.subject_ids) for cat in categories(column) if key(cat.value) == wanted)
        )

    def continuous(title: str, unit: str, summary_of) -> dict[str, Any]:
        measure = {
            "title": title,
            "paramType": "MEAN",
            "dispersionType": "STANDARD_DEVIATION",
            "unitOfMeasure": unit,
            "denoms": [
                {
                    "units": "Participants",
                    "counts": [{"groupId": g, "value": str(summary_of(c).n)} for g, c in pairs],
                }
            ],
            "classes": [
                {
                    "categories": [
                        {
                            "measurements": [
                                {
                                    "groupId": g,
                                    "value": _fmt(summary_of(c).mean),
                                    "spread": _fmt(summary_of(c).sd),
                                }
                                for g, c in pairs
                            ]
                        }
                    ]
                }
            ],
        }
        return measure

    return {
        "populationDescription": "Participants who received the cell product.",
        "groups": [{"id": g, "title": t} for g, (t, _) in zip(ids, columns, strict=True)],
        "denoms": [
            {
                "units": "Participants",
                "counts": [{"groupId": g, "value": str(c.group.at_risk)} for g, c in pairs],
            }
        ],
        "measures": [
            continuous("Age, Continuous", "years", lambda c: c.age.summary),
            {
                "title": "Sex: Female, Male",
                "paramType": "COUNT_OF_PARTICIPANTS",
                "unitOfMeasure": "Participants",
                "classes": [
                    {
                        "categories": [
                            {
                                "title": title,
                                "measurements": [
                                    {"groupId": g, "value": count(c, lambda c: c.sex, sex)}
                                    for g, c in pairs
                                ],
                            }
                            for sex, title in (("female", "Female"), ("male", "Male"))
                        ]
                    }
                ],
            },
            {
                "title": "Region of Enrollment",
                "paramType": "COUNT_OF_PARTICIPANTS",
                "unitOfMeasure": "participants",
                "classes": [
                    {
                        "title": name,
                        "categories": [
                            {
                                "measurements": [
                                    {
                                        "groupId": g,
                                        "value": count(c, lambda c: c.country, name, region),
                                    }
                                    for g, c in pairs
                                ]
                            }
                        ],
                    }
                    for name in regions
                ],
            },
            continuous(
                "MELD Score at Baseline", "score on a scale", lambda c: c.score("meld").summary
            ),
        ],
    }


def outcome_measures(dataset: TrialDataset, window_rule: str = "include") -> dict[str, Any]:
    levels = _levels(dataset)
    points = [tp for tp in TIME_POINTS if any(v.code == tp for v in dataset.schedule)]
    classes = []
    for tp in points:
        results = [
            change_from_baseline(dataset, "meld", tp, window_rule=window_rule, group=level)
            for level, _ in levels
        ]
        classes.append(
            {
                "title": dataset.visit_plan(tp).label,
                "denoms": [
                    {
                        "units": "Participants",
                        "counts": [
                            {"groupId": f"OG{i:03d}", "value": str(r.change.n)}
                            for i, r in enumerate(results)
                        ],
                    }
                ],
                "categories": [
                    {
                        "measurements": [
                            {
                                "groupId": f"OG{i:03d}",
                                "value": _fmt(r.change.mean),
                                "spread": _fmt(r.change.sd),
                            }
                            for i, r in enumerate(results)
                        ]
                    }
                ],
            }
        )
    return {
        "outcomeMeasures": [
            {
                "type": "PRIMARY",
                "title": "Change From Baseline in MELD Score",
                "description": "MELD (OPTN 2002-2016) at the visit minus MELD at the infusion "
                f"visit (baseline); out-of-window visits: rule '{window_rule}' "
                "(docs/analysis.md); missing values are not imputed.",
                "populationDescription": "Participants who received the cell product, with a "
                "baseline and a value at the time point.",
                "reportingStatus": "POSTED",
                "paramType": "MEAN",
                "dispersionType": "STANDARD_DEVIATION",
                "unitOfMeasure": "score on a scale",
                "timeFrame": ", ".join(c["title"] for c in classes),
                "groups": [{"id": f"OG{i:03d}", "title": t} for i, (_, t) in enumerate(levels)],
                "classes": classes,
            }
        ]
    }


def _organ_system(term: str) -> str:
    from trialdesk.clinical.ctcae import get_term

    try:
        return get_term(term).soc
    except ValueError:
        raise ExportError(
            f"adverse event term {term!r}", "not a CTCAE term trialdesk knows"
        ) from None


def adverse_events(dataset: TrialDataset, other_threshold: float = 5.0) -> dict[str, Any]:
    if not 0 <= other_threshold <= 100:
        raise ExportError("frequency threshold", f"{other_threshold} is not a percentage 0-100")
    groups = safety_groups(dataset)
    keep = [i for i, g in enumerate(groups) if g.id != "All"] if (
        dataset.design == "escalation" and len(groups) > 1
    ) else [0]  # fmt: skip
    serious = replace(dataset, adverse_events=tuple(a for a in dataset.adverse_events if a.serious))
    other = replace(
        dataset, adverse_events=tuple(a for a in dataset.adverse_events if not a.serious)
    )

    def table(rows) -> list[dict[str, Any]]:
        out = []
        for row in sorted(rows, key=lambda r: r.label):
            versions = sorted(
                {a.ctcae_version for a in dataset.adverse_events if a.term == row.label}
            )
            out.append(
                {
                    "term": row.label,
                    "organSystem": _organ_system(row.label),
                    "sourceVocabulary": "CTCAE (" + ", ".join(versions) + ")",
                    "assessmentType": "SYSTEMATIC_ASSESSMENT",
                    "stats": [
                        {
                            "groupId": f"EG{j:03d}",
                            "numEvents": row.cells[i].events,
                            "numAffected": row.cells[i].n,
                            "numAtRisk": row.cells[i].at_risk,
                        }
                        for j, i in enumerate(keep)
                    ],
                }
            )
        return out

    def frequent(row) -> bool:
        return any((row.cells[i].percent or 0.0) >= other_threshold for i in keep)

    other_rows = [r for r in by_term(other).rows if frequent(r)]
    other_terms = {r.label for r in other_rows}
    frequent_other = replace(
        other, adverse_events=tuple(a for a in other.adverse_events if a.term in other_terms)
    )
    any_serious = ae_overview(serious).row("Any adverse event").cells
    any_other = ae_overview(frequent_other).row("Any adverse event").cells
    died = {d.subject_id for d in deaths(dataset)}
    event_groups = []
    for j, i in enumerate(keep):
        g = groups[i]
        event_groups.append(
            {
                "id": f"EG{j:03d}",
                "title": g.label,
                "deathsNumAffected": len(died & set(g.subject_ids)),
                "deathsNumAtRisk": g.at_risk,
                "seriousNumAffected": any_serious[i].n,
                "seriousNumAtRisk": g.at_risk,
                "otherNumAffected": any_other[i].n,
                "otherNumAtRisk": g.at_risk,
            }
        )
    return {
        "frequencyThreshold": format(other_threshold, "g"),
        "timeFrame": "From the infusion to the data cut "
        f"({dataset.data_cut.date().isoformat()}); deaths at any time.",
        "description": "Safety population: participants who received the cell product, by the "
        "dose level of the first infusion; treatment-emergent events (onset on or after the "
        "infusion day), CTCAE terms.",
        "eventGroups": event_groups,
        "seriousEvents": table(by_term(serious).rows),
        "otherEvents": table(other_rows),
    }


def results_section(
    dataset: TrialDataset, *, other_threshold: float = 5.0, window_rule: str = "include"
) -> dict[str, Any]:
    """The summary as ``{"nctId": ..., "dataCut": ..., "resultsSection": {...}}``."""
    if not dataset.participants:
        raise ExportError(dataset.nct_id, "no participants: nothing to summarise")
    return {
        "nctId": dataset.nct_id,
        "dataCut": dataset.data_cut.isoformat(),
        "resultsSection": {
            "participantFlowModule": participant_flow(dataset),
            "baselineCharacteristicsModule": baseline_characteristics(dataset),
            "outcomeMeasuresModule": outcome_measures(dataset, window_rule),
            "adverseEventsModule": adverse_events(dataset, other_threshold),
        },
    }
