"""Dataset EDA: colour and intensity distributions per domain, image sizes, random samples.
Statistics come from gan_core.eda; this page only draws them."""
import random
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from gan_core import eda
from gan_core.data import DatasetError, load_images
from studio.widgets import require_dataset

DOMAIN_COLOURS = {"monet": "#2a9d8f", "photo": "#e76f51", "images": "#264653", "digits": "#264653"}
CHANNEL_NAMES = {1: ["intensity"], 3: ["red", "green", "blue"]}
GALLERY_SIZE = 8


@st.cache_data(show_spinner="Computing statistics over every image (decoding them into the cache the first time)…")
def dataset_statistics(path: str) -> eda.DatasetStats:
    return eda.analyse(path)


@st.cache_resource(show_spinner=False)
def analysed_images(path: str):
    """The cached uint8 images the statistics were computed on (memory-mapped, read-only here)."""
    return load_images(path, eda.analysis_size(path))


def readable(summary: pd.DataFrame) -> pd.DataFrame:
    """Statistics as rows and domains as columns (fits the page), numbers formatted for reading."""
    def number(value) -> str:
        if value is None or value != value:
            return "–"
        return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"
    return summary.T.map(number)


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


def per_image_histograms(stats: eda.DatasetStats) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, subplot_titles=["mean intensity per image", "intensity std per image"])
    for name, d in stats.domains.items():
        for col, values in enumerate((d.image_mean, d.image_std), 1):
            fig.add_trace(go.Histogram(x=values.tolist(), name=name, legendgroup=name, showlegend=col == 1,
                                       histnorm="probability", nbinsx=60, opacity=0.6,
                                       marker_color=DOMAIN_COLOURS.get(name)), row=1, col=col)
    fig.update_layout(barmode="overlay", height=340, margin={"t": 70, "b": 10})
    fig.update_yaxes(title_text="fraction of images", row=1, col=1)
    return fig


def bin_centres(bins: int, upper: float) -> list[float]:
    return [(i + 0.5) * upper / bins for i in range(bins)]


def gallery(path: str, domain: str, seed: int) -> None:
    """Random images of a domain: the original files when the dataset is a folder, else the cached pixels."""
    image_set = analysed_images(path)
    indices = [i for i, d in enumerate(image_set.domains) if d == domain]
    chosen = random.Random(f"{seed}-{domain}").sample(indices, min(GALLERY_SIZE, len(indices)))
    for column, index in zip(st.columns(GALLERY_SIZE), chosen):
        name = image_set.names[index]
        original = Path(path) / name
        pixels = image_set.images[index].permute(1, 2, 0).squeeze(-1).numpy()
        column.image(str(original) if original.is_file() else pixels, caption=Path(name).name,
                     width="stretch")


st.title("Dataset EDA")
path = require_dataset()
try:
    stats = dataset_statistics(path)
except DatasetError as e:
    st.error(f"Cannot analyse `{path}`: {e}")
    st.stop()

domains = stats.domains
count = sum(d.count for d in domains.values())
st.caption(f"`{stats.source}` · {count:,} images in {len(domains)} domain(s), analysed at "
           f"{stats.analysis_size}×{stats.analysis_size} px (the default training resolution, or the source's own "
           f"when smaller) in {stats.seconds:.1f} s · curves are normalised, so domains of any size compare.")

st.subheader("Per-domain summary")
st.dataframe(readable(eda.summary_table(stats)))

st.subheader("Image sizes")
st.dataframe(stats.image_sizes, hide_index=True)

channels = next(iter(domains.values())).channels
st.subheader("Colour histograms" if channels == 3 else "Intensity histogram")
levels = list(range(256))
st.plotly_chart(overlaid(CHANNEL_NAMES[channels],
                         {n: [(levels, row.tolist()) for row in d.channel_density()] for n, d in domains.items()},
                         ["value"] * channels))

st.subheader("Per-image intensity")
st.plotly_chart(per_image_histograms(stats))

if channels == 3:
    st.subheader("Hue, saturation and value")
    axes = [bin_centres(eda.HUE_BINS, 360), bin_centres(eda.SATURATION_BINS, 1), bin_centres(eda.VALUE_BINS, 1)]
    curves = {n: [(x, d.hsv_density()[key].tolist()) for x, key in zip(axes, ("hue", "saturation", "value"))]
              for n, d in domains.items()}
    st.plotly_chart(overlaid(["hue (chromatic pixels)", "saturation", "value"], curves,
                             ["degrees", "saturation", "value"]))
    st.caption(f"HSV from every {eda.HSV_STRIDE}th pixel each way of the analysed images.")

header, button = st.columns([4, 1], vertical_alignment="bottom")
header.subheader("Random samples")
if button.button("Reshuffle", icon=":material/shuffle:"):
    st.session_state["eda_gallery_seed"] = st.session_state.get("eda_gallery_seed", 0) + 1
for domain in domains:
    st.markdown(f"**{domain}**")
    gallery(path, domain, st.session_state.get("eda_gallery_seed", 0))
