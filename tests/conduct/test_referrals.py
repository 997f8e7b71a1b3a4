"""Referrals from the public eligibility check to a site's screening queue (issue 11, "Also
required: Referral"): explicit consent, minimal contact data, CSRF, the rate limit, the
answers stored as the check computes them, site scoping of the queue, screening and
declining with the history kept."""

from __future__ import annotations

import html
import json
import re
from datetime import date

import pytest
from django.core.cache import cache
from django.test import Client

from trialdesk.conduct.models import Participant, Referral

pytestmark = pytest.mark.django_db

LIVER = "NCT05227846"
CHECK = f"/trials/{LIVER}/check"
NEW = f"/conduct/referrals/new/{LIVER}/"
ANSWERS = {
    "age": "50",
    "sex": "male",
    "lab_bilirubin": "45",
    "lab_bilirubin_unit": "umol/L",
    "lab_albumin": "3.0",
    "lab_albumin_unit": "g/dL",
    "lab_inr": "1.6",
    "history_hepatic_encephalopathy": "no",
}


@pytest.fixture(autouse=True)
def _fresh_limits(settings):
    cache.clear()
    settings.TRIALDESK_REFERRAL_RATES = {"per_address": (5, 3600), "all": (100, 3600)}
    yield
    cache.clear()


@pytest.fixture
def ready(setup, seed_trials):
    return setup


def _answers_json(client: Client) -> str:
    """The hidden answers of the referral form, as the check page renders them."""
    page = client.post(CHECK, ANSWERS).content.decode()
    m = re.search(r'<input type="hidden" name="answers" value="([^"]*)"', page)
    assert m, "the check's result offers no referral form"
    return html.unescape(m.group(1))


def _contact(answers: str, **over) -> dict:
    from trialdesk.conduct.models import Site

    site = Site.objects.get(code="BJ302").pk  # the hidden field of the only site
    data = {"answers": answers, "name": "Tran Van B", "phone": "+84 24 3974 3556", "site": site}
    data["email"] = ""
    data["consent"] = "on"
    data.update(over)
    return data


def test_the_check_result_offers_the_form_only_with_a_site_here(client, ready):
    page = client.post(CHECK, ANSWERS).content.decode()
    assert 'id="referral-form"' in page
    assert f'action="{NEW}"' in page
    consent = re.search(r'<input type="checkbox" name="consent"[^>]*>', page).group(0)
    assert "checked" not in consent  # unticked by default
    # one site runs NCT05227846 here: no choice to make, the site is a hidden field
    assert '<select name="site"' not in page
    assert client.get(CHECK).content.decode().count("referral-form") == 0  # no result yet
    from trialdesk.conduct.models import TrialSite

    TrialSite.objects.filter(study__nct_id=LIVER).delete()
    assert "referral-form" not in client.post(CHECK, ANSWERS).content.decode()


def test_a_referral_is_stored_as_the_check_computes_it(client, ready):
    response = client.post(NEW, _contact(_answers_json(client)))
    assert response.status_code == 302
    assert response["Location"] == f"/conduct/referrals/sent/{LIVER}/"
    assert "sent to the study team" in client.get(response["Location"]).content.decode()
    r = Referral.objects.get()
    assert (r.site.code, r.study.nct_id, r.status) == ("BJ302", LIVER, Referral.NEW)
    assert r.answers["lab_bilirubin"] == "45" and r.answers["lab_bilirubin_unit"] == "umol/L"
    assert r.answers["history_tips"] == ""  # "I don't know" kept as unknown
    assert "Sex: male" in r.answer_lines
    assert r.overall in ("ELIGIBLE", "INELIGIBLE", "INCOMPLETE")
    assert set(r.summary) >= {"overall", "headline", "rule_out", "meet", "check", "not_apply"}
    assert r.consent_text.startswith("I agree that my answers")
    assert r.history.get().history_change_reason == "sent from the public eligibility check"


def test_a_tampered_result_cannot_be_sent(client, ready):
    # The browser sends answers only; the result is computed again from them.
    answers = json.loads(_answers_json(client))
    answers["lab_bilirubin"] = "not a number"
    response = client.post(NEW, _contact(json.dumps(answers)))
    assert response.status_code == 400
    assert "could not be read again" in response.content.decode()
    assert client.post(NEW, _contact("[1, 2]")).status_code == 400
    assert Referral.objects.count() == 0


