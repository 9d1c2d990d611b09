"""Which dataset the studio uses, and a quick check that a path can be one (no image decoding:
the full inspection is gan_core.data.inspect_dataset, cached on the Home page)."""
from __future__ import annotations

import functools
import os
import zipfile
from pathlib import Path

from gan_core.config import default_data_path
from gan_core.image_files import is_dataset_member_name

ARCHIVE_SUFFIXES = {".zip", ".tfrec"}
REPO = Path(__file__).resolve().parent.parent
# Where uploads were kept before: inside the default dataset folder data/, which they then made
# look like a dataset. Still listed among the known datasets, never counted as part of data/.
LEGACY_UPLOADS = REPO / "data" / "uploads"


def uploads_dir() -> Path:
    """Where uploaded archives are kept: $GAN_STUDIO_UPLOADS, else uploads/ in the repo (git-ignored;
    outside data/, the default dataset folder)."""
    return Path(os.environ.get("GAN_STUDIO_UPLOADS") or REPO / "uploads")


def upload_folders() -> list[Path]:
    """The uploads folder and, when it is another one, the old data/uploads."""
    folders = [uploads_dir()]
    if _resolved(LEGACY_UPLOADS) != _resolved(folders[0]):
        folders.append(LEGACY_UPLOADS)
    return folders


def _resolved(path: Path) -> Path:
    return Path(os.path.realpath(path.expanduser()))


def _is_data_file(name: str) -> bool:
    # an image, a .tfrec, MNIST's raw IDX files (train-images-idx3-ubyte(.gz)), or a zip of them
    return is_dataset_member_name(name) or Path(name).suffix.lower() in ARCHIVE_SUFFIXES


def zip_problem(path: str | os.PathLike) -> str | None:
    """Why the zip at path cannot be a dataset (it does not open, or holds no images), or None.
    Reads only its central directory (a 370 MB competition zip in milliseconds, and once per
    version of the file)."""
    p = Path(path)
    stat = p.stat()
    return _zip_problem(str(p), str(_resolved(p)), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _zip_problem(shown: str, real: str, size: int, mtime_ns: int) -> str | None:
    try:
        with zipfile.ZipFile(real) as archive:
            names = [info.filename for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as e:
        reason = " ".join(str(e).split()) or type(e).__name__
        return (f"{shown} is not a readable zip archive ({reason}): it may be truncated (an interrupted download "
                f"or copy) or another kind of file renamed .zip; download or create it again")
    if not names:
        return f"{shown} is an empty zip archive"
    if not any(is_dataset_member_name(name) for name in names):
        return f"{shown} holds no images, .tfrec or MNIST files ({len(names):,} other file(s), e.g. {names[0]!r})"
    return None


def dataset_problem(path: str | os.PathLike, ignore: tuple[Path, ...] = ()) -> str | None:
    """Why path cannot be a dataset, or None when it looks like one (one line). A zip must open
    and hold images; a folder must hold a data file outside the `ignore` folders."""
    p = Path(path).expanduser()
    if not os.fspath(path):
        return "no dataset path given"
    if not p.exists():
        return f"{p} does not exist"
    if p.is_file():
        if not _is_data_file(p.name):
            return f"{p} is not a dataset: choose a folder, a .zip or a .tfrec file"
        try:
            return zip_problem(p) if p.suffix.lower() == ".zip" else None
        except OSError as e:
            return f"{p} cannot be read: {e.strerror or e}"
    skipped = {_resolved(folder) for folder in ignore}
    if _resolved(p) in skipped:
        return f"{p} is the studio's uploads folder: choose one of the uploaded zips in it"
    for root, dirs, files in os.walk(p):
        dirs[:] = [d for d in dirs if _resolved(Path(root, d)) not in skipped]
        if any(_is_data_file(name) for name in files):
            return None
    return f"{p} holds no images, .zip, .tfrec or MNIST files"


def environment_problem() -> tuple[str, str | None]:
    """(the environment's dataset: $GAN_STUDIO_DATA, else data/ in the repo; why it cannot be used
    or None). The uploads folders are never part of it: a folder holding only uploads is no dataset."""
    path = os.environ.get("GAN_STUDIO_DATA") or default_data_path()
    return path, dataset_problem(path, ignore=tuple(upload_folders()))


def environment_dataset() -> str | None:
    """$GAN_STUDIO_DATA, else data/ in the repo, when it holds a dataset (not counting uploads)."""
    path, problem = environment_problem()
    return path if problem is None else None


def known_datasets(recent: list[str] = ()) -> dict[str, str]:
    """Ready-made choices (label -> path): the environment's datasets, earlier uploads, then the
    recently used paths not already listed; only those that can be used now."""
    found = {}
    for variable in ("GAN_STUDIO_DATA", "GAN_STUDIO_MNIST"):
        if os.environ.get(variable):
            found[f"${variable} ({os.environ[variable]})"] = os.environ[variable]
    for folder in upload_folders():
        for archive in sorted(folder.glob("*.zip")):
            found[f"uploaded {archive.name}" + ("" if folder == uploads_dir() else f" ({folder})")] = str(archive)
    listed = {_resolved(Path(path)) for path in found.values()}
    for path in recent:
        if _resolved(Path(path)) not in listed:
            found[f"recently used: {path}"] = path
            listed.add(_resolved(Path(path)))
    return {label: path for label, path in found.items() if dataset_problem(path) is None}
