"""Production-safe defaults (issue 15, item 2): DEBUG off unless asked for, and a secret key
generated once per install (mode 0600, never a constant), which TRIALDESK_SECRET_KEY
overrides; bad values are errors naming the variable or file.

The settings module is evaluated at import, so its behaviour is read in a child process with
a chosen environment (and a temporary TRIALDESK_VAR, never the repository's var/).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from trialdesk.web.install_secret import (
    KEY_FILE_NAME,
    env_flag,
    read_or_create_key_file,
    secret_key,
)

SRC = Path(__file__).resolve().parents[2] / "src"
STRONG_KEY = "k" * 30 + "0123456789abcdefghij"  # 50 characters


def settings_of(tmp_path: Path, module: str = "trialdesk.web.settings", **env: str):
    """``(returncode, values or stderr)``: DEBUG and SECRET_KEY as ``module`` computes them."""
    child_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(SRC),
        "TRIALDESK_VAR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": module,
        **env,
    }
    code = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps({'DEBUG': s.DEBUG, 'SECRET_KEY': s.SECRET_KEY, "
        "'ALLOWED_HOSTS': s.ALLOWED_HOSTS}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=child_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode == 0:
        return 0, json.loads(done.stdout)
    return done.returncode, done.stderr


# --- DEBUG ---------------------------------------------------------------------------------


def test_debug_is_off_unless_asked_for(tmp_path):
    code, values = settings_of(tmp_path)
    assert code == 0, values
    assert values["DEBUG"] is False
    code, values = settings_of(tmp_path, TRIALDESK_DEBUG="1")
    assert code == 0, values
    assert values["DEBUG"] is True
    code, values = settings_of(tmp_path, TRIALDESK_DEBUG="0")
    assert values["DEBUG"] is False


def test_a_debug_value_that_is_not_a_switch_is_an_error(tmp_path):
    code, stderr = settings_of(tmp_path, TRIALDESK_DEBUG="maybe")
    assert code != 0
    assert "TRIALDESK_DEBUG='maybe': expected 1 or 0" in stderr


@pytest.mark.parametrize(
    "raw, expected",
    [(None, False), ("", False), ("0", False), ("no", False), ("OFF", False), ("false", False)]
    + [("1", True), ("true", True), ("Yes", True), (" on ", True)],
)
def test_env_flag_values(raw, expected):
    env = {} if raw is None else {"X": raw}
    assert env_flag(env, "X") is expected


def test_env_flag_default_and_error():
    assert env_flag({}, "X", default=True) is True
    with pytest.raises(ImproperlyConfigured, match="X='2'"):
        env_flag({"X": "2"}, "X")


# --- the secret key ------------------------------------------------------------------------


def test_key_is_generated_once_with_mode_0600_and_reused(tmp_path):
    var = tmp_path / "var"
    first = secret_key(var, {})
    path = var / KEY_FILE_NAME
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 50
    assert path.read_text().strip() == first
    assert secret_key(var, {}) == first
    # Another install (another var dir) gets another key.
    assert secret_key(tmp_path / "other", {}) != first


def test_settings_use_the_install_key_and_the_same_one_next_time(tmp_path):
    code, one = settings_of(tmp_path)
    assert code == 0, one
    code, two = settings_of(tmp_path)
    assert code == 0, two
    key_file = tmp_path / "var" / KEY_FILE_NAME
    assert one["SECRET_KEY"] == two["SECRET_KEY"] == key_file.read_text().strip()
    assert not one["SECRET_KEY"].startswith("django-insecure")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_environment_key_overrides_and_writes_no_file(tmp_path):
    code, values = settings_of(tmp_path, TRIALDESK_SECRET_KEY=STRONG_KEY)
    assert code == 0, values
    assert values["SECRET_KEY"] == STRONG_KEY
    assert not (tmp_path / "var" / KEY_FILE_NAME).exists()


def test_a_short_environment_key_is_refused():
    with pytest.raises(ImproperlyConfigured, match="TRIALDESK_SECRET_KEY is 6 characters long"):
        secret_key(Path("/nonexistent"), {"TRIALDESK_SECRET_KEY": "secret"})


def test_an_unwritable_var_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ImproperlyConfigured) as err:
        secret_key(blocker / "var", {})
    message = str(err.value)
    assert f"cannot create the secret key file {blocker / 'var' / KEY_FILE_NAME}" in message
    assert "TRIALDESK_SECRET_KEY" in message and "TRIALDESK_VAR" in message


def test_settings_report_an_unwritable_var_dir(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, stderr = settings_of(tmp_path, TRIALDESK_VAR=str(blocker / "var"))
    assert code != 0
    assert "ImproperlyConfigured: cannot create the secret key file" in stderr


def test_a_key_file_open_to_others_is_refused(tmp_path):
    path = tmp_path / KEY_FILE_NAME
    path.write_text(STRONG_KEY)
    path.chmod(0o644)
    with pytest.raises(ImproperlyConfigured, match=r"open to group or others \(mode 0644\)"):
        read_or_create_key_file(path)


def test_an_empty_key_file_is_refused_not_replaced(tmp_path):
    path = tmp_path / KEY_FILE_NAME
    path.write_text("")
    path.chmod(0o600)
    with pytest.raises(ImproperlyConfigured, match="holds 0 characters"):
        read_or_create_key_file(path)
    assert path.read_text() == ""


def test_a_key_written_meanwhile_by_another_process_is_kept(tmp_path, monkeypatch):
    """Two processes starting at once: the second one's link fails and it reads the first's."""
    path = tmp_path / KEY_FILE_NAME
    real_link = os.link

    def other_process_first(src, dst):
        Path(dst).write_text(STRONG_KEY + "\n")
        Path(dst).chmod(0o600)
        return real_link(src, dst)  # now raises FileExistsError, as the race would

    monkeypatch.setattr(os, "link", other_process_first)
    assert read_or_create_key_file(path) == STRONG_KEY
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_FILE_NAME]


# --- production settings -------------------------------------------------------------------


def test_production_settings_need_allowed_hosts(tmp_path):
    code, stderr = settings_of(tmp_path, module="trialdesk.web.settings_production")
    assert code != 0
    assert "TRIALDESK_ALLOWED_HOSTS is not set" in stderr


def test_production_settings_force_debug_off(tmp_path):
    code, values = settings_of(
        tmp_path,
        module="trialdesk.web.settings_production",
        TRIALDESK_ALLOWED_HOSTS="trials.example.org, www.trials.example.org",
        TRIALDESK_DEBUG="1",
    )
    assert code == 0, values
    assert values["DEBUG"] is False
    assert values["ALLOWED_HOSTS"] == ["trials.example.org", "www.trials.example.org"]