def test_consent_is_required(client, ready):
    data = _contact(_answers_json(client))
    del data["consent"]
    response = client.post(NEW, data)
    assert response.status_code == 400
    assert "nothing is sent without your consent" in response.content.decode()
    assert Referral.objects.count() == 0


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"phone": "", "email": ""}, "give a phone number or an e-mail address"),
        ({"name": "  "}, "This field is required"),
        ({"phone": "call me", "email": ""}, "a phone number"),
        ({"phone": "", "email": "not-an-address"}, "Enter a valid email address"),
    ],
)
def test_missing_or_bad_contact_is_refused(client, ready, over, message):
    response = client.post(NEW, _contact(_answers_json(client), **over))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Referral.objects.count() == 0


def test_contact_is_never_rendered_unescaped(client, ready):
    name = '<script>alert("x")</script>'
    client.post(NEW, _contact(_answers_json(client), name=name, phone="", email="a@b.org"))
    r = Referral.objects.get()
    assert r.name == name
    staff = Client()
    staff.force_login(ready.users[("BJ302", "coordinator")])
    for url in ("/conduct/referrals/", f"/conduct/referrals/{r.pk}/"):
        page = staff.get(url).content.decode()
        assert name not in page and "&lt;script&gt;" in page
    bad = _contact(_answers_json(client), name=name, phone="", email="")
    page = client.post(NEW, bad).content.decode()
    assert name not in page and "&lt;script&gt;" in page


def _token(page: str, form_id: str) -> str:
    m = re.search(rf'id="{form_id}".*?name="csrfmiddlewaretoken" value="([^"]+)"', page, re.S)
    assert m, form_id
    return m.group(1)


def test_csrf_is_enforced(ready):
    browser = Client(enforce_csrf_checks=True)
    token = _token(browser.get(CHECK).content.decode(), "prescreen-form")
    page = browser.post(CHECK, {**ANSWERS, "csrfmiddlewaretoken": token}).content.decode()
    answers = html.unescape(
        re.search(r'<input type="hidden" name="answers" value="([^"]*)"', page).group(1)
    )
    response = browser.post(NEW, _contact(answers))  # no token
    assert response.status_code == 403
    assert Referral.objects.count() == 0
    token = _token(page, "referral-form")
    assert browser.post(NEW, {**_contact(answers), "csrfmiddlewaretoken": token}).status_code == 302
    assert Referral.objects.count() == 1


def test_only_post_is_accepted(client, ready):
    assert client.get(NEW).status_code == 405


def test_the_rate_limit_answers_429_per_address(client, ready, settings):
    settings.TRIALDESK_REFERRAL_RATES = {"per_address": (2, 3600), "all": (100, 3600)}
    answers = _answers_json(client)
    assert [client.post(NEW, _contact(answers)).status_code for _ in range(2)] == [302, 302]
    response = client.post(NEW, _contact(answers))
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
    assert Referral.objects.count() == 2
    # another address still gets through
    other = Client(REMOTE_ADDR="203.0.113.9")
    assert other.post(NEW, _contact(answers)).status_code == 302


def test_the_rate_limit_answers_429_for_everyone(client, ready, settings):
    settings.TRIALDESK_REFERRAL_RATES = {"per_address": (10, 3600), "all": (3, 3600)}
    answers = _answers_json(client)
    codes = [
        Client(REMOTE_ADDR=f"203.0.113.{i}").post(NEW, _contact(answers)).status_code
        for i in range(1, 6)
    ]
    assert codes == [302, 302, 302, 429, 429]
    # invalid attempts count too
    settings.TRIALDESK_REFERRAL_RATES = {"per_address": (1, 60), "all": (100, 60)}
    cache.clear()
    assert client.post(NEW, _contact(answers, consent="")).status_code == 400
    assert client.post(NEW, _contact(answers)).status_code == 429


