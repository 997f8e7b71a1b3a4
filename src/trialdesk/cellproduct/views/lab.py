"""The laboratory's pages: donors, donations, lots (records, release, dose units)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from trialdesk.cellproduct import forms as f
from trialdesk.cellproduct.models import Donor, DoseUnit, ProductLot
from trialdesk.cellproduct.services import doses, records, release
from trialdesk.cellproduct.services.common import plan_for
from trialdesk.cellproduct.views.common import collection_for, donor_for, lot_for, run_form
from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import Participant, Site, Study

VIEW = "cellproduct.view_productlot"


@login_required
@permission_required(VIEW, raise_exception=True)
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    studies = Study.objects.visible_to(user)
    sites = Site.objects.filter(memberships__user=user)
    form = f.DonorForm(request.POST or None, studies=studies, sites=sites)

    def act(d: dict[str, Any]) -> Donor:
        return records.register_donor(d.pop("study"), d.pop("site"), user, **d)

    done = run_form(request, form, act, lambda d: f"Donor {d} registered.", request.path)
    if done:
        return done
    donors = Donor.objects.visible_to(user).select_related("study", "site")
    lots = ProductLot.objects.filter(collection__donor__in=donors).select_related(
        "collection__donor", "release"
    )
    waiting = DoseUnit.objects.filter(
        participant__in=Participant.objects.visible_to(user),
        dosing_record__isnull=True,
        expires_at__gt=timezone.now(),
    ).select_related("participant", "lot")
    context = {
        "donors": donors,
        "lots": lots,
        "waiting": waiting,
        "form": form,
        "trace": f.TraceForm(),
    }
    return render(request, "cellproduct/home.html", context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_http_methods(["GET", "POST"])
def donor(request: HttpRequest, pk: int) -> HttpResponse:
    d = donor_for(request, pk)
    here = reverse("cellproduct:donor", args=[d.pk])
    post = request.POST if request.method == "POST" else None
    which = request.POST.get("form") if post else None
    test_form = f.TestForm(post if which == "test" else None, prefix="test")
    coll_form = f.CollectionForm(post if which == "collection" else None, prefix="collection")
    consent_form = f.DonorConsentForm(post if which == "consent" else None, prefix="consent")
    if which == "consent":
        done = run_form(
            request,
            consent_form,
            lambda v: records.record_donor_consent(d, request.user, **v),
            lambda _: "Consent recorded.",
            here,
        )
    elif which == "test":
        done = run_form(
            request,
            test_form,
            lambda v: records.record_infectious_test(d, request.user, **v),
            lambda t: f"Test recorded: {t}.",
            here,
        )
    elif which == "collection":
        done = run_form(
            request,
            coll_form,
            lambda v: records.record_collection(d, request.user, **v),
            lambda c: f"Donation {c.din.display} recorded.",
            here,
        )
    else:
        done = None
    if done:
        return done
    context = {
        "donor": d,
        "problems": records.donor_problems(d),
        "test_form": test_form,
        "coll_form": coll_form,
        "consent_form": consent_form,
        "collections": d.collections.prefetch_related("lots"),
    }
    return render(request, "cellproduct/donor.html", context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_http_methods(["GET", "POST"])
def collection(request: HttpRequest, pk: int) -> HttpResponse:
    c = collection_for(request, pk)
    here = reverse("cellproduct:collection", args=[c.pk])
    post = request.POST if request.method == "POST" else None
    which = request.POST.get("form") if post else None
    receipt_form = f.ReceiptForm(post if which == "receipt" else None, prefix="receipt")
    lot_form = f.LotForm(post if which == "lot" else None, prefix="lot")
    done = None
    if which == "receipt":
        done = run_form(
            request,
            receipt_form,
            lambda v: records.record_receipt(c, request.user, **v),
            lambda r: "Receipt recorded.",
            here,
        )
    elif which == "lot":
        done = run_form(
            request,
            lot_form,
            lambda v: records.start_lot(c, request.user, **v),
            lambda lot: f"Lot {lot} started.",
            here,
        )
    if done:
        return done
    context = {
        "collection": c,
        "receipt": getattr(c, "receipt", None),
        "receipt_form": receipt_form,
        "lot_form": lot_form,
        "deviations": c.deviations.all(),
    }
    return render(request, "cellproduct/collection.html", context)


_LOT_FORMS = {
    "step": (f.StepForm, records.record_step, "Processing step recorded."),
    "passage": (f.PassageForm, records.record_passage, "Culture passage recorded."),
    "final": (f.FinalProductForm, records.record_final_product, "Final product recorded."),
    "cryo": (f.CryoForm, records.record_cryopreservation, "Cryopreservation recorded."),
}


@login_required
@permission_required(VIEW, raise_exception=True)
@require_http_methods(["GET", "POST"])
def lot(request: HttpRequest, pk: int) -> HttpResponse:
    lot = lot_for(request, pk)
    user = request.user
    here = reverse("cellproduct:lot", args=[lot.pk])
    study = lot.collection.donor.study
    post = request.POST if request.method == "POST" else None
    which = request.POST.get("form") if post else None
    bound = {}
    for name, (form_cls, _, _) in _LOT_FORMS.items():
        bound[name] = form_cls(post if which == name else None, prefix=name)
    try:
        plan = plan_for(study)
        names = list(plan.release.test_names)
        plan_error = ""
    except ConductError as exc:
        plan, names, plan_error = None, [], str(exc)
    test_form = f.ReleaseTestForm(post if which == "test" else None, prefix="test", names=names)
    sign_form = f.SignatureForm(
        post if which == "release" else None, prefix="release", act=release.LOT_RELEASE
    )
    participants = Participant.objects.visible_to(user).filter(
        study=study, status=Participant.ENROLLED
    )
    dose_form = f.DoseForm(
        post if which == "dose" else None, prefix="dose", participants=participants
    )
    thaw_form = f.ThawForm(
        post if which == "thaw" else None,
        prefix="thaw",
        cryos=lot.cryo.filter(thawed_at__isnull=True),
    )
    done = None
    if which == "thaw":
        done = run_form(
            request,
            thaw_form,
            lambda v: records.record_thaw(v.pop("cryo"), user, **v),
            lambda _: "Thaw recorded.",
            here,
        )
    elif which in _LOT_FORMS:
        _, service, message = _LOT_FORMS[which]
        done = run_form(
            request, bound[which], lambda v: service(lot, user, **v), lambda _: message, here
        )
    elif which == "test":
        done = run_form(
            request,
            test_form,
            lambda v: release.record_release_test(lot, user, **v),
            lambda t: f"Result recorded: {t}.",
            here,
        )
    elif which == "release":
        done = run_form(
            request,
            sign_form,
            lambda v: release.release_lot(lot, user, **v),
            lambda r: f"Lot {lot} released (signed).",
            here,
        )
    elif which == "dose":
        done = run_form(
            request,
            dose_form,
            lambda v: doses.prepare_dose(lot, v.pop("participant"), user, **v),
            lambda u: f"Dose unit {u.unit_id} prepared.",
            here,
        )
    if done:
        return done
    verdict = None
    if plan is not None:
        try:
            verdict = release.lot_verdict(lot)
        except ConductError as exc:
            plan_error = str(exc)
    context = {
        "lot": lot,
        "forms": bound,
        "test_form": test_form,
        "sign_form": sign_form,
        "dose_form": dose_form,
        "thaw_form": thaw_form,
        "verdict": verdict,
        "plan_error": plan_error,
        "release": getattr(lot, "release", None),
        "units": lot.units.select_related("participant", "dosing_record"),
        "deviations": lot.deviations.all(),
    }
    return render(request, "cellproduct/lot.html", context)
