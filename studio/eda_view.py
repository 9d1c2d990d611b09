"""The Dataset EDA page's pieces: the cached statistics (gan_core.eda) and images they were computed
on, the summary table formatted for reading, the Vega-Lite charts (per-channel and HSV distributions,
per-image intensity) and the gallery of random images of a domain. numpy only: the page imports no torch."""
from __future__ import annotations

import random
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from gan_core import eda
from gan_core.data import load_pixels
from gan_core.data.cache import domain_rows

DOMAIN_COLOURS = {"monet": "#2a9d8f", "photo": "#e76f51", "images": "#264653", "digits": "#264653"}
CHANNEL_NAMES = {1: ["intensity"], 3: ["red", "green", "blue"]}
HSV_TITLES = {"hue": ("hue (chromatic pixels)", "degrees"), "saturation": ("saturation", "saturation"),
              "value": ("value", "value")}
GALLERY_SIZE = 8


# --- cached loaders ---------------------------------------------------------------------------------
@st.cache_data(show_spinner="Computing statistics over every image (decoding them into the cache the first time)…")
def dataset_statistics(path: str) -> eda.DatasetStats:
    return eda.analyse(path)


@st.cache_resource(show_spinner=False)
def analysed_images(path: str):
    """The cached uint8 images the statistics were computed on (load_pixels: memory-mapped, read-only here)."""
    return load_pixels(path, eda.analysis_size(path))


# --- tables -----------------------------------------------------------------------------------------
def readable_number(value) -> str:
    """Whole numbers with thousands separators, others with 2 decimals, a missing value as –."""
    if value is None or value != value:
        return "–"
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def readable(summary: pd.DataFrame) -> pd.DataFrame:
    """Statistics as rows and domains as columns (fits the page), numbers formatted for reading."""
    return summary.T.map(readable_number)


# --- charts -----------------------------------------------------------------------------------------
# Vega-Lite (Altair), not Plotly: its browser code is a sixth of Plotly's 4.7 MB, which the page's first
# visit otherwise waits for. A figure is panels (title -> chart); show_panels lays them out side by side,
# each title above its chart (a Vega title or top legend would take half of a short chart's height).
PANEL_HEIGHT = 240


def domain_colours(domains) -> alt.Scale:
    domains = list(domains)
    return alt.Scale(domain=domains, range=[DOMAIN_COLOURS.get(d, "#264653") for d in domains])


def overlaid(titles: list[str], curves: dict[str, list], x_titles: list[str],
             y_title: str = "fraction of pixels") -> dict[str, alt.Chart]:
    """One panel per title; in each, one normalised curve per domain (curves: domain -> [(x, y)...])."""
    panels = {}
    for col, (title, x_title) in enumerate(zip(titles, x_titles)):
        rows = pd.DataFrame([{"x": x, "y": y, "domain": domain} for domain, per_plot in curves.items()
                             for x, y in zip(*per_plot[col])])
        panels[title] = alt.Chart(rows).mark_line().encode(
            x=alt.X("x:Q", title=x_title, scale=alt.Scale(nice=False, zero=False)),
            y=alt.Y("y:Q", title=y_title if col == 0 else None),
            color=alt.Color("domain:N", scale=domain_colours(curves), legend=alt.Legend(title=None)),
            tooltip=["domain", alt.Tooltip("x:Q", format=".3~f"), alt.Tooltip("y:Q", format=".4f")])
    return panels


def show_panels(panels: dict[str, alt.Chart]) -> None:
    for column, (title, panel) in zip(st.columns(len(panels)), panels.items()):
        column.markdown(f"**{title}**")
        column.altair_chart(panel, width="stretch", height=PANEL_HEIGHT)


def channels_of(stats: eda.DatasetStats) -> int:
    return next(iter(stats.domains.values())).channels


def channel_curves(stats: eda.DatasetStats) -> dict[str, list]:
    """domain -> one (levels 0-255, fraction of pixels) curve per channel."""
    levels = list(range(256))
    return {n: [(levels, row.tolist()) for row in d.channel_density()] for n, d in stats.domains.items()}


