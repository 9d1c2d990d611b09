"""Colour calibration of an export: one lookup table per RGB channel that moves the colours of a
generator's images toward the Monet paintings', computed once for the whole export.

"mean-std": shift and scale each channel so that its mean and standard deviation over the export's
  first images equal those over the paintings.
"histogram": map each channel's levels so that its histogram over those images equals the
  paintings' (histogram matching of the set, not of each image).
The table comes from the first CALIBRATION_IMAGES images of the export and is applied to every
image: matching each image on its own would give every image the same colours and erase the
variety of the set. Needs numpy only.
"""
from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np

from gan_core.export_options import COLOURS, check_choice

CALIBRATION_IMAGES = 512
LEVELS = np.arange(256, dtype=np.float64)


def channel_histograms(pixels: np.ndarray, channels_last: bool = True) -> np.ndarray:
    """uint8 images [N, H, W, C] (or [N, C, H, W] with channels_last=False), C 1 or 3 -> counts [3, 256];
    a grey image counts as three equal channels."""
    if pixels.dtype != np.uint8:
        raise ValueError(f"colour calibration needs uint8 pixels, got {pixels.dtype}")
    axis = -1 if channels_last else 1
    counts = [np.bincount(np.take(pixels, c, axis=axis).ravel(), minlength=256) for c in range(pixels.shape[axis])]
    return np.stack(counts * 3 if len(counts) == 1 else counts).astype(np.float64)


def _moments(histogram: np.ndarray) -> tuple[float, float]:
    total = histogram.sum()
    mean = (histogram * LEVELS).sum() / total
    return mean, np.sqrt((histogram * (LEVELS - mean) ** 2).sum() / total)


def _mid_cdf(histogram: np.ndarray) -> np.ndarray:
    """The fraction of pixels below each level, counting half of the level's own."""
    return (np.cumsum(histogram) - histogram / 2) / histogram.sum()


def colour_table(generated: np.ndarray, target: np.ndarray, mode: str) -> np.ndarray:
    """Histograms [3, 256] of the generated images and of the paintings -> uint8 table [3, 256]
    (table[c, v]: the new level of level v in channel c)."""
    check_choice("colour", mode, COLOURS)
    table = np.empty((3, 256))
    for c in range(3):
        if mode == "none":
            table[c] = LEVELS
        elif mode == "mean-std":
            (mean_g, std_g), (mean_t, std_t) = _moments(generated[c]), _moments(target[c])
            table[c] = (LEVELS - mean_g) * (std_t / max(std_g, 1e-6)) + mean_t
        else:
            present = target[c] > 0  # interp needs increasing x: levels the paintings never use are skipped
            table[c] = np.interp(_mid_cdf(generated[c]), _mid_cdf(target[c])[present], LEVELS[present])
    return np.clip(np.rint(table), 0, 255).astype(np.uint8)


def apply_table(pixels: np.ndarray, table: np.ndarray) -> np.ndarray:
    """uint8 [..., 3] images through a [3, 256] table."""
    return table[np.arange(3), pixels]


def calibrated(batches: Iterable[np.ndarray], target: np.ndarray, mode: str,
               sample: int = CALIBRATION_IMAGES) -> Iterator[np.ndarray]:
    """The uint8 [N, H, W, 3] batches with their colours calibrated toward the target histograms,
    the table computed from the first `sample` images. "none" passes them through untouched."""
    if mode == "none":
        yield from batches
        return
    batches = iter(batches)
    held, count = [], 0
    for batch in batches:
        held.append(batch)
        count += len(batch)
        if count >= sample:
            break
    if not held:
        return
    table = colour_table(channel_histograms(np.concatenate(held)[:sample]), target, mode)
    for batch in held:
        yield apply_table(batch, table)
    for batch in batches:
        yield apply_table(batch, table)


def painting_histograms(path) -> np.ndarray:
    """Counts [3, 256] of the Monet paintings of a dataset (all its images when it has no domains),
    at the export's 256 px."""
    from gan_core.data import load_pixels
    from gan_core.data.cache import domain_rows
    from gan_core.export_validate import EXPORT_SIZE

    cached = load_pixels(path, EXPORT_SIZE)
    _, rows = domain_rows(cached.domains, "monet")
    pixels = cached.pixels[rows] if "monet" in cached.domains else cached.pixels
    return channel_histograms(np.asarray(pixels), channels_last=False)
