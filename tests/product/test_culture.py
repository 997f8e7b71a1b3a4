"""Population doublings (Cristofalo et al., PNAS 1998;95:10614-9): PD = log2(Nh / Ns).

Reference values computed independently with the paper's own form 3.32 * (log10 Nh - log10 Ns)
(a 3.32 factor, so agreement to about 0.1%)."""

import math

import pytest

from trialdesk.product.culture import cumulative_population_doublings, population_doublings


@pytest.mark.parametrize(
    ("seeded", "harvested"),
    [(1_000_000, 8_000_000), (5_000, 1_280_000), (3.5e6, 2.1e7), (1e6, 1e6), (4e6, 1e6)],
)
def test_agrees_with_the_papers_3_32_form(seeded, harvested):
    paper = 3.32 * (math.log10(harvested) - math.log10(seeded))
    assert population_doublings(seeded, harvested) == pytest.approx(paper, rel=2e-3, abs=1e-9)


def test_exact_powers_of_two():
    assert population_doublings(5_000, 1_280_000) == 8.0  # 5000 * 2**8
    assert population_doublings(4e6, 1e6) == -2.0  # fewer cells harvested than seeded


def test_cumulative_is_the_sum():
    assert cumulative_population_doublings([(1e6, 4e6), (1e6, 8e6)]) == 5.0


@pytest.mark.parametrize("bad", [0, -5, float("nan"), "100", True, None])
def test_bad_counts_are_named(bad):
    with pytest.raises(ValueError, match="seeded cells"):
        population_doublings(bad, 1e6)
