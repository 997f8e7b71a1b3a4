"""The JSON API: ``/api/trials``, ``/api/trials/<NCT id>``, the OpenAPI schema and docs page.

Seed facts as in test_views_search.py (protocols/*/record.json).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db

PROTOCOLS = Path(__file__).resolve().parents[2] / "protocols"
BEIJING = "NCT05227846"
HANOI = "NCT05331872"


def get_json(client, url: str, status: int = 200):
    response = client.get(url)
    assert response.status_code == status, response.content[:2000]
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def test_trials_lists_all_with_paging_fields(client, seed_trials):
    body = get_json(client, "/api/trials")
    assert body["total"] == 2 and body["page"] == 1 and body["pages"] == 1
    assert body["per_page"] == 20 and body["total_exact"] is True
    assert [r["nct_id"] for r in body["results"]] == [BEIJING, HANOI]
    first = body["results"][0]
    assert first["brief_title"].startswith("Human Umbilical Cord-derived Mesenchymal Stem Cells")
    assert first["overall_status"] == "RECRUITING"
    assert first["phases"] == ["PHASE1"]
    assert first["conditions"] == ["Decompensated Cirrhosis"]
    assert first["nearest_site"] is None
    assert first["url"] == f"/trials/{BEIJING}/"
    assert first["record_url"] == f"/api/trials/{BEIJING}"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("text=cirrhosis", [BEIJING, HANOI]),
        ("text=cirrhosis&status=RECRUITING", [BEIJING]),
        ("status=COMPLETED", [HANOI]),
        ("status=recruiting,completed", [BEIJING, HANOI]),
        ("phase=PHASE1&study_type=INTERVENTIONAL&sex=MALE", [BEIJING, HANOI]),
        ("age=72", [BEIJING]),
        ("condition=liver", [HANOI]),
        ("country=Vietnam", [HANOI]),
        ("near=21.0,105.8&within_km=100", [HANOI]),
    ],
)
def test_trials_filters_match_the_search_page(client, seed_trials, query, expected):
    body = get_json(client, f"/api/trials?{query}")
    found = [r["nct_id"] for r in body["results"]]
    assert sorted(found) == expected
    assert body["total"] == len(expected)
    page = client.get(f"/trials/?{query}").content.decode()
    assert re.findall(r'<li data-nct-id="(NCT\d{8})">', page) == found  # same order too


def test_trials_near_city_reports_nearest_site(client, seed_trials):
    body = get_json(client, "/api/trials?near_city=Beijing&within_km=50")
    assert [r["nct_id"] for r in body["results"]] == [BEIJING]
    site = body["results"][0]["nearest_site"]
    assert site["city"] == "Beijing" and site["country"] == "China"
    assert site["distance_km"] == pytest.approx(0.0, abs=0.01)
    assert body["origin"] == pytest.approx([39.9075, 116.39723])


def test_trials_paging(client, seed_trials):
    first = get_json(client, "/api/trials?per_page=1")
    second = get_json(client, "/api/trials?per_page=1&page=2")
    assert first["pages"] == second["pages"] == 2 and first["total"] == 2
    assert [r["nct_id"] for r in first["results"] + second["results"]] == [BEIJING, HANOI]
    beyond = get_json(client, "/api/trials?per_page=1&page=5")
    assert beyond["results"] == [] and beyond["total"] == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("age=abc", "age"),
        ("age=-1", "age"),
        ("near_city=Beijing&within_km=-5", "within_km"),
        ("within_km=10", "within_km"),
        ("near=oops", "near"),
        ("near_city=Atlantis", "near_city"),
        ("status=BOGUS", "status"),
        ("per_page=1000", "per_page"),
        ("page=0", "page"),
    ],
)
def test_trials_invalid_filters_are_422_naming_the_field(client, seed_trials, query, field):
    body = get_json(client, f"/api/trials?{query}", status=422)
    assert isinstance(body["detail"], list) and body["detail"]
    assert any(field in err["loc"] for err in body["detail"]), body


def test_trial_record_is_the_stored_ctgov_json(client, seed_trials):
    for nct_id in (BEIJING, HANOI):
        body = get_json(client, f"/api/trials/{nct_id}")
        stored = json.loads((PROTOCOLS / nct_id / "record.json").read_text(encoding="utf-8"))
        assert body == stored
        assert body["protocolSection"]["identificationModule"]["nctId"] == nct_id


@pytest.mark.parametrize("nct_id", ["NCT00000000", "NCT123", "nct05227846", "bogus"])
def test_trial_record_unknown_or_malformed_is_404_json(client, seed_trials, nct_id):
    body = get_json(client, f"/api/trials/{nct_id}", status=404)
    assert nct_id in body["detail"]


def test_api_is_read_only(client, seed_trials):
    for url in ("/api/trials", f"/api/trials/{BEIJING}"):
        for method in (client.post, client.put, client.delete, client.patch):
            assert method(url, data={}, content_type="application/json").status_code == 405


def test_openapi_schema_is_valid_and_documents_the_filters(client):
    schema = get_json(client, "/api/openapi.json")
    validate(schema)  # raises OpenAPIValidationError when the document is not valid OpenAPI
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    assert set(paths) == {"/api/trials", "/api/trials/{nct_id}"}
    assert set(paths["/api/trials"]) == {"get"} and set(paths["/api/trials/{nct_id}"]) == {"get"}
    params = {p["name"] for p in paths["/api/trials"]["get"]["parameters"]}
    assert {
        "text",
        "status",
        "phase",
        "study_type",
        "sex",
        "age",
        "condition",
        "near",
        "near_city",
        "within_km",
        "page",
        "per_page",
    } <= params
    assert {"200", "422"} <= set(paths["/api/trials"]["get"]["responses"])
    assert {"200", "404"} <= set(paths["/api/trials/{nct_id}"]["get"]["responses"])


def test_docs_page_works_offline(client, page_text):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    # Every script and stylesheet comes from this site: nothing from a CDN.
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and all(ref.startswith("/") for ref in refs), refs
    assert "/api/openapi.json" in html
    for ref in re.findall(r'(?:src|href)="(/api/docs/assets/[^"]+)"', html):
        asset = client.get(ref)
        assert asset.status_code == 200, ref
        body = b"".join(asset.streaming_content)
        assert len(body) > 500, ref
    assert client.get("/api/docs/assets/swagger-ui-bundle.js")["Content-Type"] == "text/javascript"
    # Only the listed assets are served.
    assert client.get("/api/docs/assets/__init__.py").status_code == 404
    assert client.get("/api/docs/assets/..%2F__init__.py").status_code == 404


def test_full_width_digits_read_alike_on_the_page_and_the_api(client, db):
    # Full-width digits (as CJK input methods type them) are accepted by the search page's
    # form (Django's FloatField/IntegerField); the API reads them the same (NFKC).
    for params in ("age=４５", "page=１&per_page=５", "near=３９.９,１１６.４&within_km=５０"):
        assert client.get(f"/trials/?{params}").status_code == 200
        response = client.get(f"/api/trials?{params}")
        assert response.status_code == 200, (params, response.content)
    assert client.get("/api/trials?per_page=５").json()["per_page"] == 5


def test_a_method_a_route_does_not_have_answers_json_405(client, db):
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)("/api/trials")
        assert response.status_code == 405
        assert response["Content-Type"].startswith("application/json")
        assert response.json() == {"detail": "Method not allowed"}
        assert "GET" in response["Allow"]
    response = client.post("/api/trials/NCT05227846")
    assert response.status_code == 405 and response.json()["detail"] == "Method not allowed"
