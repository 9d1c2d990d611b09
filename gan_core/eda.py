"""Dataset statistics for the studio's EDA page, computed over the cached uint8 tensors.

Images are analysed at ANALYSIS_SIZE, in chunks of CHUNK_PIXELS so memory stays bounded
whatever the dataset size. One torch.bincount per chunk gives every image's per-channel
histogram; channel histograms and per-image mean/std are read off those counts exactly.
HSV is a vectorised float conversion of a regular sample of the same pixels.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

import pandas as pd
import torch

from gan_core.data import inspect_dataset, load_images
from gan_core.data.layout import find_dataset
from gan_core.events import emit

# The default training resolution, so its cache is usually built already, and what the models see.
# 16x fewer pixels than 256 keeps the full 7,338-image pass to seconds on 2 cores; colour
# distributions barely move when downsampled; per-image std loses the finest texture.
ANALYSIS_SIZE = 64
# Pixels per channel in one chunk (2,048 images at 64 px): ~100 MB of int32 bin indices for RGB.
# Large chunks matter on busy cores: each torch op's thread sync costs more than its arithmetic.
CHUNK_PIXELS = 2048 * 64 * 64
HUE_BINS = 36          # 10 degrees each
SATURATION_BINS = 32
VALUE_BINS = 32
HSV_STRIDE = 4         # HSV from every 4th pixel each way: 256 pixels per 64 px image
LEVELS = torch.arange(256, dtype=torch.float64)


@dataclass
class DomainStats:
    name: str
    channel_histogram: torch.Tensor    # [C, 256] pixel counts per channel and value
    image_mean: torch.Tensor           # [N] mean intensity of each image over all channels, 0-255
    image_std: torch.Tensor            # [N] std of the same pixels
    channel_means: torch.Tensor        # [N, C] mean of each channel per image, 0-255
    hsv_histograms: dict[str, torch.Tensor] | None  # hue/saturation/value pixel counts (RGB only)
    image_saturation: torch.Tensor | None  # [N] mean saturation per image, 0-1 (RGB only)

    @property
    def count(self) -> int:
        return len(self.image_mean)

    @property
    def channels(self) -> int:
        return self.channel_histogram.shape[0]

    def channel_density(self) -> torch.Tensor:
        """[C, 256] fraction of each channel's pixels at each value: domains of any size compare."""
        return self.channel_histogram / self.channel_histogram.sum(1, keepdim=True).clamp_min(1)

    def hsv_density(self) -> dict[str, torch.Tensor]:
        return {k: h / h.sum().clamp_min(1) for k, h in (self.hsv_histograms or {}).items()}


@dataclass
class DatasetStats:
    source: str
    analysis_size: int
    domains: dict[str, DomainStats]
    image_sizes: pd.DataFrame      # size (the files' own, W×H), images
    seconds: float


def per_image_histograms(images: torch.Tensor) -> torch.Tensor:
    """[N, C, H, W] uint8 -> [N, C, 256] counts: one bincount, each (image, channel) offset into its own bins."""
    n, c = images.shape[:2]
    indices = images.int()
    indices += torch.arange(n * c, dtype=torch.int32).view(n, c, 1, 1) * 256
    return torch.bincount(indices.view(-1), minlength=n * c * 256).view(n, c, 256)


