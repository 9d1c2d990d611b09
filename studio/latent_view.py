"""The Latent explorer page's pieces: the cached model, GANSpace directions and dataset photos; the
seed, direction and latent-dimension controls; the edited image, the slerp strip and a photo's
translation with their downloads; and the image conversions they share (to_pil, enlarged, png_bytes).
The latent arithmetic is gan_core.latent's, a photo's translation gan_core.translate.preview."""
from __future__ import annotations

import io
import random
from pathlib import Path

import streamlit as st
import torch
from PIL import Image

from gan_core import latent
from gan_core.data import DatasetError, load_images
from gan_core.data.decode import SkippedImage, decode_image
from gan_core.device import select_device
from gan_core.grid import make_grid, to_image
from gan_core.models import load_model
from gan_core.translate import preview
from studio.widgets import dataset_path

DISPLAY_PX = 256
COMPONENTS = 8
MAX_SEED = 2 ** 31 - 1
UPLOAD_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff"]
#: gan_core.translate.preview's images, by the captions the page shows them under
PREVIEW_CAPTIONS = {"photo": "Photo", "monet": "Monet-style", "reconstructed": "Reconstructed photo"}


# --- cached loaders ---------------------------------------------------------------------------------
# Shared by every session: the model is only used for inference (no_grad, eval mode), which reads
# its weights and changes no state, so concurrent sessions can call it safely.
@st.cache_resource(max_entries=4, show_spinner="Loading the model…")
def cached_model(checkpoint: str, mtime: float):
    return load_model(checkpoint, device=select_device("auto"))


@st.cache_resource(max_entries=4, show_spinner="Finding the principal directions of the latent space…")
def cached_directions(checkpoint: str, mtime: float) -> latent.Directions:
    model, _ = cached_model(checkpoint, mtime)
    return latent.principal_directions(model, components=COMPONENTS)


@st.cache_resource(max_entries=2, show_spinner="Loading the dataset's photos…")
def dataset_photos(path: str, image_size: int, channels: int):
    return load_images(path, image_size, channels).select("photo")


# --- images -----------------------------------------------------------------------------------------
def to_pil(images: torch.Tensor) -> Image.Image:
    """A batch of [-1, 1] images as one PIL image, side by side."""
    return to_image(make_grid(images, nrow=len(images), padding=2, pad_value=1.0))


