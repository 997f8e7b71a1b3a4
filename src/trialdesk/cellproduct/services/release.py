"""Release testing of a lot against the protocol's release specification and the signed
release. Pass or fail is computed by ``trialdesk.product.release.evaluate_release``; a lot
that fails any item, or misses one, is refused here and by the database (``guards``)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from trialdesk.cellproduct.errors import CellProductError
from trialdesk.cellproduct.models import LotRelease, ProductLot, ReleaseTest
from trialdesk.cellproduct.services.common import plan_for, require, require_site
from trialdesk.conduct.models import write
from trialdesk.conduct.services.signing import check_signer, printed_name

#: The signing act of a lot release and the meanings its signature may carry (21 CFR
#: 11.50(a)(3)); registered with conduct's signing service by the app config.
LOT_RELEASE = "lot_release"
RELEASE_MEANING = "I release this lot: it meets its release specification"
LOT_RELEASE_MEANINGS = (
    RELEASE_MEANING,
    "I have reviewed the release test results and approve this lot for infusion",
)


def lot_results(lot: ProductLot) -> dict[str, str]:
    """The lot's results as the core reads them: test name -> ``"97.2 %"`` or ``"no growth"``."""
    return {t.name: f"{t.value} {t.unit}".strip() for t in lot.tests.all()}


def lot_verdict(
    lot: ProductLot, *, volume_ml: Decimal | None = None, weight_kg: Decimal | None = None
) -> Any:
    """The core's verdict on the lot's results (``ReleaseVerdict``, every item's reason);
    with a dose's volume and the participant's weight, the per-kg items too."""
    from trialdesk.product.release import ReleaseError, evaluate_release

    plan = plan_for(lot.collection.donor.study)
    try:
        return evaluate_release(
            plan.release, lot_results(lot), volume_ml=volume_ml, weight_kg=weight_kg
        )
    except ReleaseError as exc:
        raise CellProductError(str(exc), field="value") from None


def record_release_test(
    lot: ProductLot,
    by: Any,
    *,
    name: str,
    value: str,
    unit: str = "",
    tested_at: datetime,
    method: str = "",
) -> ReleaseTest:
    """One release test result (a repeat needs a reason and replaces the value, kept in the
    history). Every test's pass / fail is recomputed by the core and stored with it."""
    require(by, "record_cell_product", "record a release test")
    require_site(by, lot.collection.donor.site)
    if hasattr(lot, "release"):
        raise CellProductError(f"lot {lot} is released: its results are final")
    if tested_at > timezone.now():
        raise CellProductError("tested at is in the future", field="tested_at")
    plan = plan_for(lot.collection.donor.study)
    names = plan.release.test_names
    if name not in names:
        raise CellProductError(
            f"{name!r} is not in the release specification ({', '.join(names)})", field="name"
        )
    with transaction.atomic():
        test = lot.tests.filter(name=name).first()
        if test is None:
            test = ReleaseTest(lot=lot, name=name)
            reason = None
        else:
            reason = "result entered again"
        test.value, test.unit, test.tested_at, test.method = (
            value.strip(),
            unit.strip(),
            tested_at,
            method,
        )
        write(test, by, reason)
        verdict = lot_verdict(lot)
        for item in verdict.items:
            if item.per_dose:
                continue
            for stored in lot.tests.filter(name__in=plan.release.item(item.name).tests):
                if (stored.passed, stored.reason) != (item.passed, item.reason[:300]):
                    stored.passed, stored.reason = item.passed, item.reason[:300]
                    write(stored, by, "verdict computed by the release specification")
    test.refresh_from_db()
    return test


def release_lot(
    lot: ProductLot,
    by: Any,
    *,
    password: str,
    meaning: str,
    released_at: datetime | None = None,
) -> LotRelease:
    """Release the lot: an electronic signature (password re-entered, meaning stated) over a
    passing verdict. A failing or incomplete verdict is refused with every reason.

    ``released_at``: when the release decision was made, for a release entered after the
    fact (default: now; the signature's own time is always now)."""
    require(by, "release_lot", "release a lot")
    require_site(by, lot.collection.donor.site)
    if hasattr(lot, "release"):
        raise CellProductError(f"lot {lot} is already released")
    if lot.viable_cells_per_ml is None:
        raise CellProductError(f"lot {lot}: the final product's concentration is not recorded")
    verdict = lot_verdict(lot)
    if not verdict.passed:
        failing = [f"{i.name}: {i.reason}" for i in verdict.items if i.passed is not True]
        raise CellProductError(
            f"lot {lot} fails its release specification and cannot be released: "
            + "; ".join(failing)
        )
    now = timezone.now()
    released_at = released_at or now
    if released_at > now:
        raise CellProductError("the release time is in the future", field="released_at")
    last = max((t.tested_at for t in lot.tests.all()), default=None)
    if last is not None and released_at < last:
        raise CellProductError(
            f"the release time is before the last release test ({last:%Y-%m-%d %H:%M} UTC)",
            field="released_at",
        )
    meaning = check_signer(by, password, meaning, act=LOT_RELEASE)
    with transaction.atomic():
        return write(
            LotRelease(
                lot=lot,
                passed=True,
                verdict=[_plain(asdict(i)) for i in verdict.items],
                signer=by,
                printed_name=printed_name(by),
                meaning=meaning,
                signed_at=now,
                released_at=released_at,
            ),
            by,
        )


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, bool | int | float | type(None)) else str(v)
        for k, v in values.items()
    }
