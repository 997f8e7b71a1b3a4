"""Parsing in worker processes gives the same rows, in order, as parsing in-process."""

from __future__ import annotations

import pytest
from registry_studies import make_study, write_json

from trialdesk.interop.ctgov import RecordError, iter_sources
from trialdesk.registry.importer import _prepared


def test_worker_processes_match_in_process(tmp_path):
    for k in range(6):
        write_json(tmp_path / f"p{k}.json", {"studies": [make_study(f"NCT0000010{k}")]})
    bad = make_study("NCT00000200")
    bad["protocolSection"]["designModule"]["studyType"] = "TRIAL"
    write_json(tmp_path / "p3.json", [bad])
    sources = list(iter_sources([tmp_path]))

    inline = list(_prepared(sources, 0))
    forked = list(_prepared(sources, 2))

    assert [name for name, _ in forked] == [s.name for s in sources]
    for (name_a, a), (name_b, b) in zip(inline, forked, strict=True):
        assert name_a == name_b
        if isinstance(a, RecordError):
            assert isinstance(b, RecordError) and str(a) == str(b)
            assert b.path == "$[0].protocolSection.designModule.studyType"
        else:
            assert a == b
    assert sum(isinstance(p, RecordError) for _, p in forked) == 1


@pytest.mark.django_db(transaction=True)
def test_import_with_workers_in_a_real_transaction(tmp_path):
    from trialdesk.registry.importer import import_paths
    from trialdesk.registry.models import Trial

    for k in range(5):
        write_json(tmp_path / f"p{k}.json", [make_study(f"NCT0000030{k}")])
    report = import_paths([tmp_path], workers=2)
    assert report.ok and report.created == 5
    assert Trial.objects.count() == 5
