"""The laboratory's records, written as each step happens (who: the user; when: the step's
own time and the time it was recorded): donor, infectious-disease tests, collection,
receipt, lot, processing steps (with the delivery -> processing time limit), culture
passages, cryopreservation and thaw."""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from trialdesk.cellproduct.errors import CellProductError
from trialdesk.cellproduct.models import (
    Collection,
    Cryopreservation,
    CulturePassage,
    Donor,
    InfectiousDiseaseTest,
    ProcessingStep,
    ProductDeviation,
    ProductLot,
    Receipt,
)
from trialdesk.cellproduct.services.common import limit_between, plan_for, require, require_site
from trialdesk.conduct.models import Site, Study, write

_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def _not_future(when: datetime, field: str) -> None:
    if when > timezone.now():
        raise CellProductError(f"{field.replace('_', ' ')} is in the future", field=field)


def _lab(user: Any, site: Any, action: str) -> None:
    require(user, "record_cell_product", action)
    require_site(user, site)


def new_donor_code() -> str:
    """A random donor code (``D-`` and 8 characters): derived from nothing about her."""
    return "D-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))


def register_donor(
    study: Study,
    site: Site,
    by: Any,
    *,
    screened_at: datetime,
    eligibility: str,
    eligibility_notes: str = "",
    consented_at: datetime | None = None,
) -> Donor:
    """A cord donor after her eligibility screening (consent when given)."""
    _lab(by, site, "register a donor")
    _not_future(screened_at, "screened_at")
    if consented_at is not None:
        _not_future(consented_at, "consented_at")
    if eligibility not in dict(Donor.ELIGIBILITY):
        raise CellProductError(
            f"eligibility {eligibility!r}: eligible or ineligible", field="eligibility"
        )
    return write(
        Donor(
            study=study,
            site=site,
            code=new_donor_code(),
            screened_at=screened_at,
            eligibility=eligibility,
            eligibility_notes=eligibility_notes.strip(),
            consented_at=consented_at,
        ),
        by,
    )


def record_donor_consent(donor: Donor, by: Any, *, consented_at: datetime) -> Donor:
    _lab(by, donor.site, "record a donor's consent")
    _not_future(consented_at, "consented_at")
    if donor.consented_at is not None:
        raise CellProductError(f"donor {donor}: consent already recorded")
    donor.consented_at = consented_at
    return write(donor, by, "consent given")


def record_infectious_test(
    donor: Donor, by: Any, *, marker: str, result: str, sampled_at: datetime, method: str = ""
) -> InfectiousDiseaseTest:
    _lab(by, donor.site, "record a donor test")
    _not_future(sampled_at, "sampled_at")
    return write(
        InfectiousDiseaseTest(
            donor=donor, marker=marker.strip(), result=result, sampled_at=sampled_at, method=method
        ),
        by,
    )


def donor_problems(donor: Donor) -> list[str]:
    """Why the donor's cord may not be collected for the product (empty: it may)."""
    problems = []
    if donor.eligibility != Donor.ELIGIBLE:
        problems.append(f"donor {donor} is not eligible")
    if donor.consented_at is None:
        problems.append(f"donor {donor} has not consented")
    tests = list(donor.tests.all())
    if not tests:
        problems.append(f"donor {donor} has no infectious-disease test")
    problems += [
        f"donor {donor}: {t.marker} is {t.get_result_display().lower()}"
        for t in tests
        if t.result != "negative"
    ]
    return problems


