"""The install's Django SECRET_KEY and the settings' environment switches.

Django signs sessions, CSRF tokens and password-reset links with ``SECRET_KEY``; a key that
is public (Django's example key, a constant in the code) lets anyone forge them. So the key is

1. ``TRIALDESK_SECRET_KEY`` when that is set (a deployment's secret store), else
2. the contents of ``<var dir>/secret_key``, a file written once per install with
   ``django.core.management.utils.get_random_secret_key()`` (50 characters from a 50-symbol
   alphabet, from ``secrets``), mode 0600, in the git-ignored ``var/`` folder.

The file is created atomically (written under a temporary name, then hard-linked into
place), so two processes starting at once end up with the same key. A key file open to
group or others, an empty one, or a var folder where the file cannot be written is a clear
``ImproperlyConfigured`` naming the path and the way out; nothing falls back to a weak key.

Importable without Django settings (it is used while they load).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

KEY_FILE_NAME = "secret_key"
ENV_KEY = "TRIALDESK_SECRET_KEY"
MIN_KEY_LENGTH = 50  # Django's deploy check (security.W009) wants at least 50 characters.

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def env_flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    """``env[name]`` read as a switch: 1/true/yes/on or 0/false/no/off (any case); unset or
    empty means ``default``. Anything else is an error naming the variable."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r}: expected 1 or 0 (or true/false, yes/no, on/off)")


def secret_key(var_dir: Path, env: Mapping[str, str]) -> str:
    """The SECRET_KEY: ``env['TRIALDESK_SECRET_KEY']`` if set, else the install's key file
    under ``var_dir`` (created on first use)."""
    given = env.get(ENV_KEY)
    if given is not None:
        if len(given.strip()) < MIN_KEY_LENGTH:
            raise ImproperlyConfigured(
                f"{ENV_KEY} is {len(given.strip())} characters long; use at least "
                f"{MIN_KEY_LENGTH} random characters (python -c 'from django.core.management."
                "utils import get_random_secret_key as k; print(k())')"
            )
        return given.strip()
    return read_or_create_key_file(Path(var_dir) / KEY_FILE_NAME)


def read_or_create_key_file(path: Path) -> str:
    """The key stored in ``path``; if there is no such file, a new random key written there
    with mode 0600."""
    if not path.exists():
        _create_key_file(path)
    return _read_key_file(path)


def _way_out(path: Path) -> str:
    return (
        f"set {ENV_KEY} to a random string of at least {MIN_KEY_LENGTH} characters, or "
        f"TRIALDESK_VAR to a folder this process may write (now {path.parent})"
    )


def _create_key_file(path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(get_random_secret_key() + "\n")
                out.flush()
                os.fsync(out.fileno())
            try:
                # Atomic and never overwrites: if another process got there first, keep its key.
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise ImproperlyConfigured(
            f"cannot create the secret key file {path}: {exc.strerror or exc}; {_way_out(path)}"
        ) from exc


def _read_key_file(path: Path) -> str:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ImproperlyConfigured(f"cannot read the secret key file {path}: {exc}") from exc
    if mode & 0o077:
        raise ImproperlyConfigured(
            f"the secret key file {path} is open to group or others (mode {mode:04o}); "
            f"run: chmod 600 {path}"
        )
    if len(key) < MIN_KEY_LENGTH:
        raise ImproperlyConfigured(
            f"the secret key file {path} holds {len(key)} characters, not a key of at least "
            f"{MIN_KEY_LENGTH}; delete it to have a new one made, or {_way_out(path)}"
        )
    return key
