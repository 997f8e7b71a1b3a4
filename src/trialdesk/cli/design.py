"""``trialdesk design ...``: dose-finding decisions, boundary tables, paths, simulations.

The ``design`` group and its subcommands; the shared design options and their parsing into
a design are in ``cli/_design_options.py``.
"""

from __future__ import annotations

import json
import math

import click

from trialdesk.cli._design_options import (
    DESIGNS,
    build_design,
    design_options,
    parse_floats,
    parse_labels,
)


def _clean(obj):
    if isinstance(obj, float):
        return None if not math.isfinite(obj) else obj
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def _echo_json(obj) -> None:
    click.echo(json.dumps(_clean(obj), indent=2))


@click.group()
def design() -> None:
    """Dose-finding designs: 3+3, BOIN, CRM (decisions, tables, simulation)."""


@design.command()
@click.argument("name", type=click.Choice(["boin"], case_sensitive=False))
@click.option("--target", type=float, required=True, help="Target DLT probability phi.")
@click.option("--max-n", type=int, default=30, show_default=True, help="Rows n = 1..max-n.")
@click.option("--p-saf", type=float, default=None, help="phi1 (default 0.6 x target).")
@click.option("--p-tox", type=float, default=None, help="phi2 (default 1.4 x target).")
@click.option("--cutoff-eli", type=float, default=0.95, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def boundaries(name, target, max_n, p_saf, p_tox, cutoff_eli, as_json) -> None:
    """BOIN escalation / de-escalation / elimination boundaries for n = 1..max-n."""
    from trialdesk.dosefinding import DoseFindingError, boin_lambdas, boundary_table, report

    try:
        rows = boundary_table(target, max_n, p_saf=p_saf, p_tox=p_tox, cutoff_eli=cutoff_eli)
    except DoseFindingError as e:
        raise click.ClickException(str(e)) from None
    lam_e, lam_d = boin_lambdas(target, p_saf, p_tox)
    if as_json:  # the contract: a JSON list of rows
        _echo_json(rows)
        return
    click.echo(report.format_boundaries(target, lam_e, lam_d, rows))


@design.command("next")
@click.argument("name", type=DESIGNS)
@click.option("--doses", type=int, required=True, help="Number of dose levels.")
@click.option("--outcomes", default="", help='Outcomes so far, e.g. "1NNN 2NTN".')
@click.option("--max-n", type=int, default=None, help="Stop once this many patients are in.")
@click.option(
    "--dose-labels",
    default=None,
    help='Names of the dose levels for the printout, e.g. "5,10,15,20 x10^7 cells".',
)
@design_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def next_(name, doses, outcomes, max_n, dose_labels, as_json, **opts) -> None:
    """The recommended next dose after OUTCOMES, with the rule that applied."""
    from trialdesk.dosefinding import DoseFindingError

    if doses is not None and doses < 1:
        raise click.ClickException("--doses: must be >= 1")
    d = build_design(name, doses, max_n, **opts)
    try:
        decision = d.next_dose(outcomes)
    except DoseFindingError as e:
        raise click.ClickException(str(e)) from None
    labels = parse_labels(dose_labels, doses)
    if as_json:
        _echo_json(
            {
                "design": d.describe(),
                "reference": d.reference,
                "outcomes": outcomes,
                **decision.to_dict(),
                **({"dose_labels": labels} if dose_labels else {}),
            }
        )
        return
    click.echo(f"Design: {d.describe()}")
    click.echo(f"Outcomes: {outcomes or '(none)'}")
    width = max(len(lab) for lab in labels)
    click.echo(f"{'dose':>4} {'':<{width}} {'n':>3} {'DLT':>4}  note")
    for s in decision.summary:
        est = "" if s.estimate is None else f"est {s.estimate:.3f} "
        click.echo(f"{s.dose:>4} {labels[s.dose - 1]:<{width}} {s.n:>3} {s.dlt:>4}  {est}{s.note}")
    if decision.stop:
        click.echo(f"Decision: STOP; MTD = {decision.mtd if decision.mtd else 'none'}")
    else:
        click.echo(f"Decision: next dose {decision.next_dose}")
    click.echo(f"Reason: {decision.reason}")
    click.echo(f"Reference: {d.reference}")


def _progress():
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("simulating"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} trials"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )


@design.command()
@click.argument("name", type=DESIGNS)
@click.option("--truth", required=True, help="True DLT probability per dose, e.g. 0.05,0.12.")
@click.option("--cohort-size", type=int, default=3, show_default=True)
@click.option("--max-n", type=int, default=24, show_default=True)
@click.option("--trials", type=int, default=10_000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Save a PNG of selection probabilities and patients per dose.",
)
@click.option(
    "--exact",
    is_flag=True,
    help="Enumerate every dose path instead of simulating (no Monte Carlo error).",
)
@design_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def simulate(
    name, truth, cohort_size, max_n, trials, seed, plot_path, exact, as_json, **opts
) -> None:
    """Operating characteristics by simulation (all trials advance together, vectorized)."""
    from trialdesk.dosefinding import DoseFindingError, exact_oc, report
    from trialdesk.dosefinding import simulate as sim

    p = parse_floats("truth", truth)
    if opts["target"] is None and name == "3+3":
        opts["target"] = 0.3  # 3+3 has no target: it only defines the true MTD here
    target = opts["target"]
    d = build_design(name, len(p), **opts)
    try:
        if exact:
            if max_n % cohort_size:
                raise DoseFindingError(
                    f"max_n: must be a multiple of the cohort size {cohort_size}, got {max_n}"
                )
            res = exact_oc(d, p, cohort_size, max_n // cohort_size, target=target)
        else:
            with _progress() as prog:
                task = prog.add_task("sim", total=trials)
                res = sim(
                    d,
                    p,
                    cohort_size=cohort_size,
                    max_n=max_n,
                    trials=trials,
                    seed=seed,
                    target=target,
                    progress=lambda done, tot: prog.update(task, completed=done),
                )
    except DoseFindingError as e:
        raise click.ClickException(str(e)) from None
    if plot_path:
        from trialdesk.dosefinding.plots import plot_oc

        plot_oc([res], plot_path)
    if as_json:
        _echo_json({**res.to_dict(), **({} if exact else {"seed": seed})})
        return
    click.echo(report.format_oc(res))
    if plot_path:
        click.echo(f"Plot written to {plot_path}")


@design.command()
@click.argument("name", type=DESIGNS)
@click.option("--doses", type=int, required=True, help="Number of dose levels.")
@click.option("--outcomes", default="", help='Outcomes so far, e.g. "1NNN 2NTN".')
@click.option("--cohorts", type=int, default=2, show_default=True, help="Cohorts ahead.")
@click.option("--cohort-size", type=int, default=3, show_default=True)
@click.option("--truth", default=None, help="True DLT curve: adds exact path probabilities.")
@click.option("--max-n", type=int, default=None, help="Stop once this many patients are in.")
@click.option(
    "--png",
    "png_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Draw the tree to this PNG file.",
)
@design_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def paths(
    name, doses, outcomes, cohorts, cohort_size, truth, max_n, png_path, as_json, **opts
) -> None:
    """Every outcome of the next cohorts and the decision after each (dose paths)."""
    from trialdesk.dosefinding import DoseFindingError
    from trialdesk.dosefinding.paths import dose_paths, paths_oc, render_png, render_text

    d = build_design(name, doses, max_n, **opts)
    try:
        root = dose_paths(d, outcomes, cohorts, cohort_size, truth=parse_floats("truth", truth))
    except (DoseFindingError, ValueError) as e:
        raise click.ClickException(str(e)) from None
    summary = paths_oc(root, doses) if truth else None
    if png_path:
        render_png(
            root, png_path, title=f"{d.describe()}: dose paths after '{outcomes or '(start)'}'"
        )
    if as_json:
        _echo_json(
            {
                "design": d.describe(),
                "outcomes": outcomes,
                "cohorts": cohorts,
                "paths": root.to_dict(),
                "n_paths": len(root.leaves()),
                **({"exact": summary} if summary else {}),
            }
        )
        return
    click.echo(f"{d.describe()}: {len(root.leaves())} paths")
    click.echo(render_text(root))
    if summary:
        click.echo(
            "Exact, after these cohorts: P(next dose) = "
            + ", ".join(f"{p:.4f}" for p in summary["prob_next_dose"])
            + f"; P(stop) = {summary['prob_stop']:.4f}"
        )


@design.command()
@click.argument("name", type=DESIGNS)
@click.option("--doses", type=int, required=True, help="Number of dose levels.")
@click.option("--outcomes", default="", help="Start from these outcomes.")
@click.option("--cohorts", type=int, default=2, show_default=True, help="Cohorts ahead.")
@click.option("--cohort-size", type=int, default=3, show_default=True)
@click.option(
    "--max-n", type=int, default=24, show_default=True, help="Rows of the BOIN boundary table."
)
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None)
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False), default=None)
@design_options
def table(name, doses, outcomes, cohorts, cohort_size, max_n, csv_path, pdf_path, **opts) -> None:
    """Printable decision table (CSV to stdout or --csv; --pdf) for a safety review."""
    from trialdesk.dosefinding import DoseFindingError
    from trialdesk.dosefinding.tables import to_csv, to_pdf

    d = build_design(name, doses, **opts)
    try:
        text = to_csv(d, outcomes, cohorts, cohort_size, max_n)
        if pdf_path:
            to_pdf(d, pdf_path, outcomes, cohorts, cohort_size, max_n)
    except (DoseFindingError, ValueError) as e:
        raise click.ClickException(str(e)) from None
    if csv_path:
        with open(csv_path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        click.echo(f"CSV written to {csv_path}")
    if pdf_path:
        click.echo(f"PDF written to {pdf_path}")
    if not csv_path and not pdf_path:
        click.echo(text, nl=False)


@design.command()
@click.option(
    "--design",
    "design_names",
    multiple=True,
    type=DESIGNS,
    default=("3+3", "boin", "crm"),
    show_default=True,
)
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    required=True,
    help="True DLT curve, e.g. 0.05,0.12,0.30,0.45 (repeat for several).",
)
@click.option("--target", type=float, required=True)
@click.option(
    "--max-n",
    "sizes",
    multiple=True,
    type=int,
    default=(24,),
    show_default=True,
    help="Sample size (repeat for several).",
)
@click.option("--cohort-size", type=int, default=3, show_default=True)
@click.option("--trials", type=int, default=10_000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--skeleton", default=None, help="CRM skeleton.")
@click.option(
    "--workers",
    type=int,
    default=0,
    show_default=True,
    help="Local processes (0 = in this process).",
)
@click.option(
    "--dask", "dask_address", default=None, help="Address of a Dask scheduler to run the grid on."
)
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def compare(
    design_names,
    scenarios,
    target,
    sizes,
    cohort_size,
    trials,
    seed,
    skeleton,
    workers,
    dask_address,
    plot_path,
    as_json,
) -> None:
    """Compare designs x scenarios x sample sizes on common simulated patients."""
    from trialdesk.dosefinding import DoseFindingError, report
    from trialdesk.dosefinding.compare import Scenario, compare_designs, plot_grid

    truths = [parse_floats("scenario", s) for s in scenarios]
    k = len(truths[0])
    designs = {n: build_design(n, k, target=target, skeleton=skeleton) for n in design_names}
    sc = [Scenario(f"scenario {i + 1}", t, target) for i, t in enumerate(truths)]
    executor = None
    try:
        if dask_address:
            from dask.distributed import Client

            executor = Client(dask_address)
        elif workers > 0:
            from concurrent.futures import ProcessPoolExecutor

            executor = ProcessPoolExecutor(workers)
        rows = compare_designs(designs, sc, sizes, trials, seed, cohort_size, executor)
    except DoseFindingError as e:
        raise click.ClickException(str(e)) from None
    finally:
        if executor is not None:
            executor.close() if hasattr(executor, "close") else executor.shutdown()
    if plot_path:
        plot_grid(rows, plot_path)
    if as_json:
        _echo_json({"trials": trials, "seed": seed, "rows": rows})
        return
    click.echo(report.format_grid(rows))
    if plot_path:
        click.echo(f"Plot written to {plot_path}")


COMMANDS = [design]
