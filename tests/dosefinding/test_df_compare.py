"""Comparison grid on common patients; runs unchanged on a process pool and on Dask."""

from concurrent.futures import ProcessPoolExecutor

import pytest

from trialdesk.dosefinding import BOIN, DoseFindingError, ThreePlusThree, make_design
from trialdesk.dosefinding.compare import Scenario, compare_designs, plot_grid

DESIGNS = {
    "3+3": ThreePlusThree(doses=4),
    "BOIN": BOIN(doses=4, target=0.3),
    "CRM": make_design("crm", 4, target=0.3, skeleton=(0.1, 0.2, 0.3, 0.4)),
}
SCEN = [Scenario("A", (0.05, 0.12, 0.30, 0.45), 0.3), Scenario("B", (0.1, 0.3, 0.45, 0.6), 0.3)]


@pytest.fixture(scope="module")
def local_rows():
    return compare_designs(DESIGNS, SCEN, [12, 24], trials=1500, seed=4)


def test_grid_shape_and_paired_differences(local_rows):
    assert len(local_rows) == 2 * 2 * 3
    first = [r for r in local_rows if r["design"] == "3+3"]
    assert all(r["diff_vs_first"] == 0 and r["se_diff_paired"] == 0 for r in first)
    # two very similar designs on the same patients: the paired error is far below the
    # error of comparing independent runs
    rows = compare_designs(
        {"BOIN": BOIN(doses=4, target=0.3), "BOIN'": BOIN(doses=4, target=0.3, cutoff_eli=0.9)},
        SCEN[:1],
        [24],
        trials=3000,
        seed=2,
    )
    assert rows[1]["se_diff_paired"] < 0.7 * rows[1]["se_diff_if_independent"]


def test_process_pool_gives_identical_results(local_rows):
    with ProcessPoolExecutor(max_workers=2) as ex:
        rows = compare_designs(DESIGNS, SCEN, [12, 24], trials=1500, seed=4, executor=ex)
    assert rows == local_rows


def test_dask_local_cluster_gives_identical_results(local_rows):
    from dask.distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        rows = compare_designs(DESIGNS, SCEN, [12, 24], trials=1500, seed=4, executor=client)
    assert rows == local_rows


def test_plot(local_rows, tmp_path):
    plot_grid(local_rows, tmp_path / "g.png")
    assert (tmp_path / "g.png").stat().st_size > 5000


def test_bad_grid_inputs():
    with pytest.raises(DoseFindingError, match="expected 4 values"):
        compare_designs(DESIGNS, [Scenario("x", (0.1, 0.2), 0.3)], [24], trials=10)
    with pytest.raises(DoseFindingError, match="not a multiple"):
        compare_designs(DESIGNS, SCEN, [20], trials=10)
    with pytest.raises(DoseFindingError, match="same number of doses"):
        compare_designs(
            {"a": BOIN(doses=3, target=0.3), "b": BOIN(doses=4, target=0.3)}, SCEN, [24], trials=10
        )
