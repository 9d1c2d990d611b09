"""Dataset statistics for the studio's EDA page, computed over the cached uint8 arrays.

Images are analysed at ANALYSIS_SIZE, in chunks of CHUNK_PIXELS so memory stays bounded
whatever the dataset size. One np.bincount per chunk gives every image's per-channel
histogram; channel histograms and per-image mean/std are read off those counts exactly.
HSV is a vectorised float conversion of a regular sample of the same pixels.

numpy only, no torch: the page's first visit does not wait seconds for torch to import.
"""
from __future__ import annotations

import json
import os
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gan_core import atomic
from gan_core.data import inspect_dataset, load_pixels
from gan_core.data.cache import Cached, cache_root, cache_stem, dataset_key, domain_rows
from gan_core.data.layout import find_dataset
from gan_core.events import emit

# The default training resolution, so its cache is usually built already, and what the models see.
# 16x fewer pixels than 256 keeps the full 7,338-image pass to seconds on 2 cores; colour
# distributions barely move when downsampled; per-image std loses the finest texture.
ANALYSIS_SIZE = 64
# Pixels per channel in one chunk (256 images at 64 px): ~25 MB of int64 bin indices for RGB.
# numpy runs each op on one thread, so small chunks cost no sync and stay in cache: faster than 2,048.
CHUNK_PIXELS = 256 * 64 * 64
HUE_BINS = 36          # 10 degrees each
SATURATION_BINS = 32
VALUE_BINS = 32
HSV_STRIDE = 4         # HSV from every 4th pixel each way: 256 pixels per 64 px image
LEVELS = np.arange(256, dtype=np.float64)


@dataclass
class DomainStats:
    name: str
    channel_histogram: np.ndarray    # int64 [C, 256] pixel counts per channel and value
    image_mean: np.ndarray           # float32 [N] mean intensity of each image over all channels, 0-255
    image_std: np.ndarray            # float32 [N] std of the same pixels
    channel_means: np.ndarray        # float32 [N, C] mean of each channel per image, 0-255
    hsv_histograms: dict[str, np.ndarray] | None  # int64 hue/saturation/value pixel counts (RGB only)
    image_saturation: np.ndarray | None  # float32 [N] mean saturation per image, 0-1 (RGB only)
    names: list[str] | None = None   # the images' names in the dataset, in the order of the arrays

    @property
    def count(self) -> int:
        return len(self.image_mean)

    @property
    def channels(self) -> int:
        return self.channel_histogram.shape[0]

    def channel_density(self) -> np.ndarray:
        """[C, 256] fraction of each channel's pixels at each value: domains of any size compare."""
        return self.channel_histogram / np.maximum(self.channel_histogram.sum(1, keepdims=True), 1)

    def hsv_density(self) -> dict[str, np.ndarray]:
        return {k: h / max(h.sum(), 1) for k, h in (self.hsv_histograms or {}).items()}


@dataclass
class DatasetStats:
    source: str
    analysis_size: int
    domains: dict[str, DomainStats]
    image_sizes: pd.DataFrame      # size (the files' own, W×H), images
    seconds: float                 # of the statistics pass that computed them
    from_file: bool = False        # read back from the statistics file (analyse) instead of computed now


def per_image_histograms(images: np.ndarray) -> np.ndarray:
    """[N, C, H, W] uint8 -> int64 [N, C, 256] counts: one bincount, each (image, channel) offset into its own bins."""
    n, c = images.shape[:2]
    offsets = (np.arange(n * c, dtype=np.intp) * 256).reshape(n, c, 1, 1)
    indices = np.add(images, offsets, dtype=np.intp)  # intp: what bincount counts without another copy
    return np.bincount(indices.reshape(-1), minlength=n * c * 256).reshape(n, c, 256)


