"""``trialdesk synth registry N OUT_DIR``."""

import json

from click.testing import CliRunner

from trialdesk.cli import main
from trialdesk.interop.ctgov import iter_sources, load_studies


def test_synth_registry_writes_pages(tmp_path):
    out = tmp_path / "pages"
    result = CliRunner().invoke(
        main, ["synth", "registry", "250", str(out), "--seed", "5", "--page-size", "100", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["records"], summary["pages"], summary["seed"]) == (250, 3, 5)
    studies = [s for src in iter_sources([out]) for s in load_studies(src.read(), src.name)]
    assert len(studies) == 250 and studies[0].nct_id == "NCT90000000"


def test_synth_registry_rejects_bad_input(tmp_path):
    result = CliRunner().invoke(main, ["synth", "registry", "-5", str(tmp_path)])
    assert result.exit_code != 0 and "-5" in result.output
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = CliRunner().invoke(main, ["synth", "registry", "3", str(blocker / "sub")])
    assert result.exit_code != 0
    assert "cannot write pages" in result.output and str(blocker) in result.output
