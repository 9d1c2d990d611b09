"""Decoded images cached on disk, so every file is decoded once per resolution and channel count.

<cache dir>/<key>-<size>px-<channels>ch.npy   uint8 [N, C, H, W], written with open_memmap
<cache dir>/<key>-<size>px-<channels>ch.json  names, domains, report

The key hashes the format version, the dataset's location and every member's name, domain, size
and mtime (for a zip: the archive's size and mtime, and each member's size and CRC). Both files are
written under unique temporary names (gan_core.atomic) and renamed once complete, the sidecar last:
an interrupted build never leaves a cache that looks valid.

A build holds `.<stem>.lock` (filelock) from its first check to its last rename: a second builder
of the same cache (another thread, tab or process) waits for the first and then reuses its result
instead of decoding everything again. The lock dies with its process, so a killed build never
blocks the next one; the next one removes the killed one's temporaries.
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout
from numpy.lib.format import open_memmap

from gan_core import atomic, locations
from gan_core.data.decode import SkippedImage, decode_image
from gan_core.data.errors import DatasetError
from gan_core.data.layout import Dataset
from gan_core.data.records import count_records, iter_records
from gan_core.data.report import InspectionReport
from gan_core.events import emit

FORMAT_VERSION = 2  # bump whenever decoding changes what a cache holds


@dataclass
class Cached:
    pixels: np.ndarray   # uint8 [N, C, H, W], the memory-mapped .npy (copy-on-write)
    names: list[str]
    domains: list[str]
    report: InspectionReport


def domain_rows(domains: list[str], name: str) -> tuple[list[int], slice | list[int]]:
    """The indices of `name`'s images, and what selects them: a slice when they are stored
    contiguously (as caches store domains, so selecting is a view, not a copy), else the indices."""
    indices = [i for i, d in enumerate(domains) if d == name]
    contiguous = indices and indices[-1] - indices[0] + 1 == len(indices)
    return indices, slice(indices[0], indices[-1] + 1) if contiguous else indices


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """The explicit argument, then $GAN_STUDIO_CACHE, then the platform's user cache folder
    (~/.cache/monet-gan-studio on Linux; gan_core.locations)."""
    return locations.cache_root(cache_dir)


def dataset_key(dataset: Dataset) -> str:
    stamps = dataset.tree.stamps
    description = [FORMAT_VERSION, dataset.kind, dataset.tree.identity(),
                   [[m.name, m.domain, *stamps[m.name]] for m in dataset.members]]
    return hashlib.sha256(json.dumps(description).encode()).hexdigest()[:24]


def cache_stem(key: str, image_size: int, channels: int) -> str:
    return f"{key}-{image_size}px-{channels}ch"


def existing_stems(root: Path, key: str) -> list[str]:
    return sorted(path.stem for path in root.glob(f"{key}-*px-*ch.json"))


def read_cache(root: Path, stem: str) -> Cached | None:
    """The cached images, or None when absent, stale or damaged."""
    try:
        meta = json.loads((root / f"{stem}.json").read_text())
        if meta["format_version"] != FORMAT_VERSION:
            return None
        # Copy-on-write mapping: torch needs a writable array, and the file must stay untouched.
        pixels = np.load(root / f"{stem}.npy", mmap_mode="c")
        if pixels.dtype != np.uint8 or pixels.ndim != 4 or len(pixels) != len(meta["names"]):
            return None
        return Cached(pixels, meta["names"], meta["domains"],
                      InspectionReport.from_dict(meta["report"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def lock_path(root: Path, stem: str) -> Path:
    return root / f".{stem}.lock"


def _remove_abandoned(root: Path, stem: str) -> None:
    """Temporary files of earlier builds of this cache (killed mid-build). Called with the cache's
    lock held: no other builder of it is running, so every temporary of it is abandoned."""
    lock = lock_path(root, stem).name
    for path in root.glob(f".{glob.escape(stem)}.*"):
        if path.name != lock:
            path.unlink(missing_ok=True)


def _decode_into(pixels: np.ndarray, dataset: Dataset, report: InspectionReport,
                 callbacks) -> tuple[list[str], list[str]]:
    """Decode every record into the rows of `pixels`, in order; returns the kept names and domains."""
    total, (_, channels, image_size, _) = len(pixels), pixels.shape
    native_mode = "L" if dataset.native_channels == 1 else "RGB"
    names, domains = [], []
    every = max(1, total // 100)
    emit(callbacks, "progress", task="decode", done=0, total=total)
    for done, record in enumerate(iter_records(dataset), 1):
        if done % every == 0 and done < total:
            emit(callbacks, "progress", task="decode", done=done, total=total)
        if record.problem:
            report.skipped.append((record.name, record.problem))
            continue
        try:
            decoded = decode_image(record.payload, image_size, channels, native_mode)
        except SkippedImage as e:
            report.skipped.append((record.name, str(e)))
            continue
        if len(names) == total:
            raise DatasetError(f"{dataset.source} changed while its cache was being built; run again")
        pixels[len(names)] = decoded.pixels
        names.append(record.name)
        domains.append(record.domain)
        report.counts[record.domain] += 1
        report.resized += decoded.resized
        width, height = decoded.original_size
        report.original_sizes[f"{width}x{height}"] = report.original_sizes.get(f"{width}x{height}", 0) + 1
        if decoded.conversion:
            report.converted.append((record.name, decoded.conversion))
    emit(callbacks, "progress", task="decode", done=total, total=total)
    return names, domains


def build_cache(dataset: Dataset, image_size: int, channels: int, root: Path, callbacks=None) -> Cached:
    """Decode every record into a new cache, or return the one another builder finished while this
    one waited for its lock (emitting a "log" event while it waits). When no image is usable,
    nothing is written and the result is empty (its report says why)."""
    stem = cache_stem(dataset_key(dataset), image_size, channels)
    root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(lock_path(root, stem))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        emit(callbacks, "log", message=f"waiting for another build of the cache of {dataset.source} "
                                       f"at {image_size}px to finish (lock {lock.lock_file})")
        lock.acquire()
    try:
        if (built := read_cache(root, stem)) is not None:  # finished while this builder waited
            return built
        _remove_abandoned(root, stem)
        return _build_locked(dataset, image_size, channels, root, stem, callbacks)
    finally:
        lock.release()


def _build_locked(dataset: Dataset, image_size: int, channels: int, root: Path, stem: str, callbacks) -> Cached:
    report = InspectionReport(dataset.source, dataset.kind, image_size, channels,
                              counts={member.domain: 0 for member in dataset.members})
    target = root / f"{stem}.npy"
    # Both temporaries are removed when the block ends, unless renamed into place; no fsync: a
    # cache lost to a power cut is rebuilt (its sidecar, renamed last, is checked against it).
    with atomic.temporary_path(target) as scratch, atomic.temporary_path(target) as exact:
        pixels = open_memmap(scratch, mode="w+", dtype=np.uint8,
                             shape=(count_records(dataset), channels, image_size, image_size))
        names, domains = _decode_into(pixels, dataset, report, callbacks)
        if not names:
            return Cached(np.empty((0, channels, image_size, image_size), dtype=np.uint8), [], [], report)
        array_file = scratch
        if len(names) < len(pixels):  # files were skipped: the .npy must hold exactly the usable rows
            with open(exact, "wb") as f:
                np.save(f, pixels[:len(names)])
            array_file = exact
        else:
            pixels.flush()
        del pixels  # unmapped before the rename
        meta = {"format_version": FORMAT_VERSION, "names": names, "domains": domains, "report": report.to_dict()}
        atomic.commit(array_file, target, fsync=False)
        atomic.write_text(root / f"{stem}.json", json.dumps(meta), fsync=False)
    return read_cache(root, stem)
