"""Named byte sources from files, folders and .zip archives of JSON records."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

from trialdesk.interop.errors import SourceError


@dataclass(frozen=True)
class Source:
    """One JSON document to read: ``name`` for messages, ``read()`` for its bytes.

    ``name`` is the file path as given (``"folder/a.json"``) or, for an archive member,
    ``"<archive>!<member>"`` (``"batch.zip!inner/b.json"``). ``size`` is the byte size when
    known (for progress bars). ``read()`` opens the file or archive afresh on every call, so a
    list of sources can be read later, in any order, or from worker processes.
    """

    name: str
    size: int | None = None
    _reader: Callable[[], bytes] = field(default=None, repr=False, compare=False)  # type: ignore[assignment]

    def read(self) -> bytes:
        try:
            return self._reader()
        except (OSError, zipfile.BadZipFile, KeyError) as exc:
            raise SourceError(self.name, f"cannot read: {exc}") from None


def _file_reader(path: str) -> Callable[[], bytes]:
    def read() -> bytes:
        with open(path, "rb") as handle:
            return handle.read()

    return read


def _member_reader(archive: str, member: str) -> Callable[[], bytes]:
    def read() -> bytes:
        with zipfile.ZipFile(archive) as zf:
            return zf.read(member)

    return read


def _is_json_name(name: str) -> bool:
    return name.lower().endswith(".json")


def unsafe_member_name(name: str) -> str | None:
    """Why an archive member's name is refused (None when it is safe): an absolute path
    (``/etc/x.json``, ``\\server\\x.json``, ``C:x.json``) or one with a ``..`` part
    (``../x.json``, ``a\\..\\x.json``) names a place outside the archive -- the "zip slip"
    pattern (https://security.snyk.io/research/zip-slip-vulnerability). Nothing is ever
    extracted to disk, but such an archive was not made by an honest exporter."""
    parts = PureWindowsPath(name)  # splits on both / and \ and knows drive letters
    if name.startswith(("/", "\\")) or parts.drive or parts.root:
        return "an absolute path"
    if ".." in parts.parts:
        return "a '..' part (a path outside the archive)"
    return None


def _zip_sources(archive: str) -> Iterator[Source]:
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
    except (OSError, zipfile.BadZipFile) as exc:
        raise SourceError(archive, f"not a readable .zip archive: {exc}") from None
    for info in infos:
        why = unsafe_member_name(info.filename)
        if why is not None:
            raise SourceError(
                archive,
                f"refused: member {info.filename!r} has {why}; nothing of this archive is read",
            )
    members = [
        info
        for info in infos
        if not info.is_dir()
        and _is_json_name(info.filename)
        and not info.filename.startswith("__MACOSX/")
    ]
    if not members:
        raise SourceError(archive, "the archive holds no .json files")
    for info in sorted(members, key=lambda i: i.filename):
        yield Source(
            f"{archive}!{info.filename}", info.file_size, _member_reader(archive, info.filename)
        )


def iter_sources(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Source]:
    """Expand files, folders (recursively, ``*.json``, sorted) and ``.zip`` archives (their
    ``*.json`` members, sorted) into :class:`Source` objects.

    A path that does not exist raises :class:`SourceError` naming it -- checked for every
    path before anything is yielded, so a typo fails before any work is done. A folder or
    archive with no ``.json`` file, and an archive with a member whose name is absolute or
    has a ``..`` part (:func:`unsafe_member_name`), raise :class:`SourceError` naming it
    before any of its sources is yielded.
    """
    given = [os.fspath(p) for p in paths]
    for name in given:
        if not os.path.exists(name):
            raise SourceError(name, "no such file or folder")
    for name in given:
        if os.path.isdir(name):
            files = sorted(
                p for p in Path(name).rglob("*") if p.is_file() and _is_json_name(p.name)
            )
            if not files:
                raise SourceError(name, "the folder holds no .json files (searched recursively)")
            for path in files:
                yield Source(str(path), path.stat().st_size, _file_reader(str(path)))
        elif name.lower().endswith(".zip"):
            yield from _zip_sources(name)
        else:
            yield Source(name, os.path.getsize(name), _file_reader(name))
