"""The cell product of the demo (``trialdesk demo``, after conduct's synthetic history):
every demo dose traces back to a donor.

For each seed study, the doses already recorded are taken in order, two per lot and two lots
per donor (one donor -> two lots -> four doses, as issue 13 describes). For each donor:
screening, consent, four negative infectious-disease tests, the cord collected ten days
before the lot's first dose, received two hours later, processed from five hours after the
delivery, one culture passage, the final product, release results that meet the protocol's
specification, a signed release entered after the fact (the day before the first dose),
a dose unit prepared an hour before each infusion and linked to the dosing record after the
same bedside check. Every record is written through the services, as the demo users.

Synthetic: the DINs use the ISBT 128 example facility ``G1234`` of the UK Red Book (Annex 2)
with sequence numbers from 900001, never a real facility's. Running it again adds nothing
for a dose already linked to a unit.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from trialdesk.cellproduct.models import Collection
from trialdesk.cellproduct.services import bedside, doses, records, release
from trialdesk.conduct.models import DosingRecord, Study

FACILITY = "G1234"
#: Results that meet both seed protocols' release specifications.
RESULTS = {
    "viability": "93 %",
    "sterility": "no growth",
    "mycoplasma": "not detected",
    "endotoxin": "0.1 EU/mL",
    "CD73": "99 %",
    "CD90": "98.6 %",
    "CD105": "97.9 %",
    "CD34": "0.3 %",
    "CD45": "0.4 %",
    "CD14": "0.6 %",
    "CD19": "0.2 %",
    "HLA-DR": "0.5 %",
}
CELLS_PER_ML = 20_000_000  # final product concentration of a demo lot
LOT_ML = Decimal(100)


def _din(sequence: int, year: int) -> str:
    from trialdesk.product.identifiers import DonationId

    return DonationId(FACILITY, f"{year % 100:02d}", f"{sequence:06d}").keyed


def _split(text: str) -> tuple[str, str]:
    value, _, unit = text.partition(" ")
    return value, unit


def build_cell_product(users: dict[str, Any], passwords: dict[str, str]) -> dict[str, int]:
    """Donors, lots and units behind every demo dose not yet linked; nct id -> units made."""
    lab, password = users["cell-lab staff"], passwords["cell-lab staff"]
    nurse = users["investigator"]
    made: dict[str, int] = {}
    sequence = 900_000 + Collection.objects.count()
    for study in Study.objects.order_by("nct_id"):
        pending = list(
            DosingRecord.objects.filter(participant__study=study, dose_unit__isnull=True)
            .select_related("participant__site")
            .order_by("started_at", "pk")
        )
        count = 0
        for d in range(0, len(pending), 4):
            group = pending[d : d + 4]
            first = group[0].started_at
            delivered = first - timedelta(days=10)
            sequence += 1
            site = group[0].participant.site
            donor = records.register_donor(
                study, site, lab, screened_at=delivered - timedelta(days=40),
                eligibility="eligible", consented_at=delivered - timedelta(days=40),
                eligibility_notes="healthy mother, uncomplicated pregnancy (synthetic)",
            )  # fmt: skip
            for marker in ("HIV-1/2 antibody", "HBsAg", "anti-HCV", "syphilis (TPHA)"):
                records.record_infectious_test(
                    donor, lab, marker=marker, result="negative",
                    sampled_at=delivered - timedelta(days=39), method="CLIA",
                )  # fmt: skip
            collection = records.record_collection(
                donor, lab, din=_din(sequence, delivered.year), delivered_at=delivered,
                delivery_mode="vaginal", collection_site=f"{site.name}, delivery suite",
            )  # fmt: skip
            records.record_receipt(
                collection, lab, received_at=delivered + timedelta(hours=2),
                temperature_c=Decimal("4.5"), container="sterile jar, validated 2-8 C shipper",
            )  # fmt: skip
            for k in range(0, len(group), 2):
                pair = group[k : k + 2]
                lot = _lot(
                    study, collection, lab, password, f"{collection.din.keyed}-{k // 2 + 1}", pair
                )
                for dosing in pair:
                    unit = doses.prepare_dose(
                        lot, dosing.participant, lab,
                        prepared_at=dosing.started_at - timedelta(hours=1),
                        body_weight_kg=dosing.body_weight_kg,
                    )  # fmt: skip
                    bedside.link_infusion(unit, dosing, nurse)
                    count += 1
        if count:
            made[study.nct_id] = count
    return made


def _lot(study: Study, collection: Any, lab: Any, password: str, number: str, pair: list) -> Any:
    start = collection.delivered_at + timedelta(hours=5)
    lot = records.start_lot(collection, lab, lot_number=number)
    records.record_step(
        lot, lab, step="wash (PBS), mince, enzymatic digestion", started_at=start,
        ended_at=start + timedelta(hours=3), reagent_lots="collagenase lot C-2291; PBS lot P-118",
        medium_lot="serum-free xeno-free MSC medium lot M-7734",
        equipment="biosafety cabinet BSC-2; incubator INC-4 (37 C, 5% CO2)",
    )  # fmt: skip
    lot.refresh_from_db()
    records.record_passage(
        lot, lab, number=0, seeded_at=start + timedelta(hours=4), seeded_cells=5_000_000,
        seeding_density=Decimal(4000), harvested_at=start + timedelta(days=7),
        harvested_cells=2_000_000_000, viability_pct=Decimal("94.5"),
    )  # fmt: skip
    records.record_final_product(lot, lab, viable_cells_per_ml=CELLS_PER_ML, volume_ml=LOT_ML)
    tested = start + timedelta(days=8)
    results = {**RESULTS, "viable_cell_concentration": f"{CELLS_PER_ML // 10**6} 10*6/mL"}
    for name, text in results.items():
        value, unit = _split(text) if name != "sterility" and name != "mycoplasma" else (text, "")
        release.record_release_test(lot, lab, name=name, value=value, unit=unit, tested_at=tested)
    release.release_lot(
        lot, lab, password=password, meaning=release.RELEASE_MEANING,
        released_at=pair[0].started_at - timedelta(days=1),
    )  # fmt: skip
    lot.refresh_from_db()
    return lot
