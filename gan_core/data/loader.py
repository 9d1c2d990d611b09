"""The entry points: load_images (for training and export), load_pixels (the same images as numpy
arrays, for the studio's Dataset EDA page) and inspect_dataset (for the `inspect` command and the
studio's data page)."""
from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING

from gan_core.data.cache import Cached, build_cache, cache_root, cache_stem, dataset_key, existing_stems, read_cache
from gan_core.data.errors import EmptyDatasetError
from gan_core.data.layout import find_dataset
from gan_core.data.report import InspectionReport

if TYPE_CHECKING:
    from gan_core.data.imageset import ImageSet


def load_pixels(path: str | os.PathLike, image_size: int, channels: int | None = None,
                cache_dir: str | os.PathLike | None = None, callbacks=None) -> Cached:
    """What load_images returns, as the cache's numpy arrays: pixels uint8 [N, C, image_size, image_size]
    (memory-mapped), names, domains and the report. Needs no torch (the studio's Dataset EDA page)."""
    if image_size < 1:
        raise ValueError(f"image_size must be positive, got {image_size}")
    with find_dataset(path) as dataset:
        channels = channels or dataset.native_channels
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        root = cache_root(cache_dir)
        cached = (read_cache(root, cache_stem(dataset_key(dataset), image_size, channels))
                  or build_cache(dataset, image_size, channels, root, callbacks))
    report = dataclasses.replace(cached.report, source=str(path))
    if not cached.names:
        example = f"; first: {report.skipped[0][0]}: {report.skipped[0][1]}" if report.skipped else ""
        raise EmptyDatasetError(f"no usable images in {path}: {len(report.skipped)} skipped{example}")
    return dataclasses.replace(cached, report=report)


def load_images(path: str | os.PathLike, image_size: int, channels: int | None = None,
                cache_dir: str | os.PathLike | None = None, callbacks=None) -> ImageSet:
    """All usable images of a dataset as uint8 [N, C, image_size, image_size], decoded once and then
    read from the cache. channels None keeps the source's own: 3, or 1 for MNIST. Emits "progress"
    events while decoding."""
    cached = load_pixels(path, image_size, channels, cache_dir, callbacks)
    import torch

    from gan_core.data.imageset import ImageSet  # torch: imported here, load_pixels and inspect_dataset need none

    return ImageSet(torch.from_numpy(cached.pixels), cached.names, cached.domains, cached.report, str(path))


def inspect_dataset(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None,
                    callbacks=None) -> InspectionReport:
    """What load_images finds in a dataset. Reuses any cache of it (preferring the source's native
    resolution); otherwise decodes it once at that resolution, leaving a cache behind. A dataset
    whose files are all skipped gives a report with a total of 0."""
    with find_dataset(path) as dataset:
        root = cache_root(cache_dir)
        key = dataset_key(dataset)
        native = cache_stem(key, dataset.native_size, dataset.native_channels)
        for stem in [native] + existing_stems(root, key):
            if cached := read_cache(root, stem):
                break
        else:
            cached = build_cache(dataset, dataset.native_size, dataset.native_channels, root, callbacks)
    return dataclasses.replace(cached.report, source=str(path))
