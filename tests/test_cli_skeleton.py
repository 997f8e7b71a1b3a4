"""The one ``trialdesk`` entry point and its database set-up command."""

import subprocess
import sys

from click.testing import CliRunner

from trialdesk.cli import main


def test_version_and_help_list_commands():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    assert "migrate" in result.output
    version = CliRunner().invoke(main, ["--version"])
    assert "trialdesk, version" in version.output


def test_migrate_creates_sqlite_database(tmp_path):
    env = {"TRIALDESK_VAR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "trialdesk.cli", "migrate", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "trialdesk.sqlite3").stat().st_size > 0
