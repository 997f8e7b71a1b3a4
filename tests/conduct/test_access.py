"""Part 11 details: a password set by an administrator cannot sign until the user sets their
own; logins, failed logins, role changes and audit exports are logged."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from django.contrib.auth.models import Group
from django.urls import reverse
from tests.conduct.conftest import PASSWORD, SETTLED, screen_bj

from trialdesk.cli import main
from trialdesk.conduct import services
from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import AccessEvent, Signature

pytestmark = pytest.mark.django_db


def test_an_administrator_reset_password_cannot_sign(setup, client):
    p = screen_bj(setup)
    inv = setup.users[("BJ302", "investigator")]
    a = services.reassess(p.latest_assessment(), inv, attestations=SETTLED)
    inv.set_password("reset by the administrator")  # what the admin's password form does
    inv.save()
    with pytest.raises(ConductError, match="set by someone else"):
        services.sign_eligibility(a, inv, password="reset by the administrator", meaning="ok")
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
    services.sign_eligibility(a, inv, password="my own new secret 42", meaning="ok")
    assert Signature.objects.count() == 1
    assert AccessEvent.objects.filter(kind="password_changed", username=inv.username).exists()


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
