"""What every SDTM domain derives from the same way: USUBJID, the reference start date
(first infusion) and study days, the visit numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from trialdesk.analysis.dataset import Dose, TrialDataset
from trialdesk.interop.sdtm.model import utc_date
from trialdesk.protocol.schedule import study_day


@dataclass(frozen=True)
class Context:
    """Per-dataset lookups shared by the domain builders."""

    dataset: TrialDataset
    first_dose: dict[str, Dose]
    last_dose: dict[str, Dose]
    visitnum: dict[str, int]

    @classmethod
    def of(cls, dataset: TrialDataset) -> Context:
        first: dict[str, Dose] = {}
        last: dict[str, Dose] = {}
        for dose in sorted(dataset.doses, key=lambda d: (d.subject_id, d.started_at)):
            first.setdefault(dose.subject_id, dose)
            last[dose.subject_id] = dose
        visitnum = {plan.code: i for i, plan in enumerate(dataset.schedule, start=1)}
        return cls(dataset, first, last, visitnum)

    @property
    def studyid(self) -> str:
        return self.dataset.nct_id

    def usubjid(self, subject_id: str) -> str:
        """STUDYID-SUBJID: unique across studies (SDTMIG 3.3 section 4.1.2.3)."""
        return f"{self.dataset.nct_id}-{subject_id}"

    def reference_start(self, subject_id: str) -> date | None:
        """RFSTDTC: the date of the first infusion of the cell product (day 1)."""
        dose = self.first_dose.get(subject_id)
        return None if dose is None else utc_date(dose.started_at)

    def day(self, subject_id: str, on: date | None) -> int | None:
        """--DY: day 1 is the reference start date, the day before is -1, there is no day 0
        (SDTMIG 3.3 section 4.4.4); None without a reference start date or a date."""
        start = self.reference_start(subject_id)
        if start is None or on is None:
            return None
        return study_day(on, start)

    def common(self, domain: str, subject_id: str) -> dict[str, object]:
        return {"STUDYID": self.studyid, "DOMAIN": domain, "USUBJID": self.usubjid(subject_id)}
