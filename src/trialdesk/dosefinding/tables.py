"""Printable decision tables (CSV and PDF) for safety review committees.

Every design gets its dose-path table: each possible outcome of the next cohorts and the
decision after it, with the rule in words. BOIN also gets its boundary table (Yuan et al.
2016, Table 1 layout) and 3+3 its rule table (DLTs among 3 / among 6 -> action).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from trialdesk.dosefinding.boin import BOIN, boundary_table
from trialdesk.dosefinding.design import Design, base_design
from trialdesk.dosefinding.paths import dose_paths
from trialdesk.dosefinding.threeplusthree import ThreePlusThree


def path_rows(
    design: Design, outcomes: str = "", cohorts: int = 2, cohort_size: int = 3
) -> list[dict]:
    """One row per node below the root: outcomes so far, the last cohort, the decision."""
    root = dose_paths(design, outcomes, cohorts, cohort_size)
    rows = []
    for depth, node in root.walk():
        dec = node.decision
        rows.append(
            {
                "step": depth,
                "outcomes": str(node.outcomes) or "(none)",
                "last_cohort": "" if node.cohort is None else str(node.cohort),
                "decision": ("stop; MTD " + (str(dec.mtd) if dec.mtd else "none"))
                if dec.stop
                else f"dose {dec.next_dose}",
                "reason": dec.reason,
            }
        )
    return rows


def rule_rows(design: Design, max_n: int = 24) -> tuple[str, list[dict]] | None:
    """The design's own rule table, if it has one (BOIN boundaries, 3+3 rules)."""
    base = base_design(design)
    if isinstance(base, BOIN):
        rows = boundary_table(base.target, max_n, base.p_saf, base.p_tox, base.cutoff_eli)
        return "BOIN boundaries (number of DLTs at the current dose)", [
            {
                "patients at dose": r["n"],
                "escalate if DLTs <=": r["escalate_if_at_most"],
                "de-escalate if DLTs >=": r["deescalate_if_at_least"],
                "eliminate if DLTs >=": "-"
                if r["eliminate_if_at_least"] is None
                else r["eliminate_if_at_least"],
            }
            for r in rows
        ]
    if isinstance(base, ThreePlusThree):
        out = []
        for n in (base.a, base.a + base.b):
            for y in range(n + 1):
                v = base._verdict(n, y)
                action = {
                    "escalate": "escalate (or MTD if the dose above was too toxic)",
                    "expand": f"treat {base.b} more at this dose",
                    "toxic": "too toxic: de-escalate / MTD = lower dose with "
                    f"{base.a + base.b} patients",
                    "incomplete": "treat more at this dose",
                }[v]
                out.append({"patients at dose": n, "DLTs": y, "action": action})
                if v == "toxic":
                    break
        return f"{base.describe()} rules", out
    return None


def to_csv(
    design: Design, outcomes: str = "", cohorts: int = 2, cohort_size: int = 3, max_n: int = 24
) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    rules = rule_rows(design, max_n)
    if rules:
        title, rows = rules
        w.writerow([f"# {title}"])
        w.writerow(list(rows[0]))
        for r in rows:
            w.writerow(list(r.values()))
        w.writerow([])
    prow = path_rows(design, outcomes, cohorts, cohort_size)
    w.writerow(
        [
            f"# {design.describe()}: decisions for the next {cohorts} cohorts of "
            f"{cohort_size} after '{outcomes or '(none)'}'"
        ]
    )
    w.writerow(list(prow[0]))
    for r in prow:
        w.writerow(list(r.values()))
    return buf.getvalue()


def to_pdf(
    design: Design,
    path: str | Path,
    outcomes: str = "",
    cohorts: int = 2,
    cohort_size: int = 3,
    max_n: int = 24,
    title: str | None = None,
) -> Path:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7.5, leading=9)
    path = Path(path)
    doc = SimpleDocTemplate(
        str(path),
        pagesize=landscape(A4),
        leftMargin=1.5 * cm,
        rightMargin=1.5 * cm,
        topMargin=1.5 * cm,
        bottomMargin=1.5 * cm,
        title=title or f"Decision table: {design.describe()}",
    )
    story = [Paragraph(title or f"Decision table: {design.describe()}", styles["Title"])]
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde6f0")),
            ("FONTSIZE", (0, 0), (-1, -1), 7.5),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )
    rules = rule_rows(design, max_n)
    if rules:
        t, rows = rules
        story += [Paragraph(t, styles["Heading2"])]
        data = [list(rows[0])] + [[str(v) for v in r.values()] for r in rows]
        story += [Table(data, repeatRows=1, style=grid), Spacer(1, 0.4 * cm)]
    prow = path_rows(design, outcomes, cohorts, cohort_size)
    story.append(
        Paragraph(
            f"Decisions for the next {cohorts} cohorts of {cohort_size} after "
            f"'{outcomes or '(none)'}'",
            styles["Heading2"],
        )
    )
    data = [["step", "outcomes", "last cohort", "decision", "reason"]] + [
        [
            str(r["step"]),
            Paragraph(r["outcomes"], small),
            r["last_cohort"],
            r["decision"],
            Paragraph(r["reason"], small),
        ]
        for r in prow
    ]
    story.append(
        Table(
            data,
            repeatRows=1,
            style=grid,
            colWidths=[1.2 * cm, 5 * cm, 2.2 * cm, 2.8 * cm, 15.5 * cm],
        )
    )
    doc.build(story)
    return path
