"""``django-admin check --deploy`` is clean with the production settings, and the production
static-files step (``collectstatic``) works (issue 15, item 2; docs/web.md, "Running in
production"). Each runs in a child process with its own environment and a temporary var dir.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def django_admin(tmp_path: Path, module: str, *args: str, **env: str):
    child_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(SRC),
        "TRIALDESK_VAR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": module,
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "django", *args],
        env=child_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_deploy_check_is_clean_with_the_production_settings(tmp_path):
    done = django_admin(
        tmp_path,
        "trialdesk.web.settings_production",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        TRIALDESK_ALLOWED_HOSTS="trials.example.org",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout
    assert "WARNING" not in done.stderr


def test_deploy_check_flags_the_workstation_settings(tmp_path):
    """The workstation settings are not for a public server; the check says so (and so
    proves it is looking)."""
    done = django_admin(
        tmp_path, "trialdesk.web.settings", "check", "--deploy", "--fail-level", "WARNING"
    )
    assert done.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in done.stderr


def test_collectstatic_makes_hashed_compressed_copies(tmp_path):
    static_root = tmp_path / "collected"
    done = django_admin(
        tmp_path,
        "trialdesk.web.settings_production",
        "collectstatic",
        "--noinput",
        "--verbosity",
        "0",
        TRIALDESK_ALLOWED_HOSTS="trials.example.org",
        TRIALDESK_STATIC_ROOT=str(static_root),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((static_root / "staticfiles.json").read_text())
    hashed = manifest["paths"]["trialdesk/site.css"]
    assert hashed != "trialdesk/site.css" and hashed.endswith(".css")
    assert (static_root / hashed).is_file()
    assert (static_root / f"{hashed}.gz").is_file()
