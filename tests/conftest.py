"""Suite-wide fixtures and the browser-test gate.

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
