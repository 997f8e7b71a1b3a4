"""Dose paths: every outcome of the next k cohorts and the design's decision after each.

Dose transition pathways (Yap C et al. 2017, "Dose transition pathways: the missing link
between complex dose-finding designs and simple decision-making", Clin Cancer Res
23:7440-7447), as computed by the R escalation package's ``get_dose_paths``: a cohort of c patients has
c + 1 distinguishable outcomes (0..c DLTs; the order of patients inside a cohort does not
change any design here), so k cohorts give at most (c + 1)^k paths. With a true DLT curve
each path has an exact probability, and summing over the leaves gives exact operating
characteristics with no Monte Carlo error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import comb

from trialdesk.dosefinding.design import Design, check_int, check_probs
from trialdesk.dosefinding.outcomes import Cohort, Outcomes, parse_outcomes
from trialdesk.dosefinding.state import Decision, TrialState


@dataclass
class PathNode:
    """One node of the dose-path tree: the history so far and the decision after it."""

    outcomes: Outcomes
    cohort: Cohort | None
    decision: Decision
    probability: float | None = None  # of reaching this node from the root, given truth
    children: list[PathNode] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = {
            "outcomes": str(self.outcomes),
            "cohort": None if self.cohort is None else str(self.cohort),
            "next_dose": self.decision.next_dose,
            "reason": self.decision.reason,
            "stop": self.decision.stop,
            "mtd": self.decision.mtd,
        }
        if self.probability is not None:
            d["probability"] = self.probability
        d["children"] = [c.to_dict() for c in self.children]
        return d

    def leaves(self) -> list[PathNode]:
        if not self.children:
            return [self]
        return [leaf for c in self.children for leaf in c.leaves()]

    def walk(self, depth: int = 0):
        yield depth, self
        for c in self.children:
            yield from c.walk(depth + 1)


def dose_paths(
    design: Design,
    outcomes: str | Outcomes = "",
    cohorts: int = 2,
    cohort_size: int = 3,
    truth=None,
) -> PathNode:
    """The tree of the next ``cohorts`` cohorts after ``outcomes``."""
    check_int("cohorts", cohorts, 1, 8)
    check_int("cohort_size", cohort_size, 1, 12)
    if (cohort_size + 1) ** cohorts > 200_000:
        raise ValueError("cohorts: too many paths; lower the number of cohorts")
    out = parse_outcomes(outcomes, design.n_doses)
    p = None if truth is None else check_probs("truth", truth, n=design.n_doses, nondecreasing=True)

    def grow(hist: Outcomes, cohort: Cohort | None, prob: float | None, depth: int) -> PathNode:
        dec = design.decide(TrialState.from_outcomes(hist, design.n_doses))
        node = PathNode(hist, cohort, dec, prob)
        if dec.stop or depth == cohorts:
            return node
        d = dec.next_dose
        for k in range(cohort_size + 1):
            c = Cohort(d, (False,) * (cohort_size - k) + (True,) * k)
            pk = None
            if p is not None:
                q = p[d - 1]
                pk = prob * comb(cohort_size, k) * q**k * (1 - q) ** (cohort_size - k)
            node.children.append(grow(hist.then(c), c, pk, depth + 1))
        return node

    return grow(out, None, None if p is None else 1.0, 0)


def paths_oc(root: PathNode, n_doses: int) -> dict:
    """Exact summary over the leaves of a tree grown with ``truth``.

    ``prob_recommend``: probability that, at the end of the paths, the design recommends each
    dose next (trial continuing) or has stopped with it as MTD; ``prob_stop``,
    ``prob_stop_no_mtd``; ``mean_n_per_dose`` including the patients already treated.
    """
    if root.probability is None:
        raise ValueError("paths_oc needs a tree grown with truth=...")
    rec = [0.0] * n_doses
    mtd = [0.0] * n_doses
    mean_n = [0.0] * n_doses
    stop = stop_none = 0.0
    for leaf in root.leaves():
        pr = leaf.probability
        n, _, _ = leaf.outcomes.counts(n_doses)
        for j in range(n_doses):
            mean_n[j] += pr * n[j]
        if leaf.decision.stop:
            stop += pr
            if leaf.decision.mtd is None:
                stop_none += pr
            else:
                mtd[leaf.decision.mtd - 1] += pr
        else:
            rec[leaf.decision.next_dose - 1] += pr
    return {
        "prob_next_dose": rec,
        "prob_stop_with_mtd": mtd,
        "prob_stop": stop,
        "prob_stop_no_mtd": stop_none,
        "mean_n_per_dose": mean_n,
    }


def render_text(root: PathNode) -> str:
    """The tree as indented text, one line per node (cohort -> decision)."""
    lines = []

    def label(node: PathNode) -> str:
        what = (
            f"stop, MTD {node.decision.mtd}"
            if node.decision.stop and node.decision.mtd
            else "stop, no MTD"
            if node.decision.stop
            else f"dose {node.decision.next_dose}"
        )
        pr = "" if node.probability is None else f"  (p = {node.probability:.4f})"
        return what + pr

    lines.append(f"{str(root.outcomes) or '(start)'} -> {label(root)}")

    def rec(node: PathNode, prefix: str) -> None:
        for i, ch in enumerate(node.children):
            last = i == len(node.children) - 1
            lines.append(f"{prefix}{'└── ' if last else '├── '}{ch.cohort} -> {label(ch)}")
            rec(ch, prefix + ("    " if last else "│   "))

    rec(root, "")
    return "\n".join(lines)


def render_png(root: PathNode, path, title: str | None = None) -> None:
    """Draw the tree (matplotlib): one column per cohort, leaves spread vertically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pos: dict[int, tuple[float, float]] = {}
    counter = [0]

    def place(node: PathNode, depth: int) -> float:
        if not node.children:
            y = counter[0]
            counter[0] += 1
        else:
            ys = [place(c, depth + 1) for c in node.children]
            y = sum(ys) / len(ys)
        pos[id(node)] = (depth, y)
        return y

    place(root, 0)
    n_leaves = max(counter[0], 1)
    depth = max(d for d, _ in root.walk()) + 1
    fig, ax = plt.subplots(figsize=(3.2 * depth + 1, max(3, 0.32 * n_leaves + 1)))
    for _, node in root.walk():
        x, y = pos[id(node)]
        for ch in node.children:
            cx, cy = pos[id(ch)]
            ax.plot([x, cx], [y, cy], color="0.6", lw=0.8, zorder=1)
        dec = node.decision
        txt = (
            ("stop" + (f": MTD {dec.mtd}" if dec.mtd else ": no MTD"))
            if dec.stop
            else (f"-> {dec.next_dose}")
        )
        lab = f"{node.cohort}\n{txt}" if node.cohort else f"start\n{txt}"
        color = "#f4cccc" if dec.stop else "#d9ead3"
        ax.text(
            x,
            y,
            lab,
            ha="center",
            va="center",
            fontsize=7,
            zorder=2,
            bbox={"boxstyle": "round", "fc": color, "ec": "0.5"},
        )
    ax.set_xlim(-0.5, depth - 0.5)
    ax.set_ylim(-1, n_leaves)
    ax.invert_yaxis()
    ax.axis("off")
    ax.set_title(title or f"Dose paths after '{root.outcomes}'", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
