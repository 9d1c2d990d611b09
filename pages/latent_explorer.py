"""Latent explorer: move through an MLP/DCGAN generator's latent space (seed, raw dimensions,
GANSpace directions, truncation, slerp strips), or translate photos with a CycleGAN."""
import io
import random
from pathlib import Path

import streamlit as st

from gan_core.config import MODELS
import torch
import torchvision.utils as vutils
from PIL import Image

from gan_core import latent
from gan_core.data import DatasetError, load_images
from gan_core.data.decode import SkippedImage, decode_image
from gan_core.device import select_device
from gan_core.models import load_model
from gan_core.models.base import to_model_range
from studio.widgets import checkpoint_picker, dataset_path, run_picker

DISPLAY_PX = 256
COMPONENTS = 8
MAX_SEED = 2 ** 31 - 1
UPLOAD_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff"]


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


def to_pil(images: torch.Tensor) -> Image.Image:
    """A batch of [-1, 1] images as one PIL image, side by side."""
    grid = vutils.make_grid(images, nrow=len(images), padding=2, pad_value=1.0, normalize=True, value_range=(-1, 1))
    return Image.fromarray(grid.mul(255).round().byte().permute(1, 2, 0).numpy())


def enlarged(image: Image.Image, min_side: int = DISPLAY_PX) -> Image.Image:
    """Small generator outputs scaled up with nearest-neighbour, so their pixels stay visible."""
    factor = max(1, min_side // min(image.size))
    return image.resize((image.width * factor, image.height * factor), Image.Resampling.NEAREST)


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def noise_explorer(model, checkpoint: Path, mtime: float, run_id: str) -> None:
    latent_dim = model.cfg.latent_dim
    controls, view = st.columns([2, 3], gap="large")
    with controls:
        seed = st.number_input("Seed", 0, MAX_SEED, 0, key="latent_seed")
        st.button("Random seed", icon=":material/casino:",
                  on_click=lambda: st.session_state.update(latent_seed=random.randrange(MAX_SEED)))
        psi = st.slider("Truncation ψ", 0.0, 1.5, 1.0, 0.05,
                        help="Scales z towards the prior's mean: below 1 trades variety for typical images.")
        directions = cached_directions(str(checkpoint), mtime)
        with st.expander("Principal directions (GANSpace)", expanded=True):
            st.caption("Moves along the directions of largest variance of the generator's first-layer "
                       "activations, in standard deviations.")
            amounts = {i: st.slider(f"PC{i + 1} · {float(share):.1%} of variance", -3.0, 3.0, 0.0, 0.1,
                                    key=f"latent_pc{i}_{checkpoint}")
                       for i, share in enumerate(directions.explained)}
        with st.expander("Latent dimensions"):
            chosen = st.multiselect("Dimensions to set", list(range(latent_dim)), default=[0, 1, 2][:latent_dim],
                                    key=f"latent_dims_{checkpoint}")
            z = latent.latent_vectors(latent_dim, 1, seed)[0]
            # Keyed by seed: a new seed starts every slider at that seed's own (rounded) value, which
            # is only applied once moved, so untouched sliders leave z exactly as the seed drew it.
            start = {d: round(float(z[d]), 2) for d in chosen}
            moved = {d: st.slider(f"z[{d}]", -4.0, 4.0, start[d], 0.01, key=f"latent_z{d}_{seed}") for d in chosen}
            dims = {d: value for d, value in moved.items() if value != start[d]}
    with view:
        image = to_pil(latent.edit(model, seed, directions, amounts, psi, dims))
        st.image(enlarged(image), caption=f"seed {seed} · ψ {psi:.2f} · {image.width}×{image.height} px")
        st.download_button("Download PNG", png_bytes(image), file_name=f"{run_id}-seed{seed}.png",
                           mime="image/png", icon=":material/download:")

    st.subheader("Interpolation")
    left, right = st.columns(2)
    seed_b = left.number_input("To seed", 0, MAX_SEED, 1, key="latent_seed_b")
    steps = right.slider("Steps", 3, 12, 8)
    strip = to_pil(latent.interpolate(model, seed, seed_b, steps, psi))
    st.image(enlarged(strip, DISPLAY_PX // 2), caption=f"slerp from seed {seed} to seed {seed_b} (ψ {psi:.2f})",
             width="stretch")
    st.download_button("Download strip PNG", png_bytes(strip), file_name=f"{run_id}-slerp-{seed}-{seed_b}.png",
                       mime="image/png", icon=":material/download:")


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


def translation_explorer(model, run_id: str) -> None:
    """A photo and its translation; CycleGAN also shows the photo reconstructed from it."""
    cfg, channels = model.cfg, model.channels
    picked = chosen_photo(cfg.image_size, channels)
    if picked is None:
        return
    pixels, name = picked
    photo = to_model_range(pixels[None], model.device)
    images = {"Photo": photo.cpu()}
    if hasattr(model, "cycle"):
        monet, reconstructed = model.cycle(photo)
        images.update({"Monet-style": monet.cpu(), "Reconstructed photo": reconstructed.cpu()})
    else:
        images["Monet-style"] = model.translate(photo).cpu()
    for column, (title, image) in zip(st.columns(len(images)), images.items()):
        column.image(enlarged(to_pil(image)), caption=title, width="stretch")
    translated = to_pil(images["Monet-style"])
    st.download_button("Download the Monet-style PNG", png_bytes(translated),
                       file_name=f"{run_id}-{Path(name).stem}-monet.png", mime="image/png",
                       icon=":material/download:")


st.title("Latent explorer")
run = run_picker("Run", models=MODELS, key="latent_run")
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