def test_a_bad_rate_setting_is_an_error_naming_it(client, ready, settings):
    settings.TRIALDESK_REFERRAL_RATES = {"all": (0, 60)}
    with pytest.raises(ValueError, match=r"TRIALDESK_REFERRAL_RATES\['all'\]"):
        client.post(NEW, _contact("{}"))


def _referral(client, ready) -> Referral:
    assert client.post(NEW, _contact(_answers_json(client))).status_code == 302
    return Referral.objects.latest("received_at")


def test_another_sites_coordinator_cannot_see_it(client, ready):
    r = _referral(client, ready)
    own, other = Client(), Client()
    own.force_login(ready.users[("BJ302", "coordinator")])
    other.force_login(ready.users[("VINMEC", "coordinator")])
    assert f'data-referral="{r.pk}"' in own.get("/conduct/referrals/").content.decode()
    assert "1 new" in own.get("/conduct/").content.decode()
    assert f'data-referral="{r.pk}"' not in other.get("/conduct/referrals/").content.decode()
    for url in ("", "history/", "screen/"):
        assert other.get(f"/conduct/referrals/{r.pk}/{url}").status_code == 404
    assert other.post(f"/conduct/referrals/{r.pk}/decline/", {"reason": "x"}).status_code == 404
    # a monitor at the same site: not a screening role, no contact data
    monitor = Client()
    monitor.force_login(ready.users[("BJ302", "monitor")])
    assert monitor.get(f"/conduct/referrals/{r.pk}/").status_code == 404
    assert "Tran Van B" not in monitor.get("/conduct/referrals/").content.decode()
    assert Client().get("/conduct/referrals/").status_code == 302  # login first


def test_decline_needs_a_reason_and_keeps_it(client, ready):
    r = _referral(client, ready)
    staff = Client()
    staff.force_login(ready.users[("BJ302", "coordinator")])
    url = f"/conduct/referrals/{r.pk}/decline/"
    assert staff.post(url, {"reason": "  "}).status_code == 400
    r.refresh_from_db()
    assert r.status == Referral.NEW
    assert staff.post(url, {"reason": "lives too far to attend visits"}).status_code == 302
    r.refresh_from_db()
    assert (r.status, r.decline_reason) == (Referral.DECLINED, "lives too far to attend visits")
    history = staff.get(f"/conduct/referrals/{r.pk}/history/").content.decode()
    assert "declined: lives too far to attend visits" in history
    assert "sent from the public eligibility check" in history
    assert staff.post(url, {"reason": "again"}).status_code == 400  # only a new one


