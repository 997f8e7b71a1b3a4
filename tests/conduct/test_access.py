"""Part 11 details: a password set by an administrator cannot sign until the user sets their
own; logins, failed logins, role changes and audit exports are logged."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from django.contrib.auth.models import Group
from django.urls import reverse
from tests.conduct.conftest import APPROVE, ELIGIBLE, PASSWORD, SETTLED, screen_bj

from trialdesk.cli import main
from trialdesk.conduct import services
from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import AccessEvent, Signature

pytestmark = pytest.mark.django_db


def _code_from_messages(response) -> str:
    import re

    text = " ".join(str(m) for m in response.context["messages"])
    return re.search(r"identity code for \S+: ([A-Z0-9]{5}-[A-Z0-9]{5})", text).group(1)


def test_an_administrator_reset_password_cannot_sign(setup, client):
    from django.contrib.auth import get_user_model

    p = screen_bj(setup)
    inv = setup.users[("BJ302", "investigator")]
    a = services.reassess(p.latest_assessment(), inv, attestations=SETTLED)
    root = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client.force_login(root)
    # the administrator resets the password on Django admin's own page
    response = client.post(
        f"/admin/auth/user/{inv.pk}/password/",
        {"password1": "reset by the administrator", "password2": "reset by the administrator",
         "usable_password": "true"},
        follow=True,
    )  # fmt: skip
    assert response.status_code == 200
    code = _code_from_messages(response)
    reset = AccessEvent.objects.get(kind="password_reset", username=inv.username)
    assert reset.detail == "by root"
    assert AccessEvent.objects.filter(kind="identity_code", username=inv.username).exists()
    inv.refresh_from_db()
    with pytest.raises(ConductError, match="set by someone else"):
        services.sign_eligibility(a, inv, password="reset by the administrator", meaning=ELIGIBLE)
    assert not Signature.objects.exists()
    client.force_login(inv)
    response = client.post(
        reverse("conduct:password"),
        {
            "old_password": "reset by the administrator",
            "new_password1": "my own new secret 42",
            "new_password2": "my own new secret 42",
        },
    )
    assert response.status_code == 302
    inv.refresh_from_db()
    # their own password now, but identity is not re-established: still no signing
    with pytest.raises(ConductError, match="one-time code"):
        services.sign_eligibility(a, inv, password="my own new secret 42", meaning=ELIGIBLE)
    response = client.post(reverse("conduct:identity"), {"code": "WRONG-CODE1"})
    assert "the code is not correct" in response.content.decode()
    response = client.post(reverse("conduct:identity"), {"code": code.lower()})
    assert response.status_code == 302
    services.sign_eligibility(a, inv, password="my own new secret 42", meaning=ELIGIBLE)
    assert Signature.objects.count() == 1
    kinds = set(AccessEvent.objects.filter(username=inv.username).values_list("kind", flat=True))
    assert {"password_changed", "sign_failed", "identity_ok"} <= kinds


def test_a_reset_outside_admin_is_logged_and_needs_an_issued_code(setup, client):
    from trialdesk.conduct.services.signing import confirm_identity, issue_identity_code

    inv = setup.users[("BJ302", "investigator")]
    inv.set_password("set from a shell")  # e.g. manage.py changepassword
    inv.save()
    event = AccessEvent.objects.get(kind="password_reset", username=inv.username)
    assert event.detail == "by someone other than the user"
    with pytest.raises(ConductError, match="no code has been issued"):
        confirm_identity(inv, "ANYTH-INGXX")
    code = issue_identity_code(inv, setup.admin)
    inv._own_password_change = True  # the user sets their own
    inv.set_password(PASSWORD)
    inv.save()
    from trialdesk.conduct.services.signing import record_own_password, signing_hold

    record_own_password(inv)
    assert "one-time code" in signing_hold(inv)
    confirm_identity(inv, code)
    assert signing_hold(inv) is None
    # a second reset opens a new check
    inv.set_password("again")
    inv.save()
    assert "set by someone else" in signing_hold(inv)


def test_signing_is_locked_after_repeated_wrong_passwords(setup, settings):
    import time

    from trialdesk.conduct.throttle import signing_locked_until

    settings.TRIALDESK_SIGNING_LOCK = (3, 2)  # 3 failures lock for 2 seconds
    p = screen_bj(setup)
    inv = setup.users[("BJ302", "investigator")]
    a = services.reassess(p.latest_assessment(), inv, attestations=SETTLED)
    for _ in range(2):
        with pytest.raises(ConductError, match="password is not correct"):
            services.sign_eligibility(a, inv, password="wrong", meaning=ELIGIBLE)
    with pytest.raises(ConductError, match="locked"):
        services.sign_eligibility(a, inv, password="wrong", meaning=ELIGIBLE)
    assert signing_locked_until(inv.username) is not None
    # locked: even the right password signs nothing
    with pytest.raises(ConductError, match="locked"):
        services.sign_eligibility(a, inv, password=PASSWORD, meaning=ELIGIBLE)
    events = list(
        AccessEvent.objects.filter(username=inv.username, kind__startswith="sign_")
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert events == ["sign_failed", "sign_failed", "sign_failed", "sign_locked"]
    time.sleep(2.1)
    assert signing_locked_until(inv.username) is None
    services.sign_eligibility(a, inv, password=PASSWORD, meaning=ELIGIBLE)
    assert Signature.objects.count() == 1


def test_the_meaning_comes_from_the_acts_list(setup, monkeypatch):
    from trialdesk.conduct.services import signing
    from trialdesk.conduct.services.signing import meanings_for, register_meanings

    monkeypatch.setattr(signing, "MEANINGS", dict(signing.MEANINGS))

    p = screen_bj(setup)
    inv = setup.users[("BJ302", "investigator")]
    a = services.reassess(p.latest_assessment(), inv, attestations=SETTLED)
    with pytest.raises(ConductError, match="meaning of a eligibility signature is one of"):
        services.sign_eligibility(a, inv, password=PASSWORD, meaning="I approve whatever")
    with pytest.raises(ConductError, match="meaning"):  # another act's meaning
        services.sign_eligibility(a, inv, password=PASSWORD, meaning=APPROVE)
    assert not Signature.objects.exists()
    # another app adds its act without conduct importing it
    register_meanings("example_act", ["I release this lot for infusion"])
    assert meanings_for("example_act") == ("I release this lot for infusion",)
    with pytest.raises(ConductError, match="no signature meanings for 'nothing'"):
        meanings_for("nothing")
    services.sign_eligibility(a, inv, password=PASSWORD, meaning=ELIGIBLE)
    assert Signature.objects.get().meaning == ELIGIBLE


def test_logins_role_changes_and_exports_are_logged(setup, client):
    before = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    assert not client.login(username="bj302-monitor", password="wrong")
    assert (
        client.post(
            reverse("conduct:login"), {"username": "bj302-monitor", "password": PASSWORD}
        ).status_code
        == 302
    )
    user = setup.users[("BJ302", "monitor")]
    user.groups.add(Group.objects.get(name="data manager"))
    user.groups.remove(Group.objects.get(name="data manager"))
    assert CliRunner().invoke(main, ["audit", "export", "--format", "json"]).exit_code == 0
    kinds = list(
        AccessEvent.objects.filter(id__gt=before, username="bj302-monitor")
        .order_by("id")
        .values_list("kind", "detail")
    )
    names = [k for k, _ in kinds]
    assert names[:4] == ["login_failed", "login", "role_added", "role_removed"]
    assert ("role_added", "data manager") in kinds
    assert AccessEvent.objects.filter(kind="audit_export").exists()


def test_admin_lists_the_access_log_and_consent_versions(setup, client):
    from django.contrib.auth import get_user_model

    admin_user = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client.force_login(admin_user)
    assert client.get("/admin/conduct/accessevent/").status_code == 200
    version = setup.bj.consent_versions.get()
    url = f"/admin/conduct/consentformversion/{version.pk}/change/"
    form = {
        "study": setup.bj.pk,
        "version": "1.0",
        "approved_on": "2022-01-02",
        "summary": "typo",
    }
    response = client.post(url, form)
    assert response.status_code == 200 and b"a reason is required" in response.content
    response = client.post(url, {**form, "reason": "approval date corrected"})
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.history.first().history_change_reason == "approval date corrected"


def test_admin_lists_identity_checks_read_only(setup, client):
    from django.contrib.auth import get_user_model

    from trialdesk.conduct.models import IdentityCheck

    inv = setup.users[("BJ302", "investigator")]
    inv.set_password("reset")
    inv.save()
    check = IdentityCheck.objects.get(user=inv)
    root = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client.force_login(root)
    page = client.get("/admin/conduct/identitycheck/").content.decode()
    assert inv.username in page
    detail = client.get(f"/admin/conduct/identitycheck/{check.pk}/change/").content.decode()
    assert "code_hash" not in detail
    assert (
        client.post(f"/admin/conduct/identitycheck/{check.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
