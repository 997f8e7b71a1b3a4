"""Parsing in worker processes gives the same rows, in order, as parsing in-process.

The test database is SQLite in memory, where ``parse_sources`` never forks (a child must not
inherit such a connection); these tests touch no database, so they let it fork
(``forking``) and check that it did.
"""

from __future__ import annotations

import pytest
from registry_studies import make_study, write_json

from trialdesk.interop.ctgov import RecordError, iter_sources
from trialdesk.registry import importer, parsing
from trialdesk.registry.parsing import parse_sources


@pytest.fixture
def forking(monkeypatch):
    monkeypatch.setattr(parsing, "_in_memory", lambda connection: False)


def test_worker_processes_match_in_process(tmp_path, forking):
    for k in range(6):
        write_json(tmp_path / f"p{k}.json", {"studies": [make_study(f"NCT0000010{k}")]})
    bad = make_study("NCT00000200")
    bad["protocolSection"]["designModule"]["studyType"] = "TRIAL"
    write_json(tmp_path / "p3.json", [bad])
    sources = list(iter_sources([tmp_path]))

    inline = list(parse_sources(sources, 0))
    forked = list(parse_sources(sources, 2))

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


def test_workers_read_their_sources_below_the_writers_priority(forking):
    import json
    import os

    from trialdesk.interop.sources import Source
    from trialdesk.registry.parsing import WORKER_NICENESS

    def reader(k):
        def read():  # runs where the source is read: its title records who and how nice
            study = make_study(f"NCT0000040{k}")
            nice = os.getpriority(os.PRIO_PROCESS, 0)
            study["protocolSection"]["identificationModule"]["briefTitle"] = f"{os.getpid()} {nice}"
            return json.dumps([study]).encode()

        return read

    sources = [Source(f"s{k}", None, reader(k)) for k in range(4)]
    here = os.getpriority(os.PRIO_PROCESS, 0)
    read_by = [rows[0][0][1].split() for _, rows in parse_sources(sources, 2)]
    assert len(read_by) == 4
    for pid, nice in read_by:
        assert int(pid) != os.getpid()
        assert int(nice) == min(19, here + WORKER_NICENESS)


def test_a_source_unreadable_in_a_worker_fails_alone(tmp_path, forking):
    for k in range(4):
        write_json(tmp_path / f"p{k}.json", [make_study(f"NCT0000050{k}")])
    sources = list(iter_sources([tmp_path]))
    (tmp_path / "p2.json").unlink()  # listed, then gone before a worker reads it

    results = list(parse_sources(sources, 2))

    assert [name for name, _ in results] == [s.name for s in sources]
    failed = [(name, r) for name, r in results if isinstance(r, RecordError)]
    assert len(failed) == 1 and failed[0][0].endswith("p2.json")
    assert "cannot read" in str(failed[0][1])


def test_a_worker_that_dies_stops_the_parse_with_an_error(forking):
    import json
    import os
    from concurrent.futures.process import BrokenProcessPool

    from trialdesk.interop.sources import Source

    def fine(k):
        return lambda: json.dumps([make_study(f"NCT0000060{k}")]).encode()

    def killed():  # as the kernel's OOM killer would end it
        os._exit(9)

    sources = [Source("s0", None, fine(0)), Source("s1", None, killed)]
    sources += [Source(f"s{k}", None, fine(k)) for k in range(2, 5)]
    results = parse_sources(sources, 2)
    with pytest.raises(BrokenProcessPool):
        for _ in results:
            pass
    assert parsing._fork_sources == {}


def test_import_reports_the_sources_a_dead_worker_left(tmp_path):
    """A real import into a database file, whose parse worker dies on the fourth file."""
    import json
    import os
    import subprocess
    import sys

    pages = tmp_path / "pages"
    pages.mkdir()
    for k in range(6):
        write_json(pages / f"p{k}.json", [make_study(f"NCT0000070{k}")])
    script = """
import json, os, sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from trialdesk.registry import importer, parsing
real = parsing.prepare
def prepare(data, source):  # fault injection, inherited by the forked workers
    if source.endswith("p3.json"):
        os._exit(9)
    return real(data, source)
parsing.prepare = prepare
report = importer.import_paths([sys.argv[1]], workers=2)
from trialdesk.registry.models import Trial
stored = sorted(Trial.objects.values_list("nct_id", flat=True))
print(json.dumps({"created": report.created, "failures": report.failures, "stored": stored}))
"""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(TRIALDESK_VAR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE="trialdesk.web.settings")
    proc = subprocess.run(
        [sys.executable, "-c", script, str(pages)], env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])

    failed = [os.path.basename(name) for name, _ in out["failures"]]
    assert "p3.json" in failed and all(e == importer.WORKER_DIED for _, e in out["failures"])
    # Files before the one that killed the worker may be stored; each file is either
    # stored or reported, in order, never both.
    stored = [f"p{int(nct[-1])}.json" for nct in out["stored"]]
    assert stored + failed == [f"p{k}.json" for k in range(6)]
    assert out["created"] == len(stored)
