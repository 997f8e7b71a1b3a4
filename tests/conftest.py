"""Suite-wide fixtures and the browser-test gate.

- Tests marked ``sqlite_only`` are deselected when ``DATABASE_URL`` names PostgreSQL, and
  tests marked ``postgres_only`` when it does not.
- Browser tests (``@pytest.mark.browser``) drive Debian's Chromium at ``/usr/bin/chromium``.
  Where it is not installed they are marked skipped at collection, except under ``CI=true``:
  CI installs Chromium, so there they always run (and fail if Chromium is missing).
- ``seed_trials``: the two seed trials (``protocols/*/record.json``) imported through the
  registry importer, as the site would hold them.
- ``import_records``: import hand-made CT.gov study dicts the same way.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SEED_IDS = ("NCT05227846", "NCT05331872")


def pytest_collection_modifyitems(config, items):
    # Tests of SQLite-only parts (``@pytest.mark.sqlite_only``) are deselected, not skipped,
    # in the PostgreSQL run, and tests of PostgreSQL-only parts (``postgres_only``: row
    # locks between connections, COPY) in the SQLite run: there is nothing of theirs to test.
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    other = "sqlite_only" if on_postgres else "postgres_only"
    kept = [i for i in items if other not in i.keywords]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if other in i.keywords])
        items[:] = kept
    if CHROMIUM.exists() or os.environ.get("CI") == "true":
        return
    skip = pytest.mark.skipif(
        True,
        reason=f"{CHROMIUM} is not installed (apt-get install chromium); CI=true runs these",
    )
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


def seed_record_paths() -> list[Path]:
    paths = [REPO / "protocols" / nct / "record.json" for nct in SEED_IDS]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"seed records missing: {', '.join(missing)}")
    return paths


def _import(paths):
    from trialdesk.registry.importer import import_paths

    report = import_paths(paths)
    assert report.ok, report.summary()
    return report


@pytest.fixture
def seed_trials(db):
    """Import the two seed records; returns their paths."""
    paths = seed_record_paths()
    _import(paths)
    return paths


@pytest.fixture
def import_records(db, tmp_path):
    """``import_records(*studies)`` imports CT.gov study dicts (one file per call)."""
    calls = []

    def run(*studies: dict):
        path = tmp_path / f"records-{len(calls)}.json"
        path.write_text(json.dumps({"studies": list(studies)}), encoding="utf-8")
        calls.append(path)
        return _import([path])

    return run


class _TextOfPage:
    """The visible text of an HTML page, whitespace-collapsed (scripts and styles dropped)."""

    def __call__(self, html: str | bytes) -> str:
        from html.parser import HTMLParser

        parts: list[str] = []
        skip = 0

        class Parser(HTMLParser):
            def handle_starttag(self, tag, attrs):
                nonlocal skip
                if tag in ("script", "style", "template"):
                    skip += 1
                if tag in ("li", "p", "dt", "dd", "h1", "h2", "h3", "br", "div", "section"):
                    parts.append(" ")

            def handle_endtag(self, tag):
                nonlocal skip
                if tag in ("script", "style", "template") and skip:
                    skip -= 1

            def handle_data(self, data):
                if not skip:
                    parts.append(data)

        parser = Parser(convert_charrefs=True)
        parser.feed(html.decode() if isinstance(html, bytes) else html)
        parser.close()
        return " ".join("".join(parts).split())


@pytest.fixture
def page_text():
    """``page_text(html)``: the visible text of a page, for checking what a reader sees."""
    return _TextOfPage()
