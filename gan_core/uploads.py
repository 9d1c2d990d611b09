"""Accepting an uploaded dataset archive safely: it is streamed to disk under a size limit and
checked member by member before anything may extract or read it (a zip can name files outside
its folder, hold symlinks, or expand far beyond its own size).

The size limits use each member's declared uncompressed size (file_size): Python's zipfile never
returns more than that many bytes of a member (a member whose data expands further fails its
CRC check), so the declared sizes also bound what any later read decompresses. A member that
expands more than MAX_RATIO times, beyond RATIO_FLOOR bytes, is refused as a zip bomb even when the
total is within the limit (images barely compress; 200 MB of zeros deflate to 200 KB)."""
from __future__ import annotations

import re
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from gan_core import atomic
from gan_core.image_files import is_dataset_member_name

MAX_MEMBERS = 50_000  # the competition zip holds about 7,400 files
MAX_RATIO = 200                 # uncompressed / compressed size of one member
RATIO_FLOOR = 8 * 2**20         # smaller members may compress as well as they like
WHAT_TO_UPLOAD = ("upload the competition's gan-getting-started.zip as downloaded, or a zip of image files "
                  "(.jpg, .png...), .tfrec files or MNIST's IDX files")


class ArchiveError(ValueError):
    """The archive is refused; the message names the archive and the offending member."""


def _member_problem(info: zipfile.ZipInfo) -> tuple[str, str] | None:
    """(what is wrong with the member, what to do), or None."""
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "has an absolute path", "re-create the zip with relative paths inside it"
    if ".." in PurePosixPath(name).parts:
        return "points outside the archive (..)", "re-create the zip with relative paths inside it"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symbolic link", "re-create the zip with the files themselves, not links to them"
    if info.flag_bits & 0x1:
        return "is encrypted (password-protected)", "re-create the zip without a password"
    if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        return (f"expands from {info.compress_size:,} to {info.file_size:,} bytes, more than {MAX_RATIO} times "
                f"(a zip bomb)", WHAT_TO_UPLOAD)
    return None


def check_archive(path: str | Path, max_bytes: int, max_members: int = MAX_MEMBERS, label: str | None = None) -> int:
    """Raise ArchiveError unless the zip at path is safe to read; returns its member count.
    max_bytes bounds the total declared uncompressed size; `label` names the archive in messages
    (default its file name)."""
    label = label or Path(path).name
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as e:
        raise ArchiveError(f"{label} is not a readable zip archive ({e}): it may be truncated or another kind of "
                           f"file renamed .zip; {WHAT_TO_UPLOAD}") from e
    if len(members) > max_members:
        raise ArchiveError(f"{label} has {len(members):,} members, more than the {max_members:,} allowed: split it, "
                           f"or {WHAT_TO_UPLOAD}")
    total = 0
    for info in members:
        problem = _member_problem(info)
        if problem:
            raise ArchiveError(f"{label} refused: member {info.filename!r} {problem[0]}: {problem[1]}")
        total += info.file_size
        if total > max_bytes:
            raise ArchiveError(f"{label} refused: uncompressed size exceeds {max_bytes / 2**20:,.0f} MiB "
                               f"(reached at member {info.filename!r}); upload a smaller dataset")
    return len(members)


def check_dataset_archive(path: str | Path, label: str | None = None) -> None:
    """Raise ArchiveError unless the (safe) zip at path holds something to train on."""
    label = label or Path(path).name
    with zipfile.ZipFile(path) as archive:
        files = [info.filename for info in archive.infolist() if not info.is_dir()]
    if not files:
        raise ArchiveError(f"{label} is an empty zip archive: {WHAT_TO_UPLOAD}")
    if not any(is_dataset_member_name(name) for name in files):
        raise ArchiveError(f"{label} holds no images ({len(files):,} other file(s), e.g. {files[0]!r}): "
                           f"{WHAT_TO_UPLOAD}")


def save_upload(source: BinaryIO, name: str, dest_dir: str | Path, max_bytes: int,
                max_uncompressed_bytes: int) -> Path:
    """Copy an uploaded zip into dest_dir (at most max_bytes), check it, and return its path.
    A refused archive is deleted (nothing is left in dest_dir) and ArchiveError raised."""
    label = Path(str(name)).name or "the upload"
    safe_name = re.sub(r"[^A-Za-z0-9._-]", "_", label) or "upload.zip"
    if not safe_name.lower().endswith(".zip"):
        raise ArchiveError(f"{label} is not a .zip file: {WHAT_TO_UPLOAD}")
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
                    raise ArchiveError(f"{label} is larger than {max_bytes / 2**20:,.0f} MiB: upload a smaller "
                                       f"archive, or give the studio its folder path instead")
                out.write(chunk)
        check_archive(partial, max_uncompressed_bytes, label=label)
        check_dataset_archive(partial, label=label)
    return target