def intensity_moments(histograms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From [N, C, 256] counts: per-image mean and std over all channels, and per-channel means
    (float32, computed in float64)."""
    counts = histograms.astype(np.float64)
    pixels = counts.sum(2)                                   # [N, C]
    sums = counts @ LEVELS
    total = pixels.sum(1)
    mean = sums.sum(1) / total
    second = (counts @ LEVELS ** 2).sum(1) / total
    std = np.sqrt(np.maximum(second - mean ** 2, 0))
    return mean.astype(np.float32), std.astype(np.float32), (sums / pixels).astype(np.float32)


def rgb_to_hsv(images: np.ndarray) -> np.ndarray:
    """[N, 3, H, W] uint8 RGB -> [N, 3, H, W] float32: hue in degrees [0, 360), saturation and value
    in [0, 1]. Achromatic pixels (R = G = B) get hue 0, as colorsys does."""
    images = np.ascontiguousarray(images)  # a strided sample: the passes below run twice as fast on a copy
    value8 = images.max(1)
    value, chroma = value8.astype(np.float32), (value8 - images.min(1)).astype(np.float32)
    r, g, b = images.astype(np.float32).transpose(1, 0, 2, 3)
    safe_chroma = np.maximum(chroma, 1)
    sector = np.where(value == r, (g - b) / safe_chroma,
                      np.where(value == g, (b - r) / safe_chroma + 2, (r - g) / safe_chroma + 4))
    # sector % 6, for sector in [-1, 5]: only [-1, 0) moves, by 6. A float % costs more than all the rest.
    hue = np.where(chroma > 0, np.where(sector < 0, sector + 6, sector) * 60, np.float32(0))
    return np.stack([hue, chroma / np.maximum(value, 1), value / 255], 1)


def _bin(values: np.ndarray, upper: float, bins: int) -> np.ndarray:
    return np.clip((values * (bins / upper)).astype(np.intp), 0, bins - 1)


def bin_centres(bins: int, upper: float) -> list[float]:
    """The centre of each of `bins` equal bins over [0, upper), the ranges _bin divides."""
    return [(i + 0.5) * upper / bins for i in range(bins)]


def hsv_bin_centres() -> dict[str, list[float]]:
    """hsv_histograms' bins as values: hue in degrees, saturation and value in [0, 1]."""
    return {"hue": bin_centres(HUE_BINS, 360), "saturation": bin_centres(SATURATION_BINS, 1),
            "value": bin_centres(VALUE_BINS, 1)}


def hsv_histograms(hsv: np.ndarray) -> dict[str, np.ndarray]:
    """Pixel counts of hue (chromatic pixels only: grey has no hue), saturation and value."""
    hue, saturation, value = hsv.transpose(1, 0, 2, 3)
    # Achromatic pixels go to an extra last bin that is dropped: cheaper than boolean indexing.
    hue_bins = np.where(saturation > 0, _bin(hue, 360, HUE_BINS), HUE_BINS)
    return {
        "hue": np.bincount(hue_bins.reshape(-1), minlength=HUE_BINS + 1)[:HUE_BINS],
        "saturation": np.bincount(_bin(saturation, 1, SATURATION_BINS).reshape(-1), minlength=SATURATION_BINS),
        "value": np.bincount(_bin(value, 1, VALUE_BINS).reshape(-1), minlength=VALUE_BINS),
    }


def domain_stats(name: str, images: np.ndarray, callbacks=None, done_before: int = 0,
                 total: int | None = None, names: list[str] | None = None) -> DomainStats:
    """Statistics of one domain's [N, C, H, W] uint8 images, a chunk of CHUNK_PIXELS at a time."""
    n, c, h, w = images.shape
    chunk_size = max(1, CHUNK_PIXELS // (h * w))
    colour = c == 3
    channel_histogram = np.zeros((c, 256), dtype=np.int64)
    means, stds, channel_means, saturations = [], [], [], []
    hsv_counts: dict[str, np.ndarray] = {}
    for start in range(0, n, chunk_size):
        chunk = images[start:start + chunk_size]
        histograms = per_image_histograms(chunk)
        channel_histogram += histograms.sum(0)
        mean, std, per_channel = intensity_moments(histograms)
        means.append(mean)
        stds.append(std)
        channel_means.append(per_channel)
        if colour:
            # A regular pixel sample keeps the colour distribution unbiased (averaging neighbours
            # would desaturate it) at 1/16 of the conversion cost, the pass's most expensive part.
            hsv = rgb_to_hsv(chunk[..., ::HSV_STRIDE, ::HSV_STRIDE])
            saturations.append(hsv[:, 1].mean((1, 2)))
            for key, counts in hsv_histograms(hsv).items():
                hsv_counts[key] = hsv_counts.get(key, 0) + counts
        emit(callbacks, "progress", task="statistics", done=done_before + min(start + chunk_size, n), total=total or n)
    return DomainStats(name, channel_histogram, np.concatenate(means), np.concatenate(stds),
                       np.concatenate(channel_means), hsv_counts if colour else None,
                       np.concatenate(saturations) if colour else None, names)


def image_size_table(inspection) -> pd.DataFrame:
    """The files' own sizes (width x height), most common first, from the inspection report."""
    rows = [{"size": size.replace("x", "×"), "images": count}
            for size, count in sorted(inspection.original_sizes.items(), key=lambda kv: -kv[1])]
    return pd.DataFrame(rows, columns=["size", "images"])


def dataset_stats(data: Cached, inspection, callbacks=None) -> DatasetStats:
    """Per-domain statistics of load_pixels' result; `inspection` is the dataset's InspectionReport."""
    started = time.perf_counter()
    done, domains = 0, {}
    for name in sorted(set(data.domains)):
        indices, rows = domain_rows(data.domains, name)
        domains[name] = domain_stats(name, data.pixels[rows], callbacks, done, len(data.pixels),
                                     [data.names[i] for i in indices])
        done += len(indices)
    return DatasetStats(data.report.source, data.pixels.shape[-1], domains,
                        image_size_table(inspection), time.perf_counter() - started)


def analyse(path: str | os.PathLike, image_size: int = ANALYSIS_SIZE, cache_dir: str | os.PathLike | None = None,
            callbacks=None) -> DatasetStats:
    """The dataset's statistics at the analysis size. Computed once per version of the dataset (its decoded
    cache is built the first time) and kept beside the decoded cache, under the same key: a later call, in
    any process, reads them back unless a file of the dataset changed."""
    with find_dataset(path) as dataset:
        size = min(image_size, dataset.native_size)  # never upscaled pixels: MNIST is analysed at its 28
        stem = cache_stem(dataset_key(dataset), size, dataset.native_channels)
    stats_path = cache_root(cache_dir) / f"eda-{stem}.npz"
    stats = read_stats(stats_path, str(path))
    if stats is None:
        data = load_pixels(path, size, cache_dir=cache_dir, callbacks=callbacks)
        # Reuses a cache (the native-resolution one when the Home page built it, else the one just loaded).
        stats = dataset_stats(data, inspect_dataset(path, cache_dir=cache_dir), callbacks)
        write_stats(stats_path, stats)
    return stats


# --- the statistics file: npz arrays (no pickles) and a JSON header ------------------------------------
STATS_VERSION = 2  # bump whenever what the statistics hold changes
_ARRAYS = ("channel_histogram", "image_mean", "image_std", "channel_means", "image_saturation")


def write_stats(path: Path, stats: DatasetStats) -> None:
    """Atomically (gan_core.atomic); a folder that cannot be written only costs the next call a new pass."""
    header = {"version": STATS_VERSION, "analysis_size": stats.analysis_size, "seconds": stats.seconds,
              "domains": list(stats.domains), "image_sizes": stats.image_sizes.to_dict("records")}
    arrays = {"header": np.array(json.dumps(header))}
    for i, d in enumerate(stats.domains.values()):
        arrays.update({f"{i}/{name}": getattr(d, name) for name in _ARRAYS if getattr(d, name) is not None})
        arrays.update({f"{i}/hsv/{key}": counts for key, counts in (d.hsv_histograms or {}).items()})
        if d.names is not None:
            arrays[f"{i}/names"] = np.array(d.names, dtype=str)
    try:
        with atomic.atomic_open(path, "wb", fsync=False) as f:  # recomputed when lost
            np.savez(f, **arrays)
    except OSError:
        pass


def read_stats(path: Path, source: str) -> DatasetStats | None:
    """write_stats' statistics, or None when the file is absent, of another version or damaged."""
    try:
        with np.load(path, allow_pickle=False) as f:
            header = json.loads(str(f["header"]))
            if header["version"] != STATS_VERSION:
                return None
            domains = {}
            for i, name in enumerate(header["domains"]):
                values = {key: f[f"{i}/{key}"] if f"{i}/{key}" in f.files else None for key in _ARRAYS}
                hsv = {key.rsplit("/", 1)[1]: f[key] for key in f.files if key.startswith(f"{i}/hsv/")} or None
                names = f[f"{i}/names"].tolist() if f"{i}/names" in f.files else None
                domains[name] = DomainStats(name, hsv_histograms=hsv, names=names, **values)
        sizes = pd.DataFrame(header["image_sizes"], columns=["size", "images"])
        return DatasetStats(source, header["analysis_size"], domains, sizes, header["seconds"], from_file=True)
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
        return None


def summary_table(stats: DatasetStats) -> pd.DataFrame:
    """One row per domain: counts, intensity, channel means and (RGB) saturation and dominant hue."""
    rows = []
    for name, d in stats.domains.items():
        row = {"domain": name, "images": d.count, "channels": d.channels,
               "mean intensity": float(d.image_mean.mean()), "mean per-image std": float(d.image_std.mean()),
               "std of image means": float(d.image_mean.std(ddof=1)) if d.count > 1 else 0.0}
        if d.channels == 3:
            for channel, value in zip("RGB", d.channel_means.mean(0).tolist()):
                row[f"mean {channel}"] = value
            row["mean saturation"] = float(d.image_saturation.mean())
            hue = d.hsv_histograms["hue"]
            row["dominant hue (°)"] = bin_centres(HUE_BINS, 360)[int(hue.argmax())] if hue.sum() else None
        rows.append(row)
    return pd.DataFrame(rows).set_index("domain")
