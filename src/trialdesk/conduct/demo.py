"""A realistic synthetic history for the demo (``trialdesk demo``), written through the same
services the pages use, as the demo users, so every record has its history and signatures.

- NCT05227846 (3+3): cohort 1 at DL1 complete (1NNN), escalated to DL2 by a signed safety
  review committee decision; cohort 2 at DL2 complete with one DLT (2NNT); the committee
  follows the engine and expands DL2; cohort 3 under way (one dosed, one eligible waiting
  to enrol, one in screening), plus one screen failure (sodium 120 mmol/L).
- NCT05331872 (single arm): 20 participants screened, consented, enrolled and dosed over
  a year, each with every visit whose window has come (labs slowly improving, one visit late:
  a deviation), an unrelated variceal bleed (SAE, resolved) and an SAE (ascites) known
  for 3 hours, whose 24-hour clock is running.
- Adverse events: a grade 1 fever after each NCT05227846 infusion; the DLT of cohort 2 is a
  grade 3 infusion-related reaction whose DLT verdict comes from the protocol's definition.

Everything synthetic: initials and birth dates are generated from a fixed seed. Running it
again adds nothing to a study that already has participants.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from trialdesk.conduct import services
from trialdesk.conduct.models import Participant, Study
from trialdesk.conduct.services.enrolment import conduct_plan

_LETTERS = "ABCDEGHKLMNPQRSTUVX"


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


def synthetic_patient(nct_id: str, rng: random.Random, born: date, on: date, *, sodium=None):
    """Plain-format screening data (docs/protocol-format.md) of a decompensated cirrhosis
    patient who meets the computable criteria of the seed trials."""
    lab_day = (on - timedelta(days=3)).isoformat()
    labs = {
        "bilirubin": {"value": rng.randint(30, 60), "unit": "umol/L", "date": lab_day},
        "albumin": {"value": round(rng.uniform(2.8, 3.3), 1), "unit": "g/dL", "date": lab_day},
        "creatinine": {
            "value": round(rng.uniform(0.7, 1.1), 2),
            "unit": "mg/dL",
            "date": lab_day,
            "uln": "1.2 mg/dL",
        },
        "inr": {"value": round(rng.uniform(1.3, 1.8), 1), "date": lab_day},
        "sodium": {"value": sodium or rng.randint(131, 139), "unit": "mmol/L", "date": lab_day},
        "wbc": {"value": round(rng.uniform(3.2, 5.5), 1), "unit": "10*9/L", "date": lab_day},
    }
    conditions = [
        {"concept": "cirrhosis", "onset": (on - timedelta(days=rng.randint(900, 3000))).isoformat()},
        {"concept": "ascites", "onset": (on - timedelta(days=rng.randint(60, 300))).isoformat(),
         "severity": "mild"},
    ]  # fmt: skip
    data: dict[str, Any] = {
        "birth_date": born.isoformat(),
        "history_complete": True,
        "labs": labs,
        "conditions": conditions,
        "medications": [],
    }
    if nct_id == "NCT05227846":  # an HBV cirrhosis on antivirals, DNA below detection
        labs["hbv_dna"] = {"value": "< 20", "unit": "[IU]/mL", "date": lab_day}
        conditions.append({"concept": "hepatitis_b", "onset": "2010-01-01"})
        data["medications"] = [{"concept": "hbv_antiviral", "start": "2018-01-01"}]
    return data


def _attestations(study: Study) -> dict[str, bool]:
    """The answers of an eligible participant: every inclusion met, no exclusion applies."""
    return {c.id: c.kind == "inclusion" for c in study.protocol().criteria if c.rule is None}


class _Builder:
    def __init__(self, study: Study, site: Any, users: dict[str, Any], passwords, seed: int):  # noqa: ANN001
        self.study, self.site, self.users, self.passwords = study, site, users, passwords
        self.rng = random.Random(seed)
        self.used: set[str] = set()

    def _initials(self) -> str:
        while True:
            v = "".join(self.rng.choice(_LETTERS) for _ in range(3))
            if v not in self.used:
                self.used.add(v)
                return v

    def screen(self, on: date, *, eligible: bool = True, sodium=None) -> Participant:
        born = date(self.rng.randint(1955, 1990), self.rng.randint(1, 12), self.rng.randint(1, 28))
        import yaml

        data = synthetic_patient(self.study.nct_id, self.rng, born, on, sodium=sodium)
        p = services.screen_participant(
            self.study,
            self.site,
            self.users["coordinator"],
            initials=self._initials(),
            sex=self.rng.choice(["female", "male"]),
            birth_date=born,
            screened_on=on,
            source="plain",
            data=yaml.safe_dump(data, sort_keys=False),
            source_name="demo screening form",
        )
        if eligible and p.status != Participant.SCREEN_FAILED:
            inv = self.users["investigator"]
            a = services.reassess(
                p.latest_assessment(), inv, attestations=_attestations(self.study)
            )
            services.sign_eligibility(
                a,
                inv,
                password=self.passwords["investigator"],
                meaning=services.screening.ELIGIBILITY_MEANING,
            )
        p.refresh_from_db()
        return p

    def consent(self, p: Participant, on: date) -> None:
        services.record_consent(
            p,
            self.users["coordinator"],
            form_version=self.study.consent_versions.order_by("-approved_on").first(),
            consented_at=_at(on, 8),
        )

    def enrol_and_dose(self, p: Participant, on: date, lot: str) -> Participant:
        p = services.enrol(p, self.users["coordinator"], at=_at(on, 8))
        plan = conduct_plan(self.study)
        level = plan.dose_level(p.slot.cohort.dose_level)
        weight = Decimal(self.rng.randint(48, 82))
        cells = level.cells if level.cells is not None else int(level.cells_per_kg * weight)
        start = _at(on, 9)
        services.record_dose(
            p,
            self.users["cell-lab staff"],
            product_lot=lot,
            cells=cells,
            body_weight_kg=weight,
            started_at=start,
            ended_at=start + timedelta(minutes=self.rng.randint(30, 60)),
            route=plan.route,
            volume_ml=plan.volume_ml,
            premedication="none",
            infusion_reactions="",
        )
        return p

    def follow_up(self, p: Participant, *, late: str | None = None) -> None:
        """Record every visit whose window has closed (or is open today) with labs that
        improve slowly after the infusion; ``late``: one visit code done after its window."""
        from trialdesk.conduct.services.visits import calendar, record_visit

        today = timezone.localdate()
        bili = self.rng.uniform(2.0, 3.5)
        alb = self.rng.uniform(2.7, 3.1)
        for row in calendar(p):
            sched = row.scheduled
            if sched.target_date > today:
                break
            day = sched.target_date
            if sched.code == "SCR":
                day = max(day - timedelta(days=1), p.latest_consent().consented_at.date())
            elif sched.code == late:
                day = sched.latest + timedelta(days=3)
            if day > today:
                continue
            step = 0.97 if sched.day > 1 else 1.0
            bili, alb = bili * step, min(alb * (2 - step), 4.2)
            labs = {
                "bilirubin": f"{bili:.1f} mg/dL",
                "albumin": f"{alb * 10:.0f} g/L",
                "inr": f"{self.rng.uniform(1.2, 1.6):.1f}",
                "creatinine": f"{self.rng.uniform(70, 100):.0f} umol/L",
                "sodium": f"{self.rng.randint(132, 140)} mmol/L",
                "alt": f"{self.rng.randint(25, 60)} U/L",
                "platelets": f"{self.rng.randint(60, 140)} 10*9/L",
            }
            record_visit(
                p,
                self.users["coordinator"],
                code=sched.code,
                visit_date=day,
                labs=labs if "labs" in sched.assessments else {},
                ascites=self.rng.choice(["none", "mild"]) if "ascites" in sched.assessments else "",
                encephalopathy=0 if "encephalopathy" in sched.assessments else None,
                heart_rate=self.rng.randint(62, 96) if "vitals" in sched.assessments else None,
            )

    def adverse_event(self, p: Participant, onset: date, **values: Any) -> None:
        from trialdesk.conduct.services.safety import record_adverse_event, report_initial

        ae = record_adverse_event(
            p,
            self.users["investigator"],
            onset_date=onset,
            **{"awareness_at": _at(onset, 14), **values},
        )
        if ae.serious and onset < timezone.localdate() - timedelta(days=1):
            # past SAEs were reported in time (the initial report 6 hours after awareness)
            report_initial(ae, self.users["investigator"], at=_at(onset, 20))


def build_escalation_history(study: Study, site: Any, users: dict[str, Any], passwords):  # noqa: ANN001
    b = _Builder(study, site, users, passwords, seed=5227846)
    today = timezone.localdate()
    start = today - timedelta(days=320)
    outcomes = [["no_dlt"] * 3, ["no_dlt", "no_dlt", "dlt"]]
    for k, cohort_outcomes in enumerate(outcomes):
        day0 = start + timedelta(days=120 * k)
        people = [b.screen(day0 + timedelta(days=2 * i)) for i in range(3)]
        for i, p in enumerate(people):
            b.consent(p, day0 + timedelta(days=2 * i + 1))
            b.enrol_and_dose(p, day0 + timedelta(days=2 * i + 5), f"UCMSC-{k + 1:02d}{i + 1:02d}")
        for i, (p, outcome) in enumerate(zip(people, cohort_outcomes, strict=True)):
            dosed_on = day0 + timedelta(days=2 * i + 5)
            b.adverse_event(p, dosed_on + timedelta(days=1), term="Fever", grade=1,
                            related="possibly", resolution_date=dosed_on + timedelta(days=2),
                            outcome="recovered")  # fmt: skip
            if outcome == "dlt":  # the AE's DLT verdict sets the participant's outcome
                b.adverse_event(
                    p, dosed_on, term="Infusion related reaction", grade=3, related="related",
                    seriousness=["hospitalisation"], action_taken="infusion_stopped",
                    resolution_date=dosed_on + timedelta(days=3), outcome="recovered",
                )  # fmt: skip
            else:
                services.record_dlt_outcome(
                    p, users["investigator"], outcome, "28-day DLT window complete, no DLT"
                )
            b.follow_up(p)
        engine = services.recommendation(study)[1]
        chosen = conduct_plan(study).dose_levels[engine.next_dose - 1].id
        current = study.cohorts.order_by("-number").first().dose_level
        kind = "escalate" if chosen != current else "stay"
        # The committee met when the cohort's DLT windows had closed (entry after the fact).
        met = day0 + timedelta(days=2 * 2 + 5 + 35)
        decision = services.propose_decision(
            study, users["safety review committee member"], decision=kind, dose_level=chosen,
            rationale="", at=_at(met, 15),
        )  # fmt: skip
        for member in ("safety review committee member", "second safety review committee member"):
            services.sign_decision(
                decision, users[member], password=passwords[member],
                meaning=services.signing.DECISION_MEANING,
            )  # fmt: skip
    day0 = start + timedelta(days=250)
    first = b.screen(day0)
    b.consent(first, day0 + timedelta(days=1))
    b.enrol_and_dose(first, day0 + timedelta(days=5), "UCMSC-0301")
    b.follow_up(first, late="D14")
    waiting = b.screen(today - timedelta(days=6))
    b.consent(waiting, today - timedelta(days=5))
    b.screen(today - timedelta(days=2), eligible=False)
    b.screen(today - timedelta(days=20), sodium=120)  # exclusion 9: a screen failure


def build_single_arm_history(study: Study, site: Any, users: dict[str, Any], passwords):  # noqa: ANN001
    b = _Builder(study, site, users, passwords, seed=5331872)
    start = timezone.localdate() - timedelta(days=400)
    for i in range(20):
        day0 = start + timedelta(days=9 * i)
        p = b.screen(day0)
        b.consent(p, day0 + timedelta(days=1))
        b.enrol_and_dose(p, day0 + timedelta(days=4), f"VM-UCMSC-{i + 1:03d}")
        b.follow_up(p, late="M3" if i == 4 else None)
        if i == 7:
            b.adverse_event(
                p, day0 + timedelta(days=60), term="Esophageal varices hemorrhage", grade=3,
                related="unrelated", seriousness=["hospitalisation"],
                action_taken="treatment_given", resolution_date=day0 + timedelta(days=70),
                outcome="recovered",
            )  # fmt: skip
    last = study.participants.order_by("-screened_on").first()
    aware = timezone.now() - timedelta(hours=3)  # an SAE whose 24-hour clock is running
    b.adverse_event(
        last, aware.date(), awareness_at=aware, term="Ascites", grade=2,
        related="unlikely", seriousness=["hospitalisation"], outcome="recovering",
    )  # fmt: skip


def settle_proposals(study: Study, users: dict[str, Any]) -> None:
    """The coordinator's decisions on the labs' proposals: all but those of the last visit
    are dismissed as the chronic abnormalities of cirrhosis they are in this synthetic
    history (so the dashboard shows a few awaiting the site)."""
    from trialdesk.conduct.models import LabEventProposal, Visit
    from trialdesk.conduct.services.lab_events import dismiss

    last = Visit.objects.filter(participant__study=study).order_by("-visit_date", "-id").first()
    for proposal in LabEventProposal.objects.filter(
        visit__participant__study=study, status=LabEventProposal.PROPOSED
    ).exclude(visit=last):
        dismiss(
            proposal,
            users["coordinator"],
            reason="chronic abnormality of the underlying cirrhosis, unchanged since screening",
        )


#: Prescreener answers of the demo's referrals (the public check's question keys,
#: trialdesk.eligibility.questions): a man with HBV cirrhosis on antivirals and ascites.
_REFERRAL_ANSWERS = {
    "age": "57", "sex": "male", "detected_hbv_dna": "no", "history_cirrhosis": "now",
    "history_hepatitis_b": "now", "history_ascites": "now", "med_hbv_antiviral": "longer",
}  # fmt: skip
_REFERRERS = [("Tran Van Binh", "+84 912 000 101", 40), ("Le Thi Hoa", "", 11),
              ("Wang Jun", "+86 10 6693 0000", 3)]  # fmt: skip


def build_referrals(study: Study, users: dict[str, Any]) -> int:
    """A few referrals from the public eligibility check, received along the history (40,
    11 and 3 days ago); the oldest declined by the coordinator. None when the registry has
    no record of the trial (``trialdesk registry import protocols`` first, as ``make run``
    does) or the site already has referrals."""
    from trialdesk.conduct.models import Referral
    from trialdesk.conduct.services.referrals import decline_referral, receive_referral
    from trialdesk.eligibility.summary import answer_lines
    from trialdesk.registry.models import Trial
    from trialdesk.registry.prescreen import run_check

    trial = Trial.objects.filter(nct_id=study.nct_id).first()
    site = study.sites.get()
    if trial is None or Referral.objects.filter(study=study).exists():
        return 0
    made = []
    for name, phone, days_ago in _REFERRERS:
        received = timezone.now() - timedelta(days=days_ago, hours=5)
        answers = {**_REFERRAL_ANSWERS}
        run = run_check(trial, {k: v for k, v in answers.items() if k in _keys(trial)},
                        today=received.date())  # fmt: skip
        if run is None or run.summary is None:
            return 0
        made.append(
            receive_referral(
                study,
                site,
                name=name,
                phone=phone,
                email="" if phone else f"{name.split()[-1].lower()}@example.org",
                consent=True,
                answers=run.answers,
                answer_lines=answer_lines(run.questions, run.answers),
                summary=run.summary,
                received_at=received,
            )  # fmt: skip
        )
    decline_referral(
        made[0], users["coordinator"], reason="not reachable by telephone after three attempts"
    )
    return len(made)


def _keys(trial: Any) -> set[str]:
    from trialdesk.registry.prescreen import run_check

    run = run_check(trial)
    return {q.key for q in run.questions} if run is not None else set()


def build_history(users: dict[str, Any], passwords: dict[str, str]) -> dict[str, int]:
    """The synthetic history of both seed studies (those without participants yet).

    ``users`` and ``passwords`` are keyed by role (the signers re-enter their password)."""
    built = {}
    for nct_id, builder in (
        ("NCT05227846", build_escalation_history),
        ("NCT05331872", build_single_arm_history),
    ):
        study = Study.objects.get(nct_id=nct_id)
        if study.participants.exists():
            continue
        builder(study, study.sites.get(), users, passwords)
        settle_proposals(study, users)
        build_referrals(study, users)
        built[nct_id] = study.participants.count()
    return built
