"""The 3+3 design and its A+B variants.

Classic 3+3 (Storer 1989, Biometrics 45:925-937; Lin & Shih 2001, Biostatistics 2:203-215,
"A+B designs with dose de-escalation"): treat 3 patients at a dose;
0/3 DLT -> escalate; 1/3 -> treat 3 more at the same dose; 1/6 -> escalate;
>= 2 DLTs -> the dose is too toxic: de-escalate, and the next lower dose is the MTD once
it has 6 patients with at most 1 DLT. Too toxic at dose 1 -> stop, no MTD.

In A+B notation (Lin & Shih 2001) the classic design is A = B = 3 and
``escalate_max`` = 0 (escalate if DLTs <= 0 of A), ``expand_max`` = 1 (expand if DLTs <= 1
of A, otherwise too toxic) and ``confirm_max`` = 1 (escalate after A + B if DLTs <= 1).
"""

from __future__ import annotations

from dataclasses import dataclass

from trialdesk.dosefinding.design import Design, check_int
from trialdesk.dosefinding.errors import DoseFindingError
from trialdesk.dosefinding.state import Decision, TrialState, count_summary


@dataclass(frozen=True)
class ThreePlusThree(Design):
    """A+B dose escalation (classic 3+3 by default).

    ``allow_deescalation``: after a too-toxic dose, go down and expand the lower dose to
    A + B patients (the classic rule); if False, stop at once and name the lower dose MTD.
    ``confirm_top_dose``: at the highest dose, 0/A DLTs expands to A + B before that dose
    is declared MTD (the escalation can go no higher).
    """

    doses: int
    a: int = 3
    b: int = 3
    escalate_max: int = 0
    expand_max: int = 1
    confirm_max: int = 1
    allow_deescalation: bool = True
    confirm_top_dose: bool = True
    name = "3+3"
    reference = "Storer (1989) Biometrics 45:925; Lin & Shih (2001) Biostatistics 2:203"

    def __post_init__(self) -> None:
        check_int("doses", self.doses, 1)
        check_int("a", self.a, 1)
        check_int("b", self.b, 0)
        check_int("escalate_max", self.escalate_max, 0, self.a)
        check_int("expand_max", self.expand_max, self.escalate_max, self.a)
        check_int("confirm_max", self.confirm_max, 0, self.a + self.b)

    @property
    def n_doses(self) -> int:
        return self.doses

    def describe(self) -> str:
        if (self.a, self.b, self.escalate_max, self.expand_max, self.confirm_max) == (
            3,
            3,
            0,
            1,
            1,
        ):
            return "3+3"
        return (
            f"{self.a}+{self.b} (escalate if <= {self.escalate_max}/{self.a}, expand if <= "
            f"{self.expand_max}/{self.a}, escalate if <= {self.confirm_max}/{self.a + self.b})"
        )

    # -- the rule ------------------------------------------------------------------------

    def _verdict(self, n: int, y: int) -> str:
        """'escalate', 'expand' or 'toxic' for a dose with n patients and y DLTs."""
        if n <= self.a:
            if y <= self.escalate_max and n == self.a:
                return "escalate"
            if y <= self.expand_max:
                return "expand" if n >= self.a or self.b == 0 else "incomplete"
            return "toxic"
        if y <= self.confirm_max:
            return "escalate" if n >= self.a + self.b else "incomplete"
        return "toxic"

    def _mtd_below(self, state: TrialState, d: int) -> int | None:
        """Highest dose below d (1-based) cleared with A + B patients; None if none."""
        for j in range(d - 1, 0, -1):
            n, y = state.n[j - 1], state.y[j - 1]
            if n >= self.a + self.b and y <= self.confirm_max:
                return j
            if n == self.a and y <= self.escalate_max and self.b == 0:
                return j
        return None

    def decide(self, state: TrialState) -> Decision:
        if state.n_doses != self.doses:
            raise DoseFindingError(f"state has {state.n_doses} doses, design {self.doses}")
        summary = count_summary(state)
        if state.current is None:
            return Decision(1, "No patients yet: start at the lowest dose, 1.", self.name, summary)
        d = state.current
        n, y = state.n[d - 1], state.y[d - 1]
        verdict = self._verdict(n, y)
        seen = f"{y}/{n} DLTs at dose {d}"
        A, AB = self.a, self.a + self.b
        if verdict == "incomplete":
            return Decision(
                d,
                f"{seen}: the cohort at dose {d} is not complete; treat more patients there.",
                self.name,
                summary,
            )
        if verdict == "expand":
            if self.b == 0:
                return Decision(d, f"{seen}: treat more at dose {d}.", self.name, summary)
            band = (
                f"exactly {self.expand_max}"
                if self.escalate_max + 1 == self.expand_max
                else f"{self.escalate_max + 1} to {self.expand_max}"
            )
            return Decision(
                d,
                f"{seen} ({band} of {A}): expand dose {d} to {AB} patients.",
                self.name,
                summary,
            )
        if verdict == "escalate":
            rule = (
                f"at most {self.escalate_max} of {A}"
                if n <= A
                else f"at most {self.confirm_max} of {AB}"
            )
            if d == self.doses:
                if n <= A and self.confirm_top_dose and self.b > 0:
                    return Decision(
                        d,
                        f"{seen} ({rule}) but dose {d} is the highest: expand it to {AB} "
                        "patients to confirm it.",
                        self.name,
                        summary,
                    )
                return Decision(
                    None,
                    f"Stop: {seen} ({rule}) at the highest dose; dose {d} is the MTD "
                    "(the highest dose tested).",
                    self.name,
                    summary,
                    mtd=d,
                )
            if state.n[d] > 0:
                return Decision(
                    None,
                    f"Stop: {seen} ({rule}) and dose {d + 1} above was too toxic "
                    f"({state.y[d]}/{state.n[d]}); dose {d} is the MTD.",
                    self.name,
                    summary,
                    mtd=d,
                )
            return Decision(
                d + 1, f"{seen} ({rule}): escalate to dose {d + 1}.", self.name, summary
            )
        # too toxic
        lim = self.expand_max if n <= A else self.confirm_max
        toxic = f"{seen} (more than {lim} of {A if n <= A else AB}): dose {d} is too toxic"
        if d == 1:
            return Decision(
                None, f"Stop, no MTD: {toxic} and it is the lowest dose.", self.name, summary
            )
        below_n, _below_y = state.n[d - 2], state.y[d - 2]
        if not self.allow_deescalation:
            # Lin & Shih (2001), A+B without de-escalation: the next lower dose is the MTD
            return Decision(
                None,
                f"Stop: {toxic}; without de-escalation the next lower dose {d - 1} "
                f"({state.y[d - 2]}/{state.n[d - 2]}) is the MTD.",
                self.name,
                summary,
                mtd=d - 1,
            )
        if below_n >= AB:
            mtd = self._mtd_below(state, d)
            if mtd is None:
                return Decision(
                    None,
                    f"Stop, no MTD: {toxic} and no lower dose has been cleared with {AB} patients.",
                    self.name,
                    summary,
                )
            return Decision(
                None,
                f"Stop: {toxic}; dose {mtd} below ({state.y[mtd - 1]}/{state.n[mtd - 1]}) is "
                "the MTD.",
                self.name,
                summary,
                mtd=mtd,
            )
        return Decision(
            d - 1,
            f"{toxic}: de-escalate to dose {d - 1}, which has only {below_n} patients, and "
            f"expand it to {AB}.",
            self.name,
            summary,
        )

    def select_mtd(self, state: TrialState) -> tuple[int | None, str]:
        """Highest dose cleared with A + B patients below every too-toxic dose."""
        top = self.doses + 1
        for j in range(1, self.doses + 1):
            if self._verdict(state.n[j - 1], state.y[j - 1]) == "toxic":
                top = j
                break
        mtd = self._mtd_below(state, top)
        if mtd is None:
            return None, f"No dose was cleared with {self.a + self.b} patients: no MTD."
        return mtd, (
            f"Dose {mtd} is the highest dose cleared with {self.a + self.b} patients and at "
            f"most {self.confirm_max} DLTs."
        )
