"""Photo -> Monet translation with a trained translation model (CycleGAN, CUT), in batches: as
uint8 tensors or as JPEGs named after their inputs (the competition's 256x256 format by default).

translate_batch is the one translation step that `export` uses too: the model's translation, or
with tta "flip" its mean with the un-mirrored translation of the mirror image. Outputs at another
size than the one translated at are resized with antialiased bicubic interpolation, so a 128 px
preview model still yields 256 px submissions. gan_core.export_options has the choices and defaults.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

import torch
import torch.nn.functional as F
from PIL import Image

from gan_core.device import autocast, bf16_supported
from gan_core.events import CancelledError, emit
from gan_core.export_options import (COLOURS, DEFAULT_COLOUR, DEFAULT_RESOLUTION, DEFAULT_SUBSAMPLING, DEFAULT_TTA,
                                     JPEG_QUALITY, TTAS, check_choice, jpeg_options, translation_size)
from gan_core.models.base import to_model_range, to_uint8


def resize(x: torch.Tensor, size: int) -> torch.Tensor:
    if x.shape[-2:] == (size, size):
        return x
    return F.interpolate(x, size=(size, size), mode="bicubic", antialias=True, align_corners=False).clamp_(-1, 1)


def translate_batch(model, photos: torch.Tensor, tta: str = DEFAULT_TTA) -> torch.Tensor:
    """[-1, 1] photos [N, 3, H, W] -> float32 [-1, 1] Monet-style images of the same size."""
    monet = model.translate(photos).float()
    if check_choice("tta", tta, TTAS) == "flip":
        monet = (monet + model.translate(photos.flip(-1)).float().flip(-1)) / 2
    return monet


def preview(model, photo: torch.Tensor) -> dict[str, torch.Tensor]:
    """One uint8 photo [C, H, W] -> [1, C, H, W] float [-1, 1] CPU images: "photo" (the photo itself),
    "monet" (its translation) and, for a model with a cycle (CycleGAN), "reconstructed": the photo
    translated back from "monet". The Latent explorer's view of a translation run."""
    x = to_model_range(photo[None], model.device)
    images = {"photo": x.cpu()}
    if hasattr(model, "cycle"):
        monet, reconstructed = model.cycle(x)
        images.update(monet=monet.cpu(), reconstructed=reconstructed.cpu())
    else:
        images["monet"] = model.translate(x).cpu()
    return images


def translate_images(model, images: torch.Tensor | Iterable[torch.Tensor], size: int = 256, batch_size: int = 8,
                     callbacks=None, control=None, total: int | None = None,
                     bf16: bool = False, tta: str = DEFAULT_TTA) -> Iterator[torch.Tensor]:
    """Yield Monet-style uint8 [b, 3, size, size] CPU batches, in input order, translated at the
    inputs' own size.

    images: uint8 photos [N, 3, H, W] (translated batch_size at a time), or an iterable of uint8
    batches with their image count as `total` (without it, no progress is reported). Reports
    `progress` events (task "translate"); raises events.CancelledError between batches when
    control asks to stop. bf16 runs the generator under bf16 autocast: 2-3x faster on CPUs with
    AMX, outputs differ from fp32 by about 1.5 of 255 levels on average.
    """
    if not hasattr(model, "translate"):
        raise ValueError(f"a {model.cfg.model} run cannot translate photos: use a CycleGAN or CUT run")
    if bf16 and not bf16_supported(model.device):
        raise ValueError(f"bf16 was asked for but {model.device} does not support it; drop --bf16")
    check_choice("tta", tta, TTAS)
    if isinstance(images, torch.Tensor):
        total, images = len(images), images.split(batch_size)
    return _translate_batches(model, images, size, callbacks, control, total, bf16, tta)


def _translate_batches(model, batches, size, callbacks, control, total, bf16, tta) -> Iterator[torch.Tensor]:
    done = 0
    for batch in batches:
        if control is not None and control.should_stop():
            raise CancelledError(f"translation stopped after {done} of {total or '?'} images")
        # Entered per batch: a context held across `yield` would leak into the caller's code.
        with torch.no_grad(), autocast(model.device, bf16):
            monet = translate_batch(model, to_model_range(batch, model.device), tta)
        yield to_uint8(resize(monet, size)).cpu()
        done += len(batch)
        if total:
            emit(callbacks, "progress", task="translate", done=done, total=total)


def translate_path(run_or_checkpoint: str | Path, input_path: str | Path, out_dir: str | Path, size: int = 256,
                   callbacks=None, control=None, batch_size: int = 8, device: str = "auto",
                   bf16: bool = False, resolution: str = DEFAULT_RESOLUTION, tta: str = DEFAULT_TTA,
                   subsampling: str = DEFAULT_SUBSAMPLING, quality: int = JPEG_QUALITY,
                   colour: str = DEFAULT_COLOUR) -> list[Path]:
    """Translate one image, or the photos of a folder or zip, into out_dir/<input stem>.jpg.

    Inputs are read through gan_core.data (only the "photo" domain when the input has one, e.g. the
    competition folder) at the run's image_size (resolution "training") or at `size` ("native").
    colour calibrates the outputs toward the run's paintings (gan_core.colour). Returns the written
    paths in input order.
    """
    from gan_core.colour import calibrated, painting_histograms
    from gan_core.config import default_data_path
    from gan_core.data import load_images
    from gan_core.device import select_device
    from gan_core.models import load_model

    save_options = jpeg_options(quality, subsampling)
    check_choice("tta", tta, TTAS)
    check_choice("colour", colour, COLOURS)
    model, meta = load_model(run_or_checkpoint, device=select_device(device))
    load_size = translation_size(resolution, meta["config"].image_size, size)
    photos = load_images(input_path, load_size, meta["channels"], callbacks=callbacks)
    if "photo" in set(photos.domains):
        photos = photos.select("photo")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = iter(photos.names)
    written = []
    batches = (batch.permute(0, 2, 3, 1).numpy() for batch in
               translate_images(model, photos.images, size, batch_size, callbacks, control, bf16=bf16, tta=tta))
    if colour != "none":
        batches = calibrated(batches, painting_histograms(meta["config"].data or default_data_path()), colour)
    for batch in batches:
        for image in batch:
            path = out / f"{Path(next(names)).stem}.jpg"
            Image.fromarray(image).save(path, **save_options)
            written.append(path)
    return written
