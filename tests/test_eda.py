"""Dataset statistics: known answers on synthetic images, then the real Monet paintings and MNIST."""
from __future__ import annotations

import colorsys
import shutil

import numpy as np
import pytest

from gan_core import eda
from gan_core.data import InspectionReport, load_pixels
from gan_core.data.cache import Cached


def solid(rgb: tuple[int, ...], count: int = 2, size: int = 8) -> np.ndarray:
    pixel = np.array(rgb, dtype=np.uint8).reshape(1, len(rgb), 1, 1)
    return np.broadcast_to(pixel, (count, len(rgb), size, size)).copy()


def random_pixels(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def test_solid_red_is_all_in_bin_255_with_hue_0_and_saturation_1():
    stats = eda.domain_stats("red", solid((255, 0, 0)))
    pixels = 2 * 8 * 8
    assert stats.channel_histogram[0, 255] == pixels and stats.channel_histogram[0].sum() == pixels
    assert stats.channel_histogram[1, 0] == pixels and stats.channel_histogram[2, 0] == pixels
    assert stats.hsv_histograms["hue"][0] == stats.hsv_histograms["hue"].sum() > 0
    assert stats.hsv_histograms["saturation"][-1] == stats.hsv_histograms["saturation"].sum()
    assert np.array_equal(stats.image_saturation, np.ones(2))
    assert np.allclose(stats.channel_means, [[255.0, 0, 0]] * 2)
    hsv = eda.rgb_to_hsv(solid((255, 0, 0)))
    assert np.array_equal(hsv[:, 0], np.zeros((2, 8, 8))) and np.array_equal(hsv[:, 1:], np.ones((2, 2, 8, 8)))


def test_gray_has_saturation_0_and_no_hue():
    stats = eda.domain_stats("gray", solid((128, 128, 128)))
    assert np.array_equal(stats.image_saturation, np.zeros(2))
    assert stats.hsv_histograms["saturation"][0] == stats.hsv_histograms["saturation"].sum() > 0
    assert stats.hsv_histograms["hue"].sum() == 0  # grey has no hue: left out rather than piled on red
    assert np.allclose(stats.image_mean, np.full(2, 128.0)) and np.array_equal(stats.image_std, np.zeros(2))


def test_rgb_to_hsv_matches_colorsys():
    pixels = random_pixels((1, 3, 10, 10), seed=0)
    hsv = eda.rgb_to_hsv(pixels)
    for y in range(10):
        for x in range(10):
            h, s, v = colorsys.rgb_to_hsv(*(pixels[0, :, y, x] / 255).tolist())
            assert hsv[0, :, y, x].tolist() == pytest.approx([h * 360, s, v], abs=1e-4)


def test_per_image_moments_match_direct_computation_across_chunks(monkeypatch):
    images = random_pixels((7, 3, 16, 16), seed=1)
    monkeypatch.setattr(eda, "CHUNK_PIXELS", 3 * 16 * 16)  # chunks of 3 images
    stats = eda.domain_stats("random", images)
    flat = images.reshape(len(images), -1).astype(np.float64)
    assert stats.image_mean.dtype == stats.image_std.dtype == stats.channel_means.dtype == np.float32
    assert np.allclose(stats.image_mean, flat.mean(1), atol=1e-3)
    assert np.allclose(stats.image_std, flat.std(1), atol=1e-3)
    assert np.allclose(stats.channel_means, images.mean((2, 3)), atol=1e-3)
    expected = np.stack([np.bincount(images[:, c].ravel(), minlength=256) for c in range(3)])
    assert np.array_equal(stats.channel_histogram, expected)
    assert np.allclose(stats.channel_density().sum(1), np.ones(3))


def test_dataset_stats_select_each_domains_images_even_when_not_stored_contiguously():
    pixels = random_pixels((5, 3, 4, 4), seed=2)
    domains = ["photo", "monet", "photo", "monet", "monet"]
    report = InspectionReport("x", "folder", 4, 3, counts={"monet": 3, "photo": 2})
    stats = eda.dataset_stats(Cached(pixels, [f"{i}.jpg" for i in range(5)], domains, report), report)
    assert list(stats.domains) == ["monet", "photo"] and stats.source == "x" and stats.analysis_size == 4
    for name, rows in {"monet": [1, 3, 4], "photo": [0, 2]}.items():
        expected = eda.domain_stats(name, pixels[rows])
        assert np.array_equal(stats.domains[name].channel_histogram, expected.channel_histogram)
        assert np.array_equal(stats.domains[name].image_mean, expected.image_mean)
    summary = eda.summary_table(stats)
    assert summary.loc["monet", "std of image means"] == pytest.approx(float(expected_std(pixels[[1, 3, 4]])))


def expected_std(images: np.ndarray) -> float:
    """The sample std (n - 1) of the images' mean intensities, as the summary reports it."""
    return images.reshape(len(images), -1).mean(1).std(ddof=1)


def test_one_channel_images_have_no_colour_statistics():
    stats = eda.domain_stats("digits", solid((0,), size=4))
    assert stats.channels == 1 and stats.hsv_histograms is None and stats.image_saturation is None
    assert stats.channel_histogram[0, 0] == 2 * 16


def test_size_table_lists_the_files_own_sizes_most_common_first():
    report = InspectionReport("x", "folder", 64, 3, counts={"images": 10}, resized=10,
                              original_sizes={"300x200": 2, "256x256": 8})
    table = eda.image_size_table(report)
    assert table["size"].tolist() == ["256×256", "300×200"] and table["images"].tolist() == [8, 2]


def test_summary_of_the_real_monet_paintings(monet_dir, tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "monet_jpg").symlink_to(monet_dir)
    stats = eda.analyse(tmp_path / "data", cache_dir=tmp_path / "cache")
    assert list(stats.domains) == ["monet"] and stats.analysis_size == eda.ANALYSIS_SIZE
    row = eda.summary_table(stats).loc["monet"]
    assert row["images"] == 300 and row["channels"] == 3
    assert 80 < row["mean intensity"] < 180 and 20 < row["mean per-image std"] < 90
    assert 0.1 < row["mean saturation"] < 0.6
    monet = stats.domains["monet"]
    assert monet.channel_histogram.sum() == 300 * 3 * 64 * 64
    assert stats.image_sizes["images"].sum() == 300
    # Cross-check one image's statistics against the cached pixels themselves.
    first = load_pixels(tmp_path / "data", eda.ANALYSIS_SIZE, cache_dir=tmp_path / "cache").pixels[0]
    assert float(monet.image_mean[0]) == pytest.approx(float(first.mean()), abs=1e-3)


def test_mnist_is_analysed_at_its_own_28_px(mnist_raw):
    stats = eda.analyse(mnist_raw)
    assert list(stats.domains) == ["digits"] and stats.analysis_size == 28
    row = eda.summary_table(stats).loc["digits"]
    assert row["channels"] == 1 and "mean saturation" not in row
    assert stats.image_sizes["size"].tolist() == ["28×28"]


def test_bin_centres_are_the_middle_of_the_bins_hsv_histograms_count():
    assert eda.bin_centres(4, 1) == [0.125, 0.375, 0.625, 0.875]
    centres = eda.hsv_bin_centres()
    assert [len(centres[k]) for k in ("hue", "saturation", "value")] == [eda.HUE_BINS, eda.SATURATION_BINS,
                                                                           eda.VALUE_BINS]
    assert centres["hue"][0] == 5.0 and centres["hue"][-1] == 355.0
    # Solid red: every chromatic pixel in hue bin 0, so the dominant hue is that bin's centre.
    stats = eda.DatasetStats("x", 8, {"red": eda.domain_stats("red", solid((255, 0, 0)))}, None, 0.0)
    assert eda.summary_table(stats).loc["red", "dominant hue (°)"] == centres["hue"][0]


def _twenty_paintings(monet_dir, folder):
    (folder / "monet_jpg").mkdir(parents=True)
    for path in sorted(monet_dir.glob("*.jpg"))[:20]:
        shutil.copy(path, folder / "monet_jpg" / path.name)
    return folder


def test_statistics_are_kept_beside_the_cache_and_read_back_equal(monet_dir, tmp_path):
    data, cache = _twenty_paintings(monet_dir, tmp_path / "data"), tmp_path / "cache"
    first = eda.analyse(data, cache_dir=cache)
    (kept,) = cache.glob("eda-*.npz")
    again = eda.analyse(data, cache_dir=cache)
    assert not first.from_file and again.from_file
    assert again.source == str(data) and again.analysis_size == first.analysis_size
    assert eda.summary_table(again).equals(eda.summary_table(first))
    a, b = first.domains["monet"], again.domains["monet"]
    for name in ("channel_histogram", "image_mean", "image_std", "channel_means", "image_saturation"):
        assert np.array_equal(getattr(a, name), getattr(b, name)) and getattr(a, name).dtype == getattr(b, name).dtype
    assert all(np.array_equal(a.hsv_histograms[k], b.hsv_histograms[k]) for k in a.hsv_histograms)
    assert again.image_sizes.equals(first.image_sizes)
    assert b.names == a.names == [f"monet_jpg/{p.name}" for p in sorted(monet_dir.glob("*.jpg"))[:20]]
    # A damaged file is computed again and rewritten; a changed dataset gets statistics of its own.
    kept.write_bytes(kept.read_bytes()[:100])
    assert not eda.analyse(data, cache_dir=cache).from_file and eda.analyse(data, cache_dir=cache).from_file
    shutil.copy(sorted(monet_dir.glob("*.jpg"))[20], data / "monet_jpg")
    changed = eda.analyse(data, cache_dir=cache)
    assert not changed.from_file and changed.domains["monet"].count == 21


def test_mnist_statistics_read_back_without_hsv(mnist_raw, tmp_path):
    first, again = (eda.analyse(mnist_raw, cache_dir=tmp_path) for _ in range(2))
    assert again.from_file and again.domains["digits"].hsv_histograms is None
    assert again.domains["digits"].image_saturation is None
    assert again.domains["digits"].names == first.domains["digits"].names and len(first.domains["digits"].names) == 10_000
    assert np.array_equal(again.domains["digits"].channel_histogram, first.domains["digits"].channel_histogram)


def test_statistics_of_an_older_version_are_computed_again(monet_dir, tmp_path, monkeypatch):
    data, cache = _twenty_paintings(monet_dir, tmp_path / "data"), tmp_path / "cache"
    monkeypatch.setattr(eda, "STATS_VERSION", eda.STATS_VERSION - 1)
    assert not eda.analyse(data, cache_dir=cache).from_file  # written as the older version
    monkeypatch.undo()
    again = eda.analyse(data, cache_dir=cache)
    assert not again.from_file and again.domains["monet"].names  # computed again, with the names
    assert eda.analyse(data, cache_dir=cache).from_file
