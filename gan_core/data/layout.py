"""Which files of a dataset path hold images, and under which domain.

Tried in order: the competition layout (monet_jpg/ and photo_jpg/, or monet_tfrec/ and photo_tfrec/
for a domain without JPEGs), MNIST IDX files, TFRecord files, then any image files (recursively,
like torchvision's ImageFolder). Folders and zip archives are read the same way.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from posixpath import basename, dirname

from gan_core.data import mnist
from gan_core.data.errors import EmptyDatasetError
from gan_core.data.tree import DirTree, ZipTree, open_tree
from gan_core.image_files import IMAGE_EXTENSIONS, is_image_name

COMPETITION_FOLDERS = {"monet_jpg": ("monet", "image"), "photo_jpg": ("photo", "image"),
                       "monet_tfrec": ("monet", "tfrec"), "photo_tfrec": ("photo", "tfrec")}


@dataclass
class Member:
    name: str      # path inside the dataset
    domain: str
    format: str    # image | tfrec | idx


@dataclass
class Dataset:
    source: str
    kind: str      # competition | zip | tfrec | folder | mnist
    tree: DirTree | ZipTree
    members: list[Member]

    @property
    def native_channels(self) -> int:
        return 1 if self.members[0].format == "idx" else 3

    @property
    def native_size(self) -> int:
        return 28 if self.members[0].format == "idx" else 256

    def __enter__(self) -> "Dataset":
        return self

    def __exit__(self, *exc) -> None:
        self.tree.close()


def _competition_members(names: list[str]) -> list[Member]:
    found: dict[tuple[str, str], list[Member]] = {}
    for name in names:
        domain, fmt = COMPETITION_FOLDERS.get(basename(dirname(name)), (None, None))
        if (fmt == "image" and is_image_name(name)) or (fmt == "tfrec" and name.endswith(".tfrec")):
            found.setdefault((domain, fmt), []).append(Member(name, domain, fmt))
    members = []
    for domain in sorted({domain for domain, _ in found}):
        members += found.get((domain, "image")) or found[(domain, "tfrec")]
    return members


def _mnist_members(names: list[str]) -> list[Member]:
    chosen = {}
    for name in names:
        plain = name.removesuffix(".gz")
        if basename(plain) in mnist.IMAGE_FILES:
            # torchvision keeps both the .gz and its extracted copy: the plain file reads faster.
            key = (dirname(plain), mnist.IMAGE_FILES.index(basename(plain)))
            if key not in chosen or not name.endswith(".gz"):
                chosen[key] = name
    return [Member(chosen[key], "digits", "idx") for key in sorted(chosen)]


def _tfrec_domain(name: str) -> str:
    return next((domain for domain in ("monet", "photo") if basename(name).startswith(domain)), "images")


def _layout(names: list[str], is_archive: bool) -> tuple[str, list[Member]]:
    if members := _competition_members(names):
        return ("zip" if is_archive else "competition"), members
    if members := _mnist_members(names):
        return ("zip" if is_archive else "mnist"), members
    if members := [Member(n, _tfrec_domain(n), "tfrec") for n in names if n.endswith(".tfrec")]:
        return ("zip" if is_archive else "tfrec"), members
    return ("zip" if is_archive else "folder"), [Member(n, "images", "image") for n in names if is_image_name(n)]


def find_dataset(path: str | os.PathLike) -> Dataset:
    """Raises DatasetNotFoundError for a missing path, EmptyDatasetError when nothing usable is there."""
    tree = open_tree(path)
    kind, members = _layout(sorted(tree.stamps), tree.is_archive)
    if not members:
        tree.close()
        raise EmptyDatasetError(
            f"no images found in {path}: looked for monet_jpg/ and photo_jpg/ (or monet_tfrec/ and "
            f"photo_tfrec/), *.tfrec files, MNIST IDX files ({'[.gz], '.join(mnist.IMAGE_FILES)}[.gz]), "
            f"or image files ({' '.join(IMAGE_EXTENSIONS)}) in subfolders")
    return Dataset(str(path), kind, tree, members)
