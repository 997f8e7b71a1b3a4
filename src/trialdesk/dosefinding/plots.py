"""Plots of operating characteristics (matplotlib, Agg backend, PNG files)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def plot_oc(results: Sequence, path: str | Path, title: str | None = None) -> Path:
    """Side-by-side bars per dose: P(select as MTD) and mean patients, one bar per result."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    k = len(results[0].truth)
    width = 0.8 / len(results)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    x = np.arange(1, k + 1)
    for i, r in enumerate(results):
        off = (i - (len(results) - 1) / 2) * width
        axes[0].bar(x + off, r.prob_select, width, label=r.design)
        axes[1].bar(x + off, r.mean_n_per_dose, width, label=r.design)
    tm = results[0].true_mtd
    for ax in axes:
        ax.set_xticks(x)
        ax.set_xlabel("dose level (true DLT probability)")
        ax.set_xticklabels([f"{j}\n({p:.2f})" for j, p in zip(x, results[0].truth, strict=True)])
        if tm:
            ax.axvspan(tm - 0.45, tm + 0.45, color="0.9", zorder=0)
    axes[0].set_ylabel("probability of selection as MTD")
    axes[1].set_ylabel("mean patients treated")
    axes[0].legend(fontsize=8)
    fig.suptitle(title or "Operating characteristics (shaded: true MTD)")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
