"""Command-line text to dose-finding designs, for ``trialdesk design ...`` (cli/design.py).

The options the design subcommands share (``design_options``), the parsing of
comma-separated numbers and dose labels, and ``build_design``, which turns those options
into a design through :func:`trialdesk.dosefinding.make_design`. Errors come back as
``click.ClickException`` naming the option. No ``COMMANDS`` here (and the leading
underscore keeps the loader in ``cli/__init__.py`` away): the one ``design`` group and its
subcommands live in ``cli/design.py``.
"""

from __future__ import annotations

import click

DESIGNS = click.Choice(["3+3", "boin", "crm"], case_sensitive=False)


def parse_floats(name: str, text: str | None) -> tuple[float, ...] | None:
    """``"0.05, 0.12,0.30"`` -> ``(0.05, 0.12, 0.3)``; ``name`` is the option, for the error."""
    if text is None:
        return None
    try:
        return tuple(float(v) for v in text.replace(" ", "").split(",") if v != "")
    except ValueError:
        raise click.ClickException(
            f"--{name}: expected comma-separated numbers like 0.05,0.12,0.30, got {text!r}"
        ) from None


def design_options(f):
    """Add the options that choose and tune a design (the keywords of ``build_design``)."""
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
            "--n-earlystop",
            type=int,
            default=None,
            help="BOIN: stop when the current dose has this many patients.",
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


def build_design(
    name,
    doses,
    max_n=None,
    *,
    target=None,
    skeleton=None,
    model="empiric",
    a0=3.0,
    allow_skip=False,
    no_deescalation=False,
    max_cohorts_per_dose=None,
    stop_too_toxic=None,
    n_earlystop=None,
):
    """The design the CLI options describe (defaults of :func:`make_design`)."""
    from trialdesk.dosefinding import DoseFindingError, StopWhenTooToxic, make_design

    opts = {}
    if name.lower() == "3+3" and no_deescalation:
        opts["allow_deescalation"] = False
    if n_earlystop is not None:
        if name.lower() != "boin":
            raise click.ClickException("--n-earlystop applies to BOIN only")
        opts["n_earlystop"] = n_earlystop
    try:
        design = make_design(
            name,
            doses,
            target=target,
            skeleton=parse_floats("skeleton", skeleton),
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


def parse_labels(text: str | None, doses: int) -> list[str]:
    """``"5,10,15 x10^7 cells"`` -> one printable label per dose (the unit after the space)."""
    if not text:
        return [""] * doses
    head, _, unit = text.partition(" ")
    parts = [p.strip() for p in head.split(",")]
    if len(parts) != doses:
        raise click.ClickException(
            f"--dose-labels: expected {doses} labels (one per dose), got {len(parts)}"
        )
    return [f"{p} {unit}".strip() for p in parts]
