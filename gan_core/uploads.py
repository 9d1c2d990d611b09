"""Accepting an uploaded dataset archive safely: it is streamed to disk under a size limit and
checked member by member before anything may extract or read it (a zip can name files outside
its folder, hold symlinks, or expand far beyond its own size)."""
from __future__ import annotations

import re
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from gan_core import atomic

MAX_MEMBERS = 50_000  # the competition zip holds about 7,400 files


class ArchiveError(ValueError):
    """The archive is refused; the message names the offending member."""


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "has an absolute path"
    if ".." in PurePosixPath(name).parts:
        return "points outside the archive (..)"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symbolic link"
    return None


def check_archive(path: str | Path, max_bytes: int, max_members: int = MAX_MEMBERS, label: str | None = None) -> int:
    """Raise ArchiveError unless the zip at path is safe to read; returns its member count.
    max_bytes bounds the total uncompressed size; `label` names the archive in messages (default
    its file name)."""
    label = label or Path(path).name
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as e:
        raise ArchiveError(f"{label} is not a readable zip archive ({e})") from e
    if len(members) > max_members:
        raise ArchiveError(f"{label} has {len(members):,} members, more than the {max_members:,} allowed")
    total = 0
    for info in members:
        problem = _member_problem(info)
        if problem:
            raise ArchiveError(f"refused: member {info.filename!r} {problem}")
        total += info.file_size
        if total > max_bytes:
            raise ArchiveError(f"refused: uncompressed size exceeds {max_bytes / 2**20:,.0f} MiB "
                               f"(reached at member {info.filename!r})")
    return len(members)


def save_upload(source: BinaryIO, name: str, dest_dir: str | Path, max_bytes: int,
                max_uncompressed_bytes: int) -> Path:
    """Copy an uploaded zip into dest_dir (at most max_bytes), check it, and return its path.
    A refused archive is deleted and ArchiveError raised."""
    safe_name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name) or "upload.zip"
    if not safe_name.lower().endswith(".zip"):
        raise ArchiveError(f"{name} is not a .zip file")
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / safe_name
    atomic.remove_stale_temporaries(target, ".part")
    # A unique temporary, checked before it is renamed: two uploads of one name never collide.
    with atomic.atomic_path(target, suffix=".part") as partial:
        with open(partial, "wb") as out:
            copied = 0
            while chunk := source.read(1 << 20):
                copied += len(chunk)
                if copied > max_bytes:
                    raise ArchiveError(f"{name} is larger than {max_bytes / 2**20:,.0f} MiB")
                out.write(chunk)
        check_archive(partial, max_uncompressed_bytes, label=Path(name).name)
    return target
