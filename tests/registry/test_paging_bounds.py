"""Paging can never hurt the server (issue 15, item 1).

``GET /api/trials?text=stem&page=2147483648`` made Tantivy reserve ~687 GB and abort the
server process; ``page=99999999999999999999`` overflowed SQLite's int64 into a 500. Here,
on every engine (SQLite with the Tantivy text index, SQLite with FTS5 and the in-memory
filter index, SQLite with the SQL plans; PostgreSQL's tsvector when ``DATABASE_URL`` names
PostgreSQL), huge, negative, zero and non-numeric ``page`` and ``per_page`` values get a
clear error (API: 422 JSON; page: 400 with the message), the highest accepted page answers
an empty page with the true total, and no engine sees an offset past the matches.

Seed facts (protocols/*/record.json): "stem" and "cirrhosis" match both seed trials;
NCT05227846 is the one recruiting.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from engines import ENGINES, route

from trialdesk.registry import textindex
from trialdesk.registry.search import MAX_PAGE, MAX_PER_PAGE, SearchError, SearchQuery, search

pytestmark = pytest.mark.django_db

BEIJING = "NCT05227846"
HANOI = "NCT05331872"
BAD_PAGES = ["2147483648", "99999999999999999999", "9" * 5000, str(MAX_PAGE + 1), "-1",
             "0", "abc", "1.5", "1e3", "0x10"]  # fmt: skip
BAD_PER_PAGES = ["0", "-5", str(MAX_PER_PAGE + 1), "2147483648", "99999999999999999999",
                 "many"]  # fmt: skip
QUERIES = ["text=stem", "text=cirrhosis", "text=cirrhosis&status=RECRUITING", "", "phase=PHASE1"]


@pytest.fixture(params=ENGINES)
def engine(request, monkeypatch, db):
    yield from route(request.param, monkeypatch)


def _json(client, url: str, status: int):
    response = client.get(url)
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    return response.json()


@pytest.mark.parametrize("value", BAD_PAGES)
def test_api_refuses_a_bad_page_with_json(client, engine, value):
    for query in ("text=stem", "text=cirrhosis&status=RECRUITING", ""):
        body = _json(client, f"/api/trials?{query}&page={value}", 422)
        assert [e["loc"] for e in body["detail"]] == [["query", "page"]]
        assert "Traceback" not in str(body)
    assert engine["tantivy"] == 0  # refused before any engine ran


@pytest.mark.parametrize("value", BAD_PER_PAGES)
def test_api_refuses_a_bad_per_page_with_json(client, engine, value):
    body = _json(client, f"/api/trials?text=stem&per_page={value}", 422)
    assert [e["loc"] for e in body["detail"]] == [["query", "per_page"]]


@pytest.mark.parametrize("value", BAD_PAGES)
def test_search_page_refuses_a_bad_page_with_a_message(client, engine, page_text, value):
    for query in ("text=cirrhosis", "text=stem&status=RECRUITING", ""):
        response = client.get(f"/trials/?{query}&page={value}")
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
        html = response.content.decode()
        text = page_text(html)
        assert "page must be a whole number from 1 to 1,000,000." in text
        assert "Please correct the highlighted" not in text  # nothing visible is wrong
        # The way out keeps the search and drops the page.
        assert "Show the first page of this search" in text
        if query:
            first = html.split('id="paging-errors"')[1].split("</div>")[0]
            assert query.split("&")[0] in first and "page=" not in first
    assert engine["tantivy"] == 0


@pytest.mark.parametrize("value", BAD_PER_PAGES)
def test_search_page_refuses_a_bad_per_page_with_a_message(client, engine, page_text, value):
    response = client.get(f"/trials/?text=cirrhosis&per_page={value}")
    assert response.status_code == 400
    text = page_text(response.content.decode())
    assert f"per_page must be a whole number from 1 to {MAX_PER_PAGE}." in text


@pytest.mark.parametrize("query", QUERIES)
def test_the_highest_page_is_empty_with_the_true_total(client, engine, page_text, query):
    expected = {"text=cirrhosis&status=RECRUITING": 1}.get(query, 2)
    url = f"/api/trials?{query}&page={MAX_PAGE}&per_page={MAX_PER_PAGE}"
    body = _json(client, url, 200)
    assert body["results"] == [] and body["total"] == expected and body["pages"] == 1
    assert body["page"] == MAX_PAGE
    html = client.get(f"/trials/?{query}&page={MAX_PAGE}").content.decode()
    text = page_text(html)
    assert f"There is no page {MAX_PAGE}; the results end at page 1." in text
    last_link = re.search(r'<a href="\?([^"]*)" rel="last">Go to the last page</a>', html)
    assert last_link and last_link.group(1).replace("&amp;", "&").endswith("page=1")
    assert f"page={MAX_PAGE}" not in last_link.group(1)
    # A page just past the end, and the last page itself.
    assert (
        _json(client, f"/api/trials?{query}&per_page=1&page={expected + 1}", 200)["results"] == []
    )
    last = _json(client, f"/api/trials?{query}&per_page=1&page={expected}", 200)
    assert len(last["results"]) == 1 and last["pages"] == expected


def test_tantivy_answers_ranked_pages_in_the_tantivy_run(client, engine):
    """The Tantivy engine really answered the text searches of this module's tests."""
    _json(client, f"/api/trials?text=stem&page={MAX_PAGE}", 200)
    _json(client, "/api/trials?text=stem&per_page=1&page=2", 200)
    assert engine["tantivy"] == (2 if engine["name"] == "tantivy" else 0)


