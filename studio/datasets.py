"""Which dataset the studio uses, and a quick check that a path can be one (no image decoding:
the full inspection is gan_core.data.inspect_dataset, cached on the Home page)."""
from __future__ import annotations

import os
from pathlib import Path

from gan_core.config import default_data_path
from gan_core.image_files import is_dataset_member_name

ARCHIVE_SUFFIXES = {".zip", ".tfrec"}
REPO = Path(__file__).resolve().parent.parent


def uploads_dir() -> Path:
    """Where uploaded archives are kept: $GAN_STUDIO_UPLOADS, else data/uploads (git-ignored)."""
    return Path(os.environ.get("GAN_STUDIO_UPLOADS") or REPO / "data" / "uploads")


def _is_data_file(name: str) -> bool:
    # an image, a .tfrec, MNIST's raw IDX files (train-images-idx3-ubyte(.gz)), or a zip of them
    return is_dataset_member_name(name) or Path(name).suffix.lower() in ARCHIVE_SUFFIXES


def dataset_problem(path: str | os.PathLike) -> str | None:
    """Why path cannot be a dataset, or None when it looks like one."""
    p = Path(path).expanduser()
    if not p.exists():
        return f"{p} does not exist"
    if p.is_file():
        return None if _is_data_file(p.name) else f"{p} is not a dataset: choose a folder, a .zip or a .tfrec file"
    for _, _, files in os.walk(p):
        if any(_is_data_file(name) for name in files):
            return None
    return f"{p} holds no images, .zip, .tfrec or MNIST files"


def environment_dataset() -> str | None:
    """$GAN_STUDIO_DATA when set (even if unusable: an explicit choice is not second-guessed),
    else data/ in the repo when it holds a dataset."""
    path = os.environ.get("GAN_STUDIO_DATA") or default_data_path()
    return path if dataset_problem(path) is None else None


def known_datasets() -> dict[str, str]:
    """Ready-made choices: the environment's datasets and earlier uploads (label -> path)."""
    found = {}
    for variable in ("GAN_STUDIO_DATA", "GAN_STUDIO_MNIST"):
        if os.environ.get(variable):
            found[f"${variable} ({os.environ[variable]})"] = os.environ[variable]
    for archive in sorted(uploads_dir().glob("*.zip")):
        found[f"uploaded {archive.name}"] = str(archive)
    return {label: path for label, path in found.items() if dataset_problem(path) is None}
