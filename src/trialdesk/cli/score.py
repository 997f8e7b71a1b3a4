"""Clinical scores and CTCAE grading on the command line.

    trialdesk score meld --bilirubin "2.0 mg/dL" --inr 1.5 --creatinine "1.2 mg/dL" [--dialysis]
    trialdesk score meld-na ... --sodium "131 mmol/L"
    trialdesk score meld3 ... --sodium ... --albumin "3.1 g/dL" --sex female|male
    trialdesk score child-pugh --bilirubin ... --albumin ... --inr ... \
        --ascites none|mild|moderate-severe --encephalopathy none|grade-1-2|grade-3-4 [--cholestatic]
    trialdesk score albi --bilirubin ... --albumin ...
    trialdesk grade "ALT increased" --value "100 U/L" --uln "40 U/L" [--baseline ...] [--lln ...]

Any unit trialdesk.clinical.units knows is accepted. ``--json`` prints one JSON object
(``score`` plus ``class`` or ``grade`` where defined; ``grade`` for ``trialdesk grade``).
The computations live in trialdesk.clinical; this module only parses and prints.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

_json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
_bilirubin = click.option("--bilirubin", required=True, help='Total bilirubin, e.g. "2.0 mg/dL".')
_inr = click.option("--inr", required=True, help="INR, e.g. 1.5.")
_creatinine = click.option("--creatinine", required=True, help='Creatinine, e.g. "1.2 mg/dL".')
_sodium = click.option("--sodium", required=True, help='Sodium, e.g. "131 mmol/L".')
_albumin = click.option("--albumin", required=True, help='Albumin, e.g. "3.1 g/dL".')
_dialysis = click.option(
    "--dialysis",
    is_flag=True,
    help="Dialysis at least twice (or 24 h CVVHD) in the week before the creatinine test.",
)


def _emit(compute: Callable[[], Any], as_json: bool) -> None:
    """Run a computation, print it, and turn bad input into a clear ClickException."""
    try:
        result = compute()
    except ValueError as exc:  # UnitError, ImplausibleValueError, ScoreInputError, ...
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        click.echo(result.summary())


@click.group()
def score() -> None:
    """Liver scores: MELD, MELD-Na, MELD 3.0, Child-Pugh, ALBI."""


@score.command("meld")
@_bilirubin
@_inr
@_creatinine
@_dialysis
@_json_option
def meld_cmd(bilirubin: str, inr: str, creatinine: str, dialysis: bool, as_json: bool) -> None:
    """MELD, OPTN rules of 2002 to January 2016."""
    from trialdesk.clinical.scores import meld

    _emit(lambda: meld(bilirubin, inr, creatinine, dialysis=dialysis), as_json)


@score.command("meld-na")
@_bilirubin
@_inr
@_creatinine
@_sodium
@_dialysis
@_json_option
def meld_na_cmd(
    bilirubin: str, inr: str, creatinine: str, sodium: str, dialysis: bool, as_json: bool
) -> None:
    """MELD-Na, OPTN policy of January 2016."""
    from trialdesk.clinical.scores import meld_na

    _emit(lambda: meld_na(bilirubin, inr, creatinine, sodium, dialysis=dialysis), as_json)


@score.command("meld3")
@_bilirubin
@_inr
@_creatinine
@_sodium
@_albumin
@click.option("--sex", required=True, type=click.Choice(["female", "male"]))
@click.option("--age", type=click.IntRange(0, 130), help="Age in years (12-17: sex term applies).")
@_dialysis
@_json_option
def meld3_cmd(
    bilirubin: str,
    inr: str,
    creatinine: str,
    sodium: str,
    albumin: str,
    sex: str,
    age: int | None,
    dialysis: bool,
    as_json: bool,
) -> None:
    """MELD 3.0 (Kim 2021; OPTN since July 2023)."""
    from trialdesk.clinical.scores import meld3

    _emit(
        lambda: meld3(bilirubin, inr, creatinine, sodium, albumin, sex, dialysis=dialysis, age=age),
        as_json,
    )


@score.command("child-pugh")
@_bilirubin
@_albumin
@click.option("--inr", help="INR, e.g. 1.5 (or give --pt-prolongation).")
@click.option("--pt-prolongation", help='Prothrombin time over control, e.g. "5 s".')
@click.option("--ascites", required=True, type=click.Choice(["none", "mild", "moderate-severe"]))
@click.option(
    "--encephalopathy", required=True, type=click.Choice(["none", "grade-1-2", "grade-3-4"])
)
@click.option("--cholestatic", is_flag=True, help="PBC/PSC bilirubin cut-offs (<4 / 4-10 / >10).")
@click.option("--table", default="default", show_default=True, help="Cut-off variant.")
@_json_option
def child_pugh_cmd(
    bilirubin: str,
    albumin: str,
    inr: str | None,
    pt_prolongation: str | None,
    ascites: str,
    encephalopathy: str,
    cholestatic: bool,
    table: str,
    as_json: bool,
) -> None:
    """Child-Turcotte-Pugh score and class."""
    from trialdesk.clinical.scores import child_pugh

    _emit(
        lambda: child_pugh(
            bilirubin,
            albumin,
            inr,
            ascites,
            encephalopathy,
            cholestatic=cholestatic,
            table=table,
            pt_prolongation=pt_prolongation,
        ),
        as_json,
    )


@score.command("albi")
@_bilirubin
@_albumin
@_json_option
def albi_cmd(bilirubin: str, albumin: str, as_json: bool) -> None:
    """ALBI score and grade (Johnson 2015)."""
    from trialdesk.clinical.scores import albi

    _emit(lambda: albi(bilirubin, albumin), as_json)


class _TermDefinitions:
    """Printable grade definitions of a clinical CTCAE term."""

    def __init__(self, term: Any) -> None:
        self.term = term

    def to_dict(self) -> dict[str, Any]:
        return {
            "term": self.term.term,
            "meddra_code": self.term.meddra,
            "soc": self.term.soc,
            "grades": {str(k): v for k, v in self.term.grades.items()},
            "version": "CTCAE v5.0",
        }

    def summary(self) -> str:
        lines = [f"{self.term.term} (MedDRA {self.term.meddra}; {self.term.soc})"]
        lines += [f"  grade {g}: {text or '-'}" for g, text in self.term.grades.items()]
        lines.append("graded by the investigator: CTCAE v5.0")
        return "\n".join(lines)


@click.command("grade")
@click.argument("term")
@click.option("--value", help='The lab value, e.g. "100 U/L".')
@click.option("--uln", help="Upper limit of normal.")
@click.option("--lln", help="Lower limit of normal.")
@click.option("--baseline", help="The participant's baseline value.")
@click.option(
    "--symptomatic/--asymptomatic",
    default=None,
    help="Symptoms (decides hyponatremia 125-129 mmol/L).",
)
@click.option("--on-anticoagulation", is_flag=True, help="INR graded against the baseline.")
@_json_option
def grade_cmd(
    term: str,
    value: str | None,
    uln: str | None,
    lln: str | None,
    baseline: str | None,
    symptomatic: bool | None,
    on_anticoagulation: bool,
    as_json: bool,
) -> None:
    """CTCAE v5.0 grade of a lab value (clinical terms: print their grade definitions)."""
    from trialdesk.clinical.ctcae import ClinicalTerm, get_term, grade

    def compute() -> Any:
        t = get_term(term)
        if isinstance(t, ClinicalTerm):
            if value is not None:
                raise ValueError(f"{t.term} is a clinical term: it has no lab value to grade")
            return _TermDefinitions(t)
        if value is None:
            raise ValueError(f"{t.term}: give the lab value with --value")
        return grade(
            term,
            value,
            uln=uln,
            lln=lln,
            baseline=baseline,
            symptomatic=symptomatic,
            on_anticoagulation=on_anticoagulation,
        )

    _emit(compute, as_json)


COMMANDS = [score, grade_cmd]