def enlarged(image: Image.Image, min_side: int = DISPLAY_PX) -> Image.Image:
    """Small generator outputs scaled up with nearest-neighbour, so their pixels stay visible."""
    factor = max(1, min_side // min(image.size))
    return image.resize((image.width * factor, image.height * factor), Image.Resampling.NEAREST)


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def download_png(label: str, image: Image.Image, file_name: str) -> None:
    st.download_button(label, png_bytes(image), file_name=file_name, mime="image/png", icon=":material/download:")


# --- latent dimensions --------------------------------------------------------------------------------
def slider_starts(z: torch.Tensor, dims) -> dict[int, float]:
    """Each chosen dimension's slider start: the seed's own value, rounded to the slider's 0.01 step."""
    return {d: round(float(z[d]), 2) for d in dims}


def moved_dims(values: dict[int, float], starts: dict[int, float]) -> dict[int, float]:
    """The dimensions whose slider left its start: only those replace the seed's value in z."""
    return {d: value for d, value in values.items() if value != starts[d]}


# --- noise models -------------------------------------------------------------------------------------
def seed_controls() -> tuple[int, float]:
    """The seed (with a Random seed button) and the truncation ψ."""
    seed = st.number_input("Seed", 0, MAX_SEED, 0, key="latent_seed")
    st.button("Random seed", icon=":material/casino:",
              on_click=lambda: st.session_state.update(latent_seed=random.randrange(MAX_SEED)))
    psi = st.slider("Truncation ψ", 0.0, 1.5, 1.0, 0.05,
                    help="Scales z towards the prior's mean: below 1 trades variety for typical images.")
    return seed, psi


def direction_sliders(directions: latent.Directions, checkpoint: Path) -> dict[int, float]:
    """One slider per principal direction: component -> amount, in standard deviations."""
    with st.expander("Principal directions (GANSpace)", expanded=True):
        st.caption("Moves along the directions of largest variance of the generator's first-layer "
                   "activations, in standard deviations.")
        return {i: st.slider(f"PC{i + 1} · {float(share):.1%} of variance", -3.0, 3.0, 0.0, 0.1,
                             key=f"latent_pc{i}_{checkpoint}")
                for i, share in enumerate(directions.explained)}


def dimension_sliders(latent_dim: int, seed: int, checkpoint: Path) -> dict[int, float]:
    """Raw latent dimensions to set: index -> value, for the sliders moved from the seed's own value."""
    with st.expander("Latent dimensions"):
        chosen = st.multiselect("Dimensions to set", list(range(latent_dim)), default=[0, 1, 2][:latent_dim],
                                key=f"latent_dims_{checkpoint}")
        # Keyed by seed: a new seed starts every slider at that seed's own (rounded) value, which
        # is only applied once moved, so untouched sliders leave z exactly as the seed drew it.
        starts = slider_starts(latent.latent_vectors(latent_dim, 1, seed)[0], chosen)
        values = {d: st.slider(f"z[{d}]", -4.0, 4.0, starts[d], 0.01, key=f"latent_z{d}_{seed}") for d in chosen}
        return moved_dims(values, starts)


def show_edit(model, seed: int, directions: latent.Directions, amounts: dict[int, float], psi: float,
              dims: dict[int, float], run_id: str) -> None:
    image = to_pil(latent.edit(model, seed, directions, amounts, psi, dims))
    st.image(enlarged(image), caption=f"seed {seed} · ψ {psi:.2f} · {image.width}×{image.height} px")
    download_png("Download PNG", image, f"{run_id}-seed{seed}.png")


def show_interpolation(model, seed: int, psi: float, run_id: str) -> None:
    """The slerp strip from seed to another seed, in a chosen number of steps."""
    left, right = st.columns(2)
    seed_b = left.number_input("To seed", 0, MAX_SEED, 1, key="latent_seed_b")
    steps = right.slider("Steps", 3, 12, 8)
    strip = to_pil(latent.interpolate(model, seed, seed_b, steps, psi))
    st.image(enlarged(strip, DISPLAY_PX // 2), caption=f"slerp from seed {seed} to seed {seed_b} (ψ {psi:.2f})",
             width="stretch")
    download_png("Download strip PNG", strip, f"{run_id}-slerp-{seed}-{seed_b}.png")


# --- translation models -------------------------------------------------------------------------------
def chosen_photo(image_size: int, channels: int) -> tuple[torch.Tensor, str] | None:
    """The photo to translate, uint8 [C, H, W] at the run's resolution, and where it came from."""
    source = st.radio("Photo", ["Upload", "From the dataset"], horizontal=True)
    if source == "Upload":
        upload = st.file_uploader("A photo", type=UPLOAD_TYPES)
        if upload is None:
            return None
        try:
            # The training decoder: same mode conversion, shorter-side resize and centre crop.
            pixels = decode_image(upload.getvalue(), image_size, channels).pixels
        except SkippedImage as e:
            st.error(f"Cannot read `{upload.name}` as an image ({e}). Upload a JPEG, PNG, WebP, BMP or TIFF file.")
            return None
        return torch.from_numpy(pixels.copy()), upload.name
    path = dataset_path()
    if path is None:
        st.info("No dataset chosen: pick one on the Home page, or upload a photo.")
        return None
    try:
        photos = dataset_photos(path, image_size, channels)
    except DatasetError as e:
        st.error(f"The dataset `{path}` has no photos to translate: {e}")
        return None
    index = st.number_input(f"Photo number (of {len(photos)})", 0, len(photos) - 1, 0,
                            key=f"latent_photo_{path}_{image_size}")
    return photos.images[index], photos.names[index]


def show_translation(model, pixels: torch.Tensor, name: str, run_id: str) -> None:
    """A photo and its translation side by side (CycleGAN: and the photo reconstructed from it)."""
    images = {PREVIEW_CAPTIONS[key]: image for key, image in preview(model, pixels).items()}
    for column, (title, image) in zip(st.columns(len(images)), images.items()):
        column.image(enlarged(to_pil(image)), caption=title, width="stretch")
    download_png("Download the Monet-style PNG", to_pil(images["Monet-style"]),
                 f"{run_id}-{Path(name).stem}-monet.png")
