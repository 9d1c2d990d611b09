"""The Dataset EDA page's pieces: the cached statistics (gan_core.eda) and images they were computed
on, the summary table formatted for reading, the Plotly figures (per-channel and HSV distributions,
per-image intensity) and the gallery of random images of a domain. numpy only: the page imports no torch."""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

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
def analysed_images(path: str, size: int):
    """The cached uint8 images the statistics were computed on, at their analysis size (load_pixels:
    memory-mapped, read-only here)."""
    return load_pixels(path, size)


# --- tables -----------------------------------------------------------------------------------------
def readable_number(value) -> str:
    """Whole numbers with thousands separators, others with 2 decimals, a missing value as –."""
    if value is None or value != value:
        return "–"
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def readable(summary: pd.DataFrame) -> pd.DataFrame:
    """Statistics as rows and domains as columns (fits the page), numbers formatted for reading."""
    return summary.T.map(readable_number)


# --- figures ----------------------------------------------------------------------------------------
def overlaid(titles: list[str], curves: dict[str, list], x_titles: list[str]) -> go.Figure:
    """One subplot per title; in each, one normalised curve per domain (curves: domain -> [(x, y)...])."""
    fig = make_subplots(rows=1, cols=len(titles), subplot_titles=titles)
    for domain, per_plot in curves.items():
        for col, (x, y) in enumerate(per_plot, 1):
            fig.add_trace(go.Scatter(x=x, y=y, name=domain, legendgroup=domain, showlegend=col == 1, mode="lines",
                                     line={"color": DOMAIN_COLOURS.get(domain)}), row=1, col=col)
            fig.update_xaxes(title_text=x_titles[col - 1], row=1, col=col)
    fig.update_yaxes(title_text="fraction of pixels", row=1, col=1)
    fig.update_layout(height=340, margin={"t": 70, "b": 10})
    return fig


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


def channel_figure(stats: eda.DatasetStats) -> go.Figure:
    channels = channels_of(stats)
    return overlaid(CHANNEL_NAMES[channels], channel_curves(stats), ["value"] * channels)


def hsv_figure(stats: eda.DatasetStats) -> go.Figure:
    titles, x_titles = zip(*HSV_TITLES.values())
    return overlaid(list(titles), hsv_curves(stats), list(x_titles))


PER_IMAGE_BINS = 60


def shared_histograms(values: dict[str, np.ndarray], bins: int = PER_IMAGE_BINS) -> tuple[np.ndarray, dict]:
    """Bin edges and, per domain, the fraction of its values in each of `bins` bins shared by all
    domains: the browser gets 60 numbers per domain instead of one per image."""
    edges = np.histogram_bin_edges(np.concatenate(list(values.values())), bins=bins)
    return edges, {name: np.histogram(v, edges)[0] / max(len(v), 1) for name, v in values.items()}


def per_image_histograms(stats: eda.DatasetStats) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, subplot_titles=["mean intensity per image", "intensity std per image"])
    for col, field in enumerate(("image_mean", "image_std"), 1):
        edges, fractions = shared_histograms({n: getattr(d, field) for n, d in stats.domains.items()})
        centres, widths = ((edges[:-1] + edges[1:]) / 2).tolist(), np.diff(edges).tolist()
        for name, fraction in fractions.items():
            fig.add_trace(go.Bar(x=centres, y=fraction.tolist(), width=widths, name=name, legendgroup=name,
                                 showlegend=col == 1, opacity=0.6, marker_color=DOMAIN_COLOURS.get(name)),
                          row=1, col=col)
    fig.update_layout(barmode="overlay", height=340, margin={"t": 70, "b": 10})
    fig.update_yaxes(title_text="fraction of images", row=1, col=1)
    return fig


# --- gallery ----------------------------------------------------------------------------------------
def one_size_sentence(stats: eda.DatasetStats) -> str | None:
    """"Every image is 256×256 px (7,338 images)." when the files share one size (a table of one row
    would cost the page a data grid), else None: the page shows the table."""
    sizes = stats.image_sizes
    if len(sizes) != 1:
        return None
    return f"Every image is **{sizes['size'].iloc[0]}** px ({int(sizes['images'].iloc[0]):,} images)."


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
    images = gallery_images(path, stats, domain, seed, cached=lambda: analysed_images(path, stats.analysis_size))
    for column, (image, caption) in zip(st.columns(GALLERY_SIZE), images):
        column.image(image, caption=caption, width="stretch")