def intensity_moments(histograms: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """From [N, C, 256] counts: per-image mean and std over all channels, and per-channel means."""
    counts = histograms.double()
    pixels = counts.sum(2)                                   # [N, C]
    sums = counts @ LEVELS
    total = pixels.sum(1)
    mean = sums.sum(1) / total
    second = (counts @ LEVELS ** 2).sum(1) / total
    std = (second - mean ** 2).clamp_min(0).sqrt()
    return mean.float(), std.float(), (sums / pixels).float()


def rgb_to_hsv(images: torch.Tensor) -> torch.Tensor:
    """[N, 3, H, W] uint8 RGB -> [N, 3, H, W] float: hue in degrees [0, 360), saturation and value
    in [0, 1]. Achromatic pixels (R = G = B) get hue 0, as colorsys does."""
    value8 = images.amax(1)
    value, chroma = value8.float(), (value8 - images.amin(1)).float()
    r, g, b = images.float().unbind(1)
    safe_chroma = chroma.clamp_min(1)
    sector = torch.where(value == r, (g - b) / safe_chroma,
                         torch.where(value == g, (b - r) / safe_chroma + 2, (r - g) / safe_chroma + 4))
    hue = torch.where(chroma > 0, (sector % 6) * 60, 0.0)
    return torch.stack([hue, chroma / value.clamp_min(1), value / 255], 1)


def _bin(values: torch.Tensor, upper: float, bins: int) -> torch.Tensor:
    return (values * (bins / upper)).int().clamp_(0, bins - 1)


def bin_centres(bins: int, upper: float) -> list[float]:
    """The centre of each of `bins` equal bins over [0, upper), the ranges _bin divides."""
    return [(i + 0.5) * upper / bins for i in range(bins)]


def hsv_bin_centres() -> dict[str, list[float]]:
    """hsv_histograms' bins as values: hue in degrees, saturation and value in [0, 1]."""
    return {"hue": bin_centres(HUE_BINS, 360), "saturation": bin_centres(SATURATION_BINS, 1),
            "value": bin_centres(VALUE_BINS, 1)}


def hsv_histograms(hsv: torch.Tensor) -> dict[str, torch.Tensor]:
    """Pixel counts of hue (chromatic pixels only: grey has no hue), saturation and value."""
    hue, saturation, value = hsv.unbind(1)
    # Achromatic pixels go to an extra last bin that is dropped: cheaper than boolean indexing.
    hue_bins = torch.where(saturation > 0, _bin(hue, 360, HUE_BINS), HUE_BINS)
    return {
        "hue": torch.bincount(hue_bins.view(-1), minlength=HUE_BINS + 1)[:HUE_BINS],
        "saturation": torch.bincount(_bin(saturation, 1, SATURATION_BINS).view(-1), minlength=SATURATION_BINS),
        "value": torch.bincount(_bin(value, 1, VALUE_BINS).view(-1), minlength=VALUE_BINS),
    }


def domain_stats(name: str, images: torch.Tensor, callbacks=None, done_before: int = 0,
                 total: int | None = None) -> DomainStats:
    """Statistics of one domain's [N, C, H, W] uint8 images, a chunk of CHUNK_PIXELS at a time."""
    n, c, h, w = images.shape
    chunk_size = max(1, CHUNK_PIXELS // (h * w))
    colour = c == 3
    channel_histogram = torch.zeros(c, 256, dtype=torch.int64)
    means, stds, channel_means, saturations = [], [], [], []
    hsv_counts: dict[str, torch.Tensor] = {}
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
            hsv = rgb_to_hsv(chunk[..., ::HSV_STRIDE, ::HSV_STRIDE].contiguous())
            saturations.append(hsv[:, 1].mean((1, 2)))
            for key, counts in hsv_histograms(hsv).items():
                hsv_counts[key] = hsv_counts.get(key, 0) + counts
        emit(callbacks, "progress", task="statistics", done=done_before + min(start + chunk_size, n), total=total or n)
    return DomainStats(name, channel_histogram, torch.cat(means), torch.cat(stds), torch.cat(channel_means),
                       hsv_counts if colour else None, torch.cat(saturations) if colour else None)


def image_size_table(inspection) -> pd.DataFrame:
    """The files' own sizes (width x height), most common first, from the inspection report."""
    rows = [{"size": size.replace("x", "×"), "images": count}
            for size, count in sorted(inspection.original_sizes.items(), key=lambda kv: -kv[1])]
    return pd.DataFrame(rows, columns=["size", "images"])


def dataset_stats(image_set, inspection, callbacks=None) -> DatasetStats:
    """Per-domain statistics of a gan_core.data.ImageSet; `inspection` is the dataset's InspectionReport."""
    started = time.perf_counter()
    done, domains = 0, {}
    for name in image_set.domain_names:
        images = image_set.select(name).images
        domains[name] = domain_stats(name, images, callbacks, done, len(image_set))
        done += len(images)
    return DatasetStats(image_set.source, image_set.images.shape[-1], domains,
                        image_size_table(inspection), time.perf_counter() - started)


def analysis_size(path: str | os.PathLike, image_size: int = ANALYSIS_SIZE) -> int:
    """image_size, or the source's own resolution when smaller (MNIST's 28): never analyse upscaled pixels."""
    with find_dataset(path) as dataset:
        return min(image_size, dataset.native_size)


def analyse(path: str | os.PathLike, image_size: int = ANALYSIS_SIZE, cache_dir: str | os.PathLike | None = None,
            callbacks=None) -> DatasetStats:
    """Load the dataset's cache at the analysis size (decoding it the first time) and compute its statistics."""
    image_set = load_images(path, analysis_size(path, image_size), cache_dir=cache_dir, callbacks=callbacks)
    # Reuses a cache (the native-resolution one when the Home page built it, else the one just loaded).
    inspection = inspect_dataset(path, cache_dir=cache_dir)
    return dataset_stats(image_set, inspection, callbacks)


def summary_table(stats: DatasetStats) -> pd.DataFrame:
    """One row per domain: counts, intensity, channel means and (RGB) saturation and dominant hue."""
    rows = []
    for name, d in stats.domains.items():
        row = {"domain": name, "images": d.count, "channels": d.channels,
               "mean intensity": float(d.image_mean.mean()), "mean per-image std": float(d.image_std.mean()),
               "std of image means": float(d.image_mean.std()) if d.count > 1 else 0.0}
        if d.channels == 3:
            for channel, value in zip("RGB", d.channel_means.mean(0).tolist()):
                row[f"mean {channel}"] = value
            row["mean saturation"] = float(d.image_saturation.mean())
            hue = d.hsv_histograms["hue"]
            row["dominant hue (°)"] = bin_centres(HUE_BINS, 360)[int(hue.argmax())] if hue.sum() else None
        rows.append(row)
    return pd.DataFrame(rows).set_index("domain")
