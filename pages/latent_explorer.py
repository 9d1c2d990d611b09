"""Latent explorer: move through an MLP/DCGAN generator's latent space (seed, raw dimensions,
GANSpace directions, truncation, slerp strips), or translate photos with a CycleGAN.
The controls, loaders and image conversions are in studio.latent_view."""
from pathlib import Path

import streamlit as st

from gan_core.config import MODELS
from studio.latent_view import (cached_directions, cached_model, chosen_photo, dimension_sliders, direction_sliders,
                                seed_controls, show_edit, show_interpolation, show_translation)
from studio.widgets import checkpoint_picker, run_picker


def noise_explorer(model, checkpoint: Path, mtime: float, run_id: str) -> None:
    controls, view = st.columns([2, 3], gap="large")
    with controls:
        seed, psi = seed_controls()
        directions = cached_directions(str(checkpoint), mtime)
        amounts = direction_sliders(directions, checkpoint)
        dims = dimension_sliders(model.cfg.latent_dim, seed, checkpoint)
    with view:
        show_edit(model, seed, directions, amounts, psi, dims, run_id)
    st.subheader("Interpolation")
    show_interpolation(model, seed, psi, run_id)


def translation_explorer(model, run_id: str) -> None:
    """A photo and its translation; CycleGAN also shows the photo reconstructed from it."""
    picked = chosen_photo(model.cfg.image_size, model.channels)
    if picked is not None:
        show_translation(model, *picked, run_id)


st.title("Latent explorer")
run = run_picker("Run", models=MODELS, key="latent_run", url_param="run")  # ?run=ID opens a run
checkpoint = checkpoint_picker(run, key="latent_checkpoint") if run else None
if checkpoint is None:
    st.stop()
mtime = checkpoint.stat().st_mtime
model, meta = cached_model(str(checkpoint), mtime)
weights = "EMA generator" if model.ema else "generator (the run kept no EMA)"
st.caption(f"`{run.id}` · {meta['config'].model} · step {meta.get('step', '?')} · {weights} · {model.device}")
if hasattr(model, "translate"):
    translation_explorer(model, run.id)
else:
    noise_explorer(model, checkpoint, mtime, run.id)
