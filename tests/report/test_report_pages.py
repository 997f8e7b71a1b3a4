"""The DMC report in the app and on the command line, on a real database: who may see it
(role and site), what each sees (their sites' participants only), the downloads, and the
errors for an unknown trial, a trial without data, a bad format or data cut."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from django.contrib.auth.models import Group

from trialdesk.cli import main

pytestmark = pytest.mark.django_db

URL = "/conduct/trials/NCT05227846/report/"
ALLOWED = (
    "investigator",
    "safety review committee member",
    "monitor",
    "data manager",
    "administrator",
)
REFUSED = ("coordinator", "cell-lab staff")


def client_for(client, user):
    client.force_login(user)
    return client


def test_permitted_roles_see_the_report_of_their_site(trial, client):
    bj_ids = [
        p.participant_id
        for p in trial.bj.participants.filter(site__code="BJ302")
        if p.participant_id
    ]
    assert len(bj_ids) == 7
    for role in ALLOWED:
        c = client_for(client, trial.users[("BJ302", role)])
        r = c.get(URL)
        assert r.status_code == 200, role
        page = r.content.decode()
        assert "Beijing" in page and trial.vinmec_participant.screening_number not in page, role
        for pid in bj_ids:
            assert pid in page, (role, pid)
        # the page draws plotly from this site, with the specs as JSON data (never run)
        assert 'src="/static/plotly/plotly.min.js"' in page
        assert '<script id="meld-plot-data" type="application/json">' in page
        assert 'id="plotly.js-style-global" class="no-inline-styles"' in page


def test_a_site_sees_only_its_own_participants(trial, client):
    # Vinmec's monitor: NCT05227846 runs at Vinmec too, where one person has been screened
    c = client_for(client, trial.users[("VINMEC", "monitor")])
    page = c.get(URL).content.decode()
    assert trial.vinmec_participant.screening_number in page
    assert "7846-BJ302" not in page  # no BJ302 participant id
    assert "1 screened" in page
    # a user of both sites sees both
    both = trial.users[("BJ302", "data manager")]
    from trialdesk.conduct.models import SiteMembership

    SiteMembership.objects.create(user=both, site=trial.sites["VINMEC"])
    page = client_for(client, both).get(URL).content.decode()
    assert trial.vinmec_participant.screening_number in page and "7846-BJ302-001" in page
    assert "all sites:" in page


def test_roles_without_the_report_are_refused(trial, client):
    for role in REFUSED:
        c = client_for(client, trial.users[("BJ302", role)])
        assert c.get(URL).status_code == 403, role
        assert c.get(URL.replace("report/", "report.pdf")).status_code == 403, role


def test_anonymous_and_other_trials_sites(trial, client):
    r = client.get(URL)
    assert r.status_code == 302 and "/conduct/login/" in r["Location"]
    # Vinmec's investigator does not run NCT05227846? They do now; NCT05331872 is not at BJ302
    c = client_for(client, trial.users[("BJ302", "investigator")])
    assert c.get("/conduct/trials/NCT05331872/report/").status_code == 404
    assert c.get("/conduct/trials/NCT99999999/report/").status_code == 404


def test_downloads(trial, client):
    c = client_for(client, trial.users[("BJ302", "safety review committee member")])
    html = c.get(URL.replace("report/", "report.html") + "?data_cut=2027-01-31")
    assert html.status_code == 200
    assert html["Content-Type"] == "text/html; charset=utf-8"
    assert (
        html["Content-Disposition"] == 'attachment; filename="NCT05227846-dmc-report-20270131.html"'
    )
    assert b"2027-01-31 23:59 UTC" in html.content
    pdf = c.get(URL.replace("report/", "report.pdf") + "?data_cut=2027-01-31")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    # same data, same cut: the same bytes again
    again = c.get(URL.replace("report/", "report.html") + "?data_cut=2027-01-31")
    assert again.content == html.content
    assert c.get(URL.replace("report/", "report.docx")).status_code == 404
    bad = c.get(URL + "?data_cut=31/01/2027")
    assert bad.status_code == 400 and "is not a date YYYY-MM-DD" in bad.content.decode()


def test_a_trial_without_data_at_the_users_sites(setup, client):
    c = client_for(client, setup.users[("VINMEC", "investigator")])
    r = c.get("/conduct/trials/NCT05331872/report/")
    assert r.status_code == 400
    assert (
        "NCT05331872: no conduct data yet (no participant screened at your sites)"
        in r.content.decode()
    )


def test_dashboard_links_the_report_for_permitted_roles(trial, client):
    c = client_for(client, trial.users[("BJ302", "monitor")])
    assert URL in c.get("/conduct/trials/NCT05227846/").content.decode()
    c = client_for(client, trial.users[("BJ302", "coordinator")])
    assert URL not in c.get("/conduct/trials/NCT05227846/").content.decode()


def test_roles_match_the_permission(setup_roles):
    holders = {g.name for g in Group.objects.filter(permissions__codename="view_dmc_report")}
    assert holders == set(ALLOWED)


def test_cli_report(trial, tmp_path):
    runner = CliRunner()
    out = tmp_path / "r.html"
    args = [
        "report",
        "NCT05227846",
        "--format",
        "html",
        "--out",
        str(out),
        "--data-cut",
        "2027-01-31",
    ]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    first = out.read_bytes()
    assert b"Beijing 302" in first and b"Vinmec" in first  # the CLI reports every site
    assert runner.invoke(main, args).exit_code == 0
    assert out.read_bytes() == first  # identical data: identical bytes
    pdf = tmp_path / "r.pdf"
    result = runner.invoke(
        main,
        ["report", "NCT05227846", "--format", "pdf", "--out", str(pdf), "--data-cut", "2027-01-31"],
    )
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF-")
    missing = tmp_path / "no-such-folder" / "r.html"
    result = runner.invoke(main, ["report", "NCT05227846", "--out", str(missing)])
    assert result.exit_code == 1 and f"cannot write {missing}" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html", "r.pdf"]  # no leftovers


def test_cli_errors(setup, tmp_path):
    runner = CliRunner()
    r = runner.invoke(main, ["report", "NCT99999999"])
    assert r.exit_code == 1
    assert (
        "NCT99999999: no trial conducted here with that NCT id (known: NCT05227846, NCT05331872)"
        in r.output
    )
    r = runner.invoke(main, ["report", "NCT05331872", "--out", str(tmp_path / "x.html")])
    assert (
        r.exit_code == 1
        and "NCT05331872: no conduct data yet (no participant screened)" in r.output
    )
    assert not (tmp_path / "x.html").exists()  # nothing half written
    r = runner.invoke(main, ["report", "NCT05331872", "--format", "docx"])
    assert r.exit_code == 2 and "'docx' is not one of 'html', 'pdf'" in r.output
    r = runner.invoke(main, ["report", "NCT05331872", "--data-cut", "yesterday"])
    assert r.exit_code == 2 and "'yesterday' is not a date YYYY-MM-DD" in r.output
