"""Colour calibration of exports (gan_core.colour): the tables against direct computations on real
photos and paintings, one table for the whole export, and bad choices refused."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gan_core.colour import (CALIBRATION_IMAGES, apply_table, calibrated, channel_histograms, colour_table,
                             painting_histograms)
from test_cyclegan import small_competition


def real_images(folder, count: int) -> np.ndarray:
    files = sorted(folder.glob("*.jpg"))[:count]
    return np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files])


@pytest.fixture(scope="module")
def photos(competition_data):
    return real_images(competition_data / "photo_jpg", 24)


@pytest.fixture(scope="module")
def paintings(competition_data):
    return real_images(competition_data / "monet_jpg", 24)


def test_histograms_count_each_channel(photos):
    counts = channel_histograms(photos)
    assert counts.shape == (3, 256) and (counts.sum(1) == photos[..., 0].size).all()
    for c in range(3):
        assert np.array_equal(counts[c], np.bincount(photos[..., c].ravel(), minlength=256))
    # [N, C, H, W] and grey images (one channel counted as three equal ones)
    assert np.array_equal(channel_histograms(photos.transpose(0, 3, 1, 2), channels_last=False), counts)
    grey = channel_histograms(photos[..., :1])
    assert np.array_equal(grey[0], counts[0]) and np.array_equal(grey[2], counts[0])


def test_mean_std_table_moves_the_moments_to_the_paintings(photos, paintings):
    table = colour_table(channel_histograms(photos), channel_histograms(paintings), "mean-std")
    moved = apply_table(photos, table).astype(np.float64)
    for c in range(3):
        target = paintings[..., c].astype(np.float64)
        before = photos[..., c].astype(np.float64)
        assert abs(moved[..., c].mean() - target.mean()) < 1.0 < abs(before.mean() - target.mean())
        # clipping at 0 and 255 and rounding cost a little of the spread, not more
        assert abs(moved[..., c].std() - target.std()) < 0.05 * target.std()


def test_histogram_table_matches_the_paintings_distribution(photos, paintings):
    target = channel_histograms(paintings)
    moved = apply_table(photos, colour_table(channel_histograms(photos), target, "histogram"))
    for c in range(3):
        cdf = np.cumsum(channel_histograms(moved)[c]) / moved[..., c].size
        before = np.cumsum(channel_histograms(photos)[c]) / photos[..., c].size
        wanted = np.cumsum(target[c]) / target[c].sum()
        # a table maps whole levels, so the matched CDF can miss by one level's share of pixels
        assert np.abs(cdf - wanted).max() < 0.06 < np.abs(before - wanted).max()


def test_tables_are_monotone_and_identity_for_the_same_set(photos, paintings):
    counts = channel_histograms(paintings)
    for mode in ("mean-std", "histogram"):
        table = colour_table(channel_histograms(photos), counts, mode)
        assert table.dtype == np.uint8 and (np.diff(table.astype(int), axis=1) >= 0).all()
    assert np.array_equal(colour_table(counts, counts, "mean-std")[0], np.arange(256))
    same = apply_table(paintings, colour_table(counts, counts, "histogram"))
    assert np.abs(same.astype(int) - paintings).max() <= 1
    assert np.array_equal(colour_table(counts, counts, "none")[1], np.arange(256))
    with pytest.raises(ValueError, match="colour 'sepia': choose one of none, mean-std, histogram"):
        colour_table(counts, counts, "sepia")


def test_one_table_from_the_first_images_serves_every_batch(photos, paintings):
    target = channel_histograms(paintings)
    batches = [photos[i:i + 5] for i in range(0, len(photos), 5)]
    out = list(calibrated(iter(batches), target, "mean-std", sample=8))
    assert [len(b) for b in out] == [len(b) for b in batches]
    table = colour_table(channel_histograms(photos[:8]), target, "mean-std")
    assert np.array_equal(np.concatenate(out), apply_table(photos, table))
    assert all(a is b for a, b in zip(calibrated(batches, target, "none"), batches))
    assert CALIBRATION_IMAGES >= 256  # enough images for a stable table, as few as a trial export


def test_painting_histograms_are_the_monet_domain(competition_data, tmp_path):
    data = small_competition(competition_data, tmp_path, 3, 5)
    paintings = real_images(data / "monet_jpg", 3)
    assert np.array_equal(painting_histograms(data), channel_histograms(paintings))  # the photos left out
    assert np.array_equal(painting_histograms(data / "monet_jpg"), channel_histograms(paintings))  # no domains
