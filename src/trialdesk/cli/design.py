"""``trialdesk design ...``: dose-finding decisions, boundary tables, paths, simulations."""

from __future__ import annotations

import json
import math

import click

DESIGNS = click.Choice(["3+3", "boin", "crm"], case_sensitive=False)


def _floats(name: str, text: str | None) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        return tuple(float(v) for v in text.replace(" ", "").split(",") if v != "")
    except ValueError:
        raise click.ClickException(
            f"--{name}: expected comma-separated numbers like 0.05,0.12,0.30, got {text!r}"
        ) from None


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


def design_options(f):
    opts = [
        click.option(
            "--target",
            type=float,
            default=None,
            help="Target DLT probability (BOIN, CRM; for 3+3 only the true MTD).",
        ),
        click.option(
            "--skeleton",
            default=None,
            help="CRM prior DLT probabilities per dose, e.g. 0.05,0.12,0.25,0.40.",
        ),
        click.option(
            "--model",
            type=click.Choice(["empiric", "logistic"]),
            default="empiric",
            show_default=True,
            help="CRM working model.",
        ),
        click.option(
            "--a0", type=float, default=3.0, show_default=True, help="CRM logistic intercept."
        ),
        click.option("--allow-skip", is_flag=True, help="CRM: allow skipping untried doses."),
        click.option(
            "--no-deescalation",
            is_flag=True,
            help="3+3: stop at a too-toxic dose instead of expanding the one below.",
        ),
        click.option(
            "--max-cohorts-per-dose",
            type=int,
            default=None,
            help="Stop when the recommended dose already has this many cohorts.",
        ),
        click.option(
            "--stop-too-toxic",
            type=float,
            default=None,
            metavar="CONF",
            help="Stop if Pr(DLT rate at dose 1 > target) > CONF (e.g. 0.95).",
        ),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _build(
    name,
    doses,
    target,
    skeleton,
    model,
    a0,
    allow_skip,
    no_deescalation,
    max_cohorts_per_dose,
    stop_too_toxic,
    max_n=None,
):
    from trialdesk.dosefinding import DoseFindingError, StopWhenTooToxic, make_design

    opts = {}
    if name.lower() == "3+3" and no_deescalation:
        opts["allow_deescalation"] = False
    try:
        design = make_design(
            name,
            doses,
            target=target,
            skeleton=_floats("skeleton", skeleton),
            model=model,
            a0=a0,
            skip_doses=allow_skip,
            max_cohorts_per_dose=max_cohorts_per_dose,
            max_n=max_n,
            **opts,
        )
        if stop_too_toxic is not None:
            if target is None:
                raise DoseFindingError("--stop-too-toxic needs --target")
            design = design | StopWhenTooToxic(target=target, confidence=stop_too_toxic)
    except DoseFindingError as e:
        raise click.ClickException(str(e)) from None
    return design


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
    from trialdesk.dosefinding import DoseFindingError, boin_lambdas, boundary_table

    try:
        rows = boundary_table(target, max_n, p_saf=p_saf, p_tox=p_tox, cutoff_eli=cutoff_eli)
    except DoseFindingError as e:
        raise click.ClickException(str(e)) from None
    lam_e, lam_d = boin_lambdas(target, p_saf, p_tox)
    if as_json:  # the contract: a JSON list of rows
        _echo_json(rows)
        return
    click.echo(f"BOIN target {target:g}: lambda_e = {lam_e:.3f}, lambda_d = {lam_d:.3f}")
    click.echo(f"{'n':>4} {'escalate if <=':>15} {'de-escalate if >=':>18} {'eliminate if >=':>16}")
    for r in rows:
        el = r["eliminate_if_at_least"]
        click.echo(
            f"{r['n']:>4} {r['escalate_if_at_most']:>15} "
            f"{r['deescalate_if_at_least']:>18} {'-' if el is None else el:>16}"
        )


@design.command("next")
@click.argument("name", type=DESIGNS)
@click.option("--doses", type=int, required=True, help="Number of dose levels.")
@click.option("--outcomes", default="", help='Outcomes so far, e.g. "1NNN 2NTN".')
@click.option("--max-n", type=int, default=None, help="Stop once this many patients are in.")
@design_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def next_(
    name,
    doses,
    outcomes,
    max_n,
    target,
    skeleton,
    model,
    a0,
    allow_skip,
    no_deescalation,
    max_cohorts_per_dose,
    stop_too_toxic,
    as_json,
) -> None:
    """The recommended next dose after OUTCOMES, with the rule that applied."""
    from trialdesk.dosefinding import DoseFindingError

    if doses is not None and doses < 1:
        raise click.ClickException("--doses: must be >= 1")
    d = _build(
        name,
        doses,
        target,
        skeleton,
        model,
        a0,
        allow_skip,
        no_deescalation,
        max_cohorts_per_dose,
        stop_too_toxic,
        max_n,
    )
    try:
        decision = d.next_dose(outcomes)
    except DoseFindingError as e:
        raise click.ClickException(str(e)) from None
    if as_json:
        _echo_json({"design": d.describe(), "outcomes": outcomes, **decision.to_dict()})
        return
    click.echo(f"Design: {d.describe()}")
    click.echo(f"Outcomes: {outcomes or '(none)'}")
    click.echo(f"{'dose':>4} {'n':>3} {'DLT':>4}  note")
    for s in decision.summary:
        est = "" if s.estimate is None or s.estimate != s.estimate else f"est {s.estimate:.3f} "
        click.echo(f"{s.dose:>4} {s.n:>3} {s.dlt:>4}  {est}{s.note}")
    if decision.stop:
        click.echo(f"Decision: STOP; MTD = {decision.mtd if decision.mtd else 'none'}")
    else:
        click.echo(f"Decision: next dose {decision.next_dose}")
    click.echo(f"Reason: {decision.reason}")


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
@design_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def simulate(
    name,
    truth,
    cohort_size,
    max_n,
    trials,
    seed,
    plot_path,
    target,
    skeleton,
    model,
    a0,
    allow_skip,
    no_deescalation,
    max_cohorts_per_dose,
    stop_too_toxic,
    as_json,
) -> None:
    """Operating characteristics by simulation (all trials advance together, vectorized)."""
    from trialdesk.dosefinding import DoseFindingError
    from trialdesk.dosefinding import simulate as sim

    p = _floats("truth", truth)
    if target is None and name == "3+3":
        target = 0.3
    d = _build(
        name,
        len(p),
        target,
        skeleton,
        model,
        a0,
        allow_skip,
        no_deescalation,
        max_cohorts_per_dose,
        stop_too_toxic,
    )
    try:
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
        _echo_json({**res.to_dict(), "seed": seed})
        return
    click.echo(format_oc(res))
    if plot_path:
        click.echo(f"Plot written to {plot_path}")


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


COMMANDS = [design]