def test_start_screening_is_prefilled_and_links_the_participant(client, ready):
    r = _referral(client, ready)
    staff = Client()
    staff.force_login(ready.users[("BJ302", "coordinator")])
    page = staff.get(f"/conduct/referrals/{r.pk}/screen/").content.decode()
    assert 'value="TVB"' in page  # initials from "Tran Van B"
    assert '<option value="male" selected>' in page
    assert "bilirubin:" in page and "umol/L" in page
    assert "Self-reported" in page
    form = {
        "site": r.site.pk,
        "initials": "TVB",
        "sex": "male",
        "birth_date": "1970-05-01",
        "screened_on": date.today().isoformat(),
        "source": "plain",
        "data": re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S).group(1),
    }
    form["data"] = html.unescape(form["data"])
    response = staff.post(f"/conduct/referrals/{r.pk}/screen/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    r.refresh_from_db()
    p = Participant.objects.get()
    assert (r.status, r.participant_id) == (Referral.SCREENING, p.pk)
    assert p.screening_number == "BJ302-S001"
    assert p.latest_assessment().patient_data["labs"]["bilirubin"]["unit"] == "umol/L"
    assert r.history.first().history_change_reason == "screening started as BJ302-S001"
    # a handled referral cannot be screened twice
    again = staff.post(f"/conduct/referrals/{r.pk}/screen/", {**form, "initials": "TVC"})
    assert again.status_code == 200 and "only a new referral" in again.content.decode()
    assert Participant.objects.count() == 1


def test_the_database_keeps_the_rules(ready):
    from django.db import IntegrityError, transaction

    r = Referral(
        study=ready.bj,
        site=ready.sites["BJ302"],
        name="AB",
        consent_text="x",
        answers={},
        answer_lines=[],
        overall="INCOMPLETE",
        summary={},
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Referral.objects.bulk_create([r])  # no phone, no e-mail
    r.phone = "+84 1234 5678"
    r.status = Referral.DECLINED
    with pytest.raises(IntegrityError), transaction.atomic():
        Referral.objects.bulk_create([r])  # declined without a reason


def test_a_change_needs_a_user_and_a_reason(ready, client):
    from trialdesk.conduct.errors import AuditUserRequired, ChangeReasonRequired
    from trialdesk.conduct.models import write

    r = _referral(client, ready)
    r.name = "changed"
    with pytest.raises(AuditUserRequired):
        r.save()
    with pytest.raises(ChangeReasonRequired):
        write(r, ready.users[("BJ302", "coordinator")])


def test_the_history_is_in_the_audit_chain(client, ready):
    from trialdesk.conduct.audit import verify

    _referral(client, ready)
    assert verify() == []


@pytest.mark.django_db(False)
def test_initials_from_names():
    from trialdesk.conduct.services.referrals import _initials

    assert _initials("Nguyễn Văn An") == "NVA"
    assert _initials("Đặng Thị Mai") == "DTM"
    assert _initials("N.V.A.") == "NVA"
    assert _initials("NVA") == "NVA"
    assert _initials("Li") == ""  # one word, not capitals: one letter is too few
    assert _initials("王小明") == ""


def test_every_referral_page_keeps_to_the_content_security_policy(client, ready, settings):
    from tests.web.test_web_security_headers import assert_keeps_to_the_policy

    pages = {"check result": client.post(CHECK, ANSWERS)}
    answers = _answers_json(client)
    pages["form with errors"] = client.post(NEW, _contact(answers, consent=""))
    pages["sent"] = client.get(f"/conduct/referrals/sent/{LIVER}/")
    r = _referral(client, ready)
    staff = Client()
    staff.force_login(ready.users[("BJ302", "coordinator")])
    for url in ("", f"{r.pk}/", f"{r.pk}/screen/", f"{r.pk}/history/"):
        pages[f"staff {url}"] = staff.get(f"/conduct/referrals/{url}")
    settings.TRIALDESK_REFERRAL_RATES = {"per_address": (1, 60), "all": (100, 60)}
    cache.clear()
    client.post(NEW, _contact(answers))
    pages["limited"] = client.post(NEW, _contact(answers))
    assert pages["limited"].status_code == 429
    for name, response in pages.items():
        assert_keeps_to_the_policy(name, response)


def test_the_person_chooses_among_several_sites(client, ready):
    from trialdesk.conduct.models import TrialSite

    vinmec = ready.sites["VINMEC"]
    TrialSite.objects.create(study=ready.bj, site=vinmec)
    page = client.post(CHECK, ANSWERS).content.decode()
    assert '<select name="site"' in page and "Vinmec" in page
    answers = _answers_json(client)
    assert client.post(NEW, _contact(answers, site=vinmec.pk)).status_code == 302
    r = Referral.objects.get()
    assert r.site == vinmec
    bj, vm = Client(), Client()
    bj.force_login(ready.users[("BJ302", "coordinator")])
    vm.force_login(ready.users[("VINMEC", "coordinator")])
    assert f'data-referral="{r.pk}"' in vm.get("/conduct/referrals/").content.decode()
    assert bj.get(f"/conduct/referrals/{r.pk}/").status_code == 404
    # a site that does not run the trial is not a choice
    TrialSite.objects.filter(study=ready.bj, site=vinmec).delete()
    response = client.post(NEW, _contact(answers, site=vinmec.pk))
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert Referral.objects.count() == 1


def test_no_referral_once_enrolment_is_closed(client, ready):
    answers = _answers_json(client)
    ready.bj.enrolment_closed = True
    ready.bj.save()
    assert "referral-form" not in client.post(CHECK, ANSWERS).content.decode()
    response = client.post(NEW, _contact(answers))
    assert response.status_code == 400
    assert "not taking new patients" in response.content.decode()
    assert Referral.objects.count() == 0