def record_collection(
    donor: Donor,
    by: Any,
    *,
    din: str,
    delivered_at: datetime,
    delivery_mode: str,
    collection_site: str,
) -> Collection:
    """The cord collected at delivery, with its donation identification number as keyed or
    scanned (validated with its check character by ``trialdesk.product.identifiers``)."""
    from trialdesk.product.identifiers import DonationId, IdentifierError

    _lab(by, donor.site, "record a collection")
    problems = donor_problems(donor)
    if problems:
        raise CellProductError("; ".join(problems) + ": no collection")
    try:
        parsed = DonationId.parse(din)
    except IdentifierError as exc:
        raise CellProductError(str(exc), field="din") from None
    _not_future(delivered_at, "delivered_at")
    same = Collection.objects.filter(
        din_facility=parsed.facility, din_year=parsed.year, din_sequence=parsed.sequence
    )
    if same.exists():
        raise CellProductError(f"donation id {parsed.keyed} is already recorded", field="din")
    try:
        with transaction.atomic():
            return write(
                Collection(
                    donor=donor,
                    din_facility=parsed.facility,
                    din_year=parsed.year,
                    din_sequence=parsed.sequence,
                    delivered_at=delivered_at,
                    delivery_mode=delivery_mode,
                    collection_site=collection_site.strip(),
                ),
                by,
            )
    except IntegrityError:
        raise CellProductError(
            f"donation id {parsed.keyed} is already recorded", field="din"
        ) from None


def record_receipt(
    collection: Collection,
    by: Any,
    *,
    received_at: datetime,
    temperature_c: Decimal,
    container: str,
    condition: str = "",
) -> Receipt:
    _lab(by, collection.donor.site, "record a receipt")
    _not_future(received_at, "received_at")
    if received_at < collection.delivered_at:
        raise CellProductError("received before the delivery", field="received_at")
    if hasattr(collection, "receipt"):
        raise CellProductError(f"{collection}: receipt already recorded")
    return write(
        Receipt(
            collection=collection,
            received_at=received_at,
            temperature_c=temperature_c,
            container=container.strip(),
            condition=condition.strip(),
        ),
        by,
    )


def start_lot(collection: Collection, by: Any, *, lot_number: str) -> ProductLot:
    """A new product lot from a received collection."""
    _lab(by, collection.donor.site, "start a lot")
    if not hasattr(collection, "receipt"):
        raise CellProductError(f"{collection}: not received at the laboratory yet: no lot")
    lot_number = lot_number.strip()
    if ProductLot.objects.filter(lot_number=lot_number).exists():
        raise CellProductError(f"lot {lot_number} exists already", field="lot_number")
    return write(ProductLot(collection=collection, lot_number=lot_number), by)


def record_step(
    lot: ProductLot,
    by: Any,
    *,
    step: str,
    started_at: datetime,
    ended_at: datetime | None = None,
    operator: Any = None,
    reagent_lots: str = "",
    medium_lot: str = "",
    equipment: str = "",
    notes: str = "",
) -> ProcessingStep:
    """A processing step. The lot's first step starts processing: the protocol's delivery ->
    processing limit is checked (``trialdesk.product.timelimits``); a breach is refused when
    the protocol says ``block`` and recorded as a deviation when it says ``deviation``."""
    from trialdesk.product.timelimits import check_time_limit

    collection = lot.collection
    _lab(by, collection.donor.site, "record a processing step")
    _not_future(started_at, "started_at")
    if ended_at is not None and ended_at < started_at:
        raise CellProductError("the step ends before it starts", field="ended_at")
    if started_at < collection.delivered_at:
        raise CellProductError("the step starts before the delivery", field="started_at")
    if hasattr(lot, "release"):
        raise CellProductError(f"lot {lot} is released: no further processing")
    first = lot.processing_started_at is None
    check = None
    if first:
        limit = limit_between(plan_for(collection.donor.study), "delivery", "processing_start")
        if limit is not None:
            check = check_time_limit(limit, collection.delivered_at, started_at)
            if not check.ok and check.on_breach == "block":
                raise CellProductError(check.message, field="started_at")
    with transaction.atomic():
        record = write(
            ProcessingStep(
                lot=lot,
                step=step.strip(),
                operator=operator or by,
                started_at=started_at,
                ended_at=ended_at,
                reagent_lots=reagent_lots.strip(),
                medium_lot=medium_lot.strip(),
                equipment=equipment.strip(),
                notes=notes.strip(),
            ),
            by,
        )
        if first:
            lot.processing_started_at = started_at
            write(lot, by, f"processing started ({record.step})")
            if check is not None and not check.ok:
                write(
                    ProductDeviation(
                        lot=lot,
                        collection=collection,
                        limit=limit.id,
                        description=check.message[:400],
                    ),
                    by,
                )
    return record


