"""Safe extraction of the published zip archives (the Figshare set ships as zips inside a zip).

Every entry is checked before anything is written: an absolute path, a ``..`` component,
a symbolic link, or a path that resolves outside the target folder rejects the whole
archive. Files already in the target are never overwritten with different content.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from medsaliency.errors import DataError
from medsaliency.io.atomic import staged_file


def extract_archive(archive: Path, dest: Path, nested: bool = True) -> list[Path]:
    """Extract ``archive`` into ``dest``; with ``nested``, also every ``.zip`` it contains.

    Returns the files extracted (inner archives replaced by their content). Raises
    :class:`DataError` naming the archive and entry for anything unsafe or conflicting.
    """
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for path in _extract_one(archive, dest):
        if nested and path.suffix.lower() == ".zip":
            written += extract_archive(path, path.parent, nested=True)
            path.unlink()
        else:
            written.append(path)
    return written


def _extract_one(archive: Path, dest: Path) -> list[Path]:
    try:
        with zipfile.ZipFile(archive) as bundle:
            plan = [(entry, safe_target(entry, dest, archive)) for entry in bundle.infolist()]
            _refuse_conflicts(bundle, plan, archive)
            return [target for entry, target in plan if _write_entry(bundle, entry, target)]
    except zipfile.BadZipFile as exc:
        raise DataError(f"{archive}: not a readable zip archive ({exc})") from None


def safe_target(entry: zipfile.ZipInfo, dest: Path, archive: Path) -> Path:
    """Where ``entry`` would land under ``dest``; a :class:`DataError` if it could escape."""
    name = entry.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise DataError(f"{archive}: entry {name!r} has an absolute path; refusing to extract the archive")
    if ".." in parts:
        raise DataError(f"{archive}: entry {name!r} climbs out of the target with '..'; refusing to extract the archive")
    if stat.S_ISLNK(entry.external_attr >> 16):
        raise DataError(f"{archive}: entry {name!r} is a symbolic link; refusing to extract the archive")
    target = dest.joinpath(*parts).resolve()
    if not target.is_relative_to(dest.resolve()):
        raise DataError(f"{archive}: entry {name!r} resolves outside {dest}; refusing to extract the archive")
    return target


def _refuse_conflicts(bundle: zipfile.ZipFile, plan: list[tuple[zipfile.ZipInfo, Path]], archive: Path) -> None:
    for entry, target in plan:
        if entry.is_dir() or not target.exists():
            continue
        if target.is_dir() or target.stat().st_size != entry.file_size or target.read_bytes() != bundle.read(entry):
            raise DataError(f"{archive}: entry {entry.filename!r} would overwrite {target}, which differs; nothing was extracted")


def _write_entry(bundle: zipfile.ZipFile, entry: zipfile.ZipInfo, target: Path) -> bool:
    """Write one entry; False for folders and files already present with the same bytes."""
    if entry.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return False
    if target.exists():
        return False
    with staged_file(target) as staging, bundle.open(entry) as source, open(staging, "wb") as sink:
        shutil.copyfileobj(source, sink)
    return True
