"""Plain-text renderings of boundary tables, operating characteristics and comparison grids."""

from __future__ import annotations


def format_boundaries(target: float, lam_e: float, lam_d: float, rows: list[dict]) -> str:
    lines = [
        f"BOIN target {target:g}: lambda_e = {lam_e:.4f}, lambda_d = {lam_d:.4f}",
        f"{'n':>4} {'escalate if <=':>15} {'de-escalate if >=':>18} {'eliminate if >=':>16}",
    ]
    for r in rows:
        el = r["eliminate_if_at_least"]
        lines.append(
            f"{r['n']:>4} {r['escalate_if_at_most']:>15} "
            f"{r['deescalate_if_at_least']:>18} {'-' if el is None else el:>16}"
        )
    return "\n".join(lines)


def format_grid(rows: list[dict]) -> str:
    lines = [
        f"{'scenario':<12} {'N':>3} {'design':<30} {'P(correct)':>10} "
        f"{'diff vs first':>13} {'paired SE':>9} {'mean n':>7} {'% above':>8}"
    ]
    for r in rows:
        lines.append(
            f"{r['scenario']:<12} {r['max_n']:>3} {r['design'][:30]:<30} "
            f"{r['prob_correct']:>10.3f} {r['diff_vs_first']:>13.3f} "
            f"{r['se_diff_paired']:>9.4f} {r['mean_n']:>7.2f} {r['pct_above_mtd']:>8.1f}"
        )
    return "\n".join(lines)


def format_oc(res) -> str:
    lines = [
        f"{res.design}: {res.trials if res.trials else 'exact'} "
        f"{'trials' if res.trials else 'enumeration'}, cohort {res.cohort_size}, "
        f"max n {res.max_n}; true MTD = {res.true_mtd or 'none'} (target {res.target})",
        f"{'dose':>4} {'true p':>7} {'P(select)':>10} {'mean n':>7} {'mean DLT':>9}",
    ]
    for k, p in enumerate(res.truth):
        lines.append(
            f"{k + 1:>4} {p:>7.3f} {res.prob_select[k]:>10.4f} "
            f"{res.mean_n_per_dose[k]:>7.2f} {res.mean_dlt_per_dose[k]:>9.2f}"
        )
    lines.append(
        f"P(no MTD) = {res.prob_no_mtd:.4f}; mean n = {res.mean_n:.2f}; mean DLTs = "
        f"{res.mean_dlt:.2f}; patients above the true MTD = {res.pct_above_mtd:.1f}%"
    )
    return "\n".join(lines)
