"""The Dataset EDA page's helpers (studio.eda_view) on synthetic statistics and a tiny image folder."""
from __future__ import annotations

import numpy as np
import pandas as pd

from gan_core import eda
from gan_core.data import inspect_dataset, load_pixels
from studio.eda_view import (channel_figure, gallery_images, gallery_positions, hsv_figure, per_image_histograms,
                             readable)
from studio_support import image_folder


def stats_of(**domains: np.ndarray) -> eda.DatasetStats:
    return eda.DatasetStats("x", 8, {n: eda.domain_stats(n, images) for n, images in domains.items()},
                            pd.DataFrame(columns=["size", "images"]), 0.1)


def random_images(count: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, channels, 8, 8), dtype=np.uint8)


def test_readable_puts_domains_in_columns_and_formats_numbers():
    summary = pd.DataFrame({"images": [1200, 3], "mean intensity": [101.256, 7.0], "dominant hue (°)": [None, 5.0]},
                           index=pd.Index(["monet", "photo"], name="domain"))
    table = readable(summary)
    assert table.columns.tolist() == ["monet", "photo"]
    assert table.loc["images"].tolist() == ["1,200", "3"]
    assert table.loc["mean intensity"].tolist() == ["101.26", "7"]
    assert table.loc["dominant hue (°)"].tolist() == ["–", "5"]


def test_figures_have_a_curve_per_domain_and_plot():
    stats = stats_of(monet=random_images(3), photo=random_images(5, seed=1))
    colour = channel_figure(stats)
    assert len(colour.data) == 2 * 3 and [a.text for a in colour.layout.annotations] == ["red", "green", "blue"]
    assert len(colour.data[0].x) == 256 and abs(sum(colour.data[0].y) - 1) < 1e-6  # normalised
    hsv = hsv_figure(stats)
    assert [a.text for a in hsv.layout.annotations] == ["hue (chromatic pixels)", "saturation", "value"]
    assert [len(t.x) for t in hsv.data[:3]] == [eda.HUE_BINS, eda.SATURATION_BINS, eda.VALUE_BINS]
    assert hsv.data[0].x[0] == 5.0 and hsv.layout.xaxis.title.text == "degrees"
    per_image = per_image_histograms(stats)
    assert len(per_image.data) == 4 and [t.name for t in per_image.data] == ["monet", "photo"] * 2


def test_one_channel_images_get_an_intensity_curve():
    figure = channel_figure(stats_of(digits=random_images(2, channels=1)))
    assert len(figure.data) == 1 and figure.layout.annotations[0].text == "intensity"


def test_gallery_positions_follow_the_seed():
    picked = gallery_positions(20, "photo", seed=0)
    assert len(picked) == 8 and len(set(picked)) == 8 and all(0 <= i < 20 for i in picked)
    assert gallery_positions(20, "photo", seed=0) == picked and gallery_positions(20, "photo", 1) != picked
    assert sorted(gallery_positions(3, "monet", seed=0)) == [0, 1, 2]  # fewer than a row: all of them


def test_gallery_shows_a_folders_original_files_else_the_cached_pixels(tmp_path):
    folder = image_folder(tmp_path / "images", count=3)
    stats = eda.analyse(folder, 16, cache_dir=tmp_path / "cache")
    domain = next(iter(stats.domains))
    loads = []

    def cached():
        loads.append(1)
        return load_pixels(folder, 16, cache_dir=tmp_path / "cache")
    shown = gallery_images(str(folder), stats, domain, seed=0, cached=cached)
    assert len(shown) == 3 and not loads  # the names come with the statistics: no pixels read
    assert all(image == str(folder / caption) for image, caption in shown)
    # Names that are no files there (MNIST's, a zip's): the analysed pixels, H x W x C, read once.
    shown_cached = gallery_images(str(tmp_path / "elsewhere"), stats, domain, seed=0, cached=cached)
    assert [caption for _, caption in shown_cached] == [caption for _, caption in shown] and len(loads) == 1
    assert all(image.shape == (16, 16, 3) and image.dtype == "uint8" for image, _ in shown_cached)
    data = cached()
    first = data.names.index(shown_cached[0][1])  # a plain folder: names are the file names
    assert np.array_equal(shown_cached[0][0], data.pixels[first].transpose(1, 2, 0))
    # One channel: H x W, as st.image shows a grey image.
    grey = eda.dataset_stats(load_pixels(folder, 16, channels=1, cache_dir=tmp_path / "cache"), inspect_dataset(folder))
    grey_data = load_pixels(folder, 16, channels=1, cache_dir=tmp_path / "cache")
    assert all(image.shape == (16, 16) for image, _ in gallery_images(str(tmp_path), grey, domain, 0, lambda: grey_data))


def test_per_image_histograms_are_binned_on_the_server():
    stats = stats_of(monet=random_images(30), photo=random_images(500, seed=1))
    figure = per_image_histograms(stats)
    assert [trace.type for trace in figure.data] == ["bar"] * 4
    monet, photo = figure.data[:2]  # the mean-intensity plot
    assert len(monet.x) == len(photo.x) == 60 and abs(sum(monet.y) - 1) < 1e-9  # fractions of its images
    assert monet.x == photo.x  # the domains share their bins
    values = {d: stats.domains[d].image_mean for d in stats.domains}
    edges = np.histogram_bin_edges(np.concatenate(list(values.values())), 60)
    assert np.allclose(photo.y, np.histogram(values["photo"], edges)[0] / 500)
    assert np.allclose(photo.x, (edges[:-1] + edges[1:]) / 2) and np.allclose(photo.width, np.diff(edges))
    assert len(figure.to_json()) < 40_000  # not one value per image (265 kB for the competition data before)
