"""plotly.js for the report page: served by the site from the installed plotly package, and
the committed stylesheet that replaces its inline <style> matches that plotly.js."""

from __future__ import annotations

from django.contrib.staticfiles import finders

from trialdesk.conduct import staticfinders


def test_plotly_css_matches_the_installed_plotly_js():
    # regenerate with: python -m trialdesk.conduct.staticfinders
    assert staticfinders.CSS_PATH.read_text(encoding="utf-8") == staticfinders.plotly_css()
    assert ".js-plotly-plot .plotly .modebar" in staticfinders.plotly_css()


def test_bundled_stylesheet_ids_are_found():
    ids = staticfinders.bundled_style_ids()
    assert ids and all(len(i) >= 16 for i in ids)


def test_only_plotly_min_js_is_exposed(client):
    found = finders.find("plotly/plotly.min.js")
    assert found and found.endswith("package_data/plotly.min.js")
    assert finders.find("plotly/datasets/carshare.csv.gz") in (None, [])
    r = client.get("/static/plotly/plotly.min.js")
    assert r.status_code == 200
    assert b"plotly.js v" in b"".join(r.streaming_content)[:200]
    assert client.get("/static/conduct/plotly.css").status_code == 200