def hsv_curves(stats: eda.DatasetStats) -> dict[str, list]:
    """domain -> (bin centres, fraction of pixels) curves of hue, saturation and value (RGB only)."""
    centres = eda.hsv_bin_centres()
    return {n: [(centres[key], d.hsv_density()[key].tolist()) for key in HSV_TITLES] for n, d in stats.domains.items()}


def channel_figure(stats: eda.DatasetStats) -> dict[str, alt.Chart]:
    channels = channels_of(stats)
    return overlaid(CHANNEL_NAMES[channels], channel_curves(stats), ["value"] * channels)


def hsv_figure(stats: eda.DatasetStats) -> dict[str, alt.Chart]:
    titles, x_titles = zip(*HSV_TITLES.values())
    return overlaid(list(titles), hsv_curves(stats), list(x_titles))


PER_IMAGE_BINS = 60
PER_IMAGE_TITLES = {"image_mean": "mean intensity per image", "image_std": "intensity std per image"}


def shared_histograms(values: dict[str, np.ndarray], bins: int = PER_IMAGE_BINS) -> tuple[np.ndarray, dict]:
    """Bin edges and, per domain, the fraction of its values in each of `bins` bins shared by all
    domains: the browser gets 60 numbers per domain instead of one per image."""
    edges = np.histogram_bin_edges(np.concatenate(list(values.values())), bins=bins)
    return edges, {name: np.histogram(v, edges)[0] / max(len(v), 1) for name, v in values.items()}


def per_image_histograms(stats: eda.DatasetStats) -> dict[str, alt.Chart]:
    """Histograms of each image's mean and std intensity, one overlaid step area per domain."""
    panels = {}
    for col, (field, title) in enumerate(PER_IMAGE_TITLES.items()):
        edges, fractions = shared_histograms({n: getattr(d, field) for n, d in stats.domains.items()})
        rows = pd.DataFrame([{"start": lo, "fraction": f, "domain": name} for name, fraction in fractions.items()
                             for lo, f in zip(edges[:-1].tolist(), fraction.tolist())])
        panels[title] = alt.Chart(rows).mark_area(interpolate="step-after", opacity=0.5).encode(
            x=alt.X("start:Q", title="intensity (0-255)", scale=alt.Scale(nice=False, zero=False)),
            y=alt.Y("fraction:Q", stack=None, title="fraction of images" if col == 0 else None),
            color=alt.Color("domain:N", scale=domain_colours(fractions), legend=alt.Legend(title=None)),
            tooltip=["domain", alt.Tooltip("start:Q", format=".1f"), alt.Tooltip("fraction:Q", format=".3f")])
    return panels


# --- gallery ----------------------------------------------------------------------------------------
def gallery_positions(count: int, domain: str, seed: int, size: int = GALLERY_SIZE) -> list[int]:
    """Up to `size` random positions among a domain's `count` images, the same for the same seed."""
    return random.Random(f"{seed}-{domain}").sample(range(count), min(size, count))


def gallery_images(path: str, stats: eda.DatasetStats, domain: str, seed: int, cached=None) -> list[tuple]:
    """(image, caption) pairs: the original file when the dataset is a folder, else the analysed
    pixels (H x W x C, or H x W for one channel), from `cached()` (load_pixels' result), called only then."""
    names = stats.domains[domain].names
    images, data, rows = [], None, None
    for position in gallery_positions(len(names), domain, seed):
        name = names[position]
        original = Path(path) / name
        if original.is_file():
            images.append((str(original), Path(name).name))
            continue
        if data is None:
            data = cached()
            rows = domain_rows(data.domains, domain)[0]
        pixels = np.asarray(data.pixels[rows[position]]).transpose(1, 2, 0)
        images.append((pixels[..., 0] if pixels.shape[-1] == 1 else pixels, Path(name).name))
    return images


def gallery(path: str, stats: eda.DatasetStats, domain: str, seed: int) -> None:
    """Random images of a domain, in one row."""
    images = gallery_images(path, stats, domain, seed, cached=lambda: analysed_images(path))
    for column, (image, caption) in zip(st.columns(GALLERY_SIZE), images):
        column.image(image, caption=caption, width="stretch")
