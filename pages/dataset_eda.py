"""Dataset EDA: colour and intensity distributions per domain, image sizes, random samples.
Statistics come from gan_core.eda; the cached loaders, tables, figures and gallery from studio.eda_view."""
import streamlit as st

from gan_core import eda
from gan_core.data import DatasetError
from studio.eda_view import (channel_figure, channels_of, dataset_statistics, gallery, hsv_figure,
                             one_size_sentence, per_image_histograms, readable)
from studio.widgets import require_dataset
from studio.tables import show_table

GALLERY_SEED_KEY = "eda_gallery_seed"

st.title("Dataset EDA")
path = require_dataset()
try:
    stats = dataset_statistics(path)
except DatasetError as e:
    st.error(f"Cannot analyse `{path}`: {e}")
    st.stop()

domains = stats.domains
count = sum(d.count for d in domains.values())
kept = " (kept beside the decoded images since)" if stats.from_file else ""
st.caption(f"`{stats.source}` · {count:,} images in {len(domains)} domain(s), analysed at "
           f"{stats.analysis_size}×{stats.analysis_size} px (the default training resolution, or the source's own "
           f"when smaller) in {stats.seconds:.1f} s{kept}"
           f" · curves are normalised, so domains of any size compare.")

st.subheader("Per-domain summary")
show_table(readable(eda.summary_table(stats)), hide_index=False)

st.subheader("Image sizes")
if sizes := one_size_sentence(stats):
    st.markdown(sizes)
else:
    show_table(stats.image_sizes)

channels = channels_of(stats)
st.subheader("Colour histograms" if channels == 3 else "Intensity histogram")
st.plotly_chart(channel_figure(stats))

st.subheader("Per-image intensity")
st.plotly_chart(per_image_histograms(stats))

if channels == 3:
    st.subheader("Hue, saturation and value")
    st.plotly_chart(hsv_figure(stats))
    st.caption(f"HSV from every {eda.HSV_STRIDE}th pixel each way of the analysed images.")

header, button = st.columns([4, 1], vertical_alignment="bottom")
header.subheader("Random samples")
if button.button("Reshuffle", icon=":material/shuffle:"):
    st.session_state[GALLERY_SEED_KEY] = st.session_state.get(GALLERY_SEED_KEY, 0) + 1
for domain in domains:
    st.markdown(f"**{domain}**")
    gallery(path, stats, domain, st.session_state.get(GALLERY_SEED_KEY, 0))
