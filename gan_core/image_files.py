"""Which file names are images: one list, shared by the data layer (training, inspection), scoring
and the studio's checks of a chosen path. PIL reads every one of them."""
from __future__ import annotations

import os

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff", ".ppm", ".pgm", ".pnm")


def is_image_name(name: str | os.PathLike) -> bool:
    """Whether a file or zip member name has one of IMAGE_EXTENSIONS (in any case)."""
    return os.fspath(name).lower().endswith(IMAGE_EXTENSIONS)


def is_dataset_member_name(name: str | os.PathLike) -> bool:
    """Whether a file or zip member can hold training images: an image, a TFRecord, or one of
    MNIST's IDX files (train-images-idx3-ubyte[.gz])."""
    text = os.fspath(name).replace("\\", "/")
    base = text.rsplit("/", 1)[-1].lower()
    return is_image_name(base) or base.endswith(".tfrec") or "-ubyte" in base
