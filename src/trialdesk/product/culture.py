"""Culture passages: population doublings.

The number of population doublings in one passage is

    PD = log2(N_harvested / N_seeded) = 3.32 * (log10 N_harvested - log10 N_seeded)

(Cristofalo VJ, Allen RG, Pignolo RJ, Martin BG, Beck JC. Relationship between donor age and
the replicative lifespan of human cells in culture: a reevaluation. Proc Natl Acad Sci USA
1998;95:10614-9, Methods; the same formula with the factor 3.32 ~ 1/log10(2) is the one used
for mesenchymal stromal cell expansion, e.g. Bieback K et al., Stem Cells 2004;22:625-34).
The exact log2 is computed here, not the rounded 3.32 factor. Cumulative population doublings
are the sum over passages.

>>> population_doublings(1_000_000, 8_000_000)
3.0
>>> round(cumulative_population_doublings([(1e6, 8e6), (2e6, 5e6)]), 3)
4.322
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["cumulative_population_doublings", "population_doublings"]


def population_doublings(seeded_cells: float, harvested_cells: float) -> float:
    """log2(harvested / seeded) of one passage; both counts must be positive."""
    for name, value in (("seeded cells", seeded_cells), ("harvested cells", harvested_cells)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name}: expected a number, got {value!r}")
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"{name}: must be a positive count, got {value}")
    return math.log2(harvested_cells / seeded_cells)


def cumulative_population_doublings(passages: Iterable[tuple[float, float]]) -> float:
    """The sum of each passage's population doublings, ``(seeded, harvested)`` pairs."""
    return sum(population_doublings(s, h) for s, h in passages)