def test_search_query_bounds_page_and_per_page():
    for page in (0, -1, MAX_PAGE + 1, 2**31, 10**20, 10**5000, 1.5, "2", True):
        with pytest.raises(SearchError, match=r"^page must be a whole number from 1 to"):
            SearchQuery(page=page)
    for per_page in (0, MAX_PER_PAGE + 1, 10**20, 2.0, None):
        with pytest.raises(SearchError, match=r"^per_page must be a whole number from 1 to"):
            SearchQuery(per_page=per_page)
    assert SearchQuery(page=MAX_PAGE, per_page=MAX_PER_PAGE).offset == (MAX_PAGE - 1) * 100


@pytest.mark.parametrize("text", ["stem", "cirrhosis", ""])
def test_every_engine_answers_past_the_end_without_an_offset_past_the_matches(
    engine, monkeypatch, text
):
    """Search directly (no form): the highest page on each engine, and Tantivy's searcher
    never receives an offset at or beyond the number of matches."""
    offsets: list[tuple[int, int]] = []
    if engine["name"] == "tantivy":
        real_top = textindex.TextIndex.top

        def watched_top(self, searcher, query, offset, limit):
            class Watch:
                num_docs = searcher.num_docs

                def search(self, q, limit, count=True, offset=0, **kw):
                    result = searcher.search(q, limit, count=count, offset=offset, **kw)
                    offsets.append((offset, limit))
                    return result

                def fast_field_values(self, *a):
                    return searcher.fast_field_values(*a)

            return real_top(self, Watch(), query, offset, limit)

        monkeypatch.setattr(textindex.TextIndex, "top", watched_top)
    query = SearchQuery(text=text, page=MAX_PAGE, per_page=MAX_PER_PAGE)
    page = search(query)
    assert page.results == () and page.total == 2 and page.pages == 1
    first = search(dataclasses.replace(query, page=1, per_page=1)).results
    second = search(dataclasses.replace(query, page=2, per_page=1))
    assert len(first) == len(second.results) == 1 and second.total == second.pages == 2
    assert {first[0].nct_id, second.results[0].nct_id} == {BEIJING, HANOI}
    beyond = search(dataclasses.replace(query, page=3, per_page=1))
    assert beyond.results == () and beyond.total == 2
    if engine["name"] == "tantivy" and text:
        # Ranked searches went to Tantivy, never with an offset at or past the 2 matches.
        assert offsets and all(offset < 2 for offset, _ in offsets), offsets
        assert all(limit <= MAX_PER_PAGE for _, limit in offsets), offsets


TOP_SCRIPT = """
import sys
from pathlib import Path
from trialdesk.registry import textindex
from trialdesk.registry.textquery import parse_text
from trialdesk.registry.textrow import TextRow

ix = textindex.TextIndex(Path(sys.argv[1]), db_empty=True, db_stamp="s")
with ix.writer() as w:
    w.add(TextRow(id=1, brief_title="stem cells", overall_status="RECRUITING"))
    w.commit("s")
searcher = ix.searcher_for("s")
q = ix.text_query(parse_text("stem"), [])
for offset, limit in ((2**31 * 20, 20), (10**18, 100), (0, 2**40), (1, 2**40), (0, 1)):
    ids, scores, total = ix.top(searcher, q, offset, limit)
    print(offset, limit, len(ids), total)
"""


def test_text_index_top_survives_any_offset_and_limit(tmp_path):
    """A future caller of ``TextIndex.top`` cannot abort the process with a huge offset or
    limit either (run in a child process: a failure here would be an abort)."""
    src = str(Path(textindex.__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, "-c", TOP_SCRIPT, str(tmp_path / "index")],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split("\n")[:5] == [
        f"{2**31 * 20} 20 0 1",
        f"{10**18} 100 0 1",
        f"0 {2**40} 1 1",
        f"1 {2**40} 0 1",
        "0 1 1 1",
    ]