def record_passage(
    lot: ProductLot,
    by: Any,
    *,
    number: int,
    seeded_at: datetime,
    seeded_cells: int,
    seeding_density: Decimal,
    harvested_at: datetime,
    harvested_cells: int,
    viability_pct: Decimal,
) -> CulturePassage:
    """A culture passage; its population doublings come from ``trialdesk.product.culture``."""
    from trialdesk.product.culture import population_doublings

    _lab(by, lot.collection.donor.site, "record a culture passage")
    _not_future(harvested_at, "harvested_at")
    if harvested_at < seeded_at:
        raise CellProductError("harvested before it was seeded", field="harvested_at")
    if lot.processing_started_at is None or seeded_at < lot.processing_started_at:
        raise CellProductError("seeded before processing started", field="seeded_at")
    if not (Decimal(0) <= Decimal(viability_pct) <= Decimal(100)):
        raise CellProductError("viability must be 0-100 %", field="viability_pct")
    try:
        pd = population_doublings(seeded_cells, harvested_cells)
    except ValueError as exc:
        raise CellProductError(str(exc), field="seeded_cells") from None
    if lot.passages.filter(number=number).exists():
        raise CellProductError(f"lot {lot}: passage {number} is already recorded", field="number")
    return write(
        CulturePassage(
            lot=lot,
            number=number,
            seeded_at=seeded_at,
            seeded_cells=seeded_cells,
            seeding_density=seeding_density,
            harvested_at=harvested_at,
            harvested_cells=harvested_cells,
            viability_pct=viability_pct,
            population_doublings=Decimal(str(round(pd, 2))),
        ),
        by,
    )


def record_final_product(
    lot: ProductLot, by: Any, *, viable_cells_per_ml: int, volume_ml: Decimal
) -> ProductLot:
    """The final product's viable cell concentration and volume (from which doses are drawn)."""
    _lab(by, lot.collection.donor.site, "record the final product")
    if hasattr(lot, "release"):
        raise CellProductError(f"lot {lot} is released: its content is fixed")
    if viable_cells_per_ml <= 0 or Decimal(volume_ml) <= 0:
        raise CellProductError(
            "concentration and volume must be positive", field="viable_cells_per_ml"
        )
    lot.viable_cells_per_ml, lot.volume_ml = viable_cells_per_ml, volume_ml
    return write(lot, by, "final product measured")


def record_cryopreservation(
    lot: ProductLot,
    by: Any,
    *,
    frozen_at: datetime,
    cryoprotectant: str,
    containers: int,
    storage_location: str,
) -> Cryopreservation:
    _lab(by, lot.collection.donor.site, "record a cryopreservation")
    _not_future(frozen_at, "frozen_at")
    if lot.processing_started_at is None or frozen_at < lot.processing_started_at:
        raise CellProductError("frozen before processing started", field="frozen_at")
    return write(
        Cryopreservation(
            lot=lot,
            frozen_at=frozen_at,
            cryoprotectant=cryoprotectant.strip(),
            containers=containers,
            storage_location=storage_location.strip(),
        ),
        by,
    )


def record_thaw(
    cryo: Cryopreservation, by: Any, *, thawed_at: datetime, post_thaw_viability_pct: Decimal
) -> Cryopreservation:
    _lab(by, cryo.lot.collection.donor.site, "record a thaw")
    _not_future(thawed_at, "thawed_at")
    if thawed_at < cryo.frozen_at:
        raise CellProductError("thawed before it was frozen", field="thawed_at")
    if cryo.thawed_at is not None:
        raise CellProductError(f"{cryo} was already thawed")
    cryo.thawed_at, cryo.post_thaw_viability_pct = thawed_at, post_thaw_viability_pct
    return write(cryo, by, "thawed")
