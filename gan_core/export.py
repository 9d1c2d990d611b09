"""The competition's `images.zip` from a trained run: `export_zip(run, count, out, ...)`.

Noise GANs (MLP, DCGAN): samples of the EMA generator (when the run kept one) from seeded noise,
the same z as `python -m gan_core sample` for that seed. Translation models (CycleGAN, CUT):
translations of the run's photo set, then of the mirrored photos when more images than photos are
asked for, at the run's image_size or at 256 px (`resolution`), optionally with flip TTA (`tta`).
Every image is brought to 256x256 RGB and JPEG-encoded (`quality`, chroma `subsampling`); an image
whose bytes repeat an earlier one is skipped, so the zip never holds duplicates. Inference runs
under bf16 autocast where the device supports it, unless `fp32`. The choices and their defaults
are in gan_core.export_options (DEFAULT_RESOLUTION, DEFAULT_TTA, DEFAULT_SUBSAMPLING).

The zip is streamed batch by batch into a uniquely named `.<name>.<pid>.<random>.partial` beside
the target (gan_core.atomic), validated, and renamed only then: a killed export never leaves a file
under the target's name, and two exports to one target never share a temporary. A manifest of
what was exported goes to <run>/exports/<time>.json, or to the path given as `manifest` (the
studio puts each export's manifest beside its zip: exports/<name>.zip and exports/<name>.json).
"""
from __future__ import annotations

import datetime
import hashlib
import io
import os
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from gan_core import atomic
from gan_core.colour import calibrated, painting_histograms
from gan_core.config import default_data_path
from gan_core.device import autocast, bf16_supported, select_device
from gan_core.events import CancelledError, Control, emit
from gan_core.export_options import (COLOURS, DEFAULT_COLOUR, DEFAULT_RESOLUTION, DEFAULT_SUBSAMPLING, DEFAULT_TTA,
                                     JPEG_QUALITY, RESOLUTIONS, TTAS, check_choice, jpeg_options, noise_model_options,
                                     translation_size)
from gan_core.export_validate import EXPORT_SIZE, MAX_COUNT, MIN_SUBMISSION, entry_name, validate_zip
from gan_core.latent import latent_vectors
from gan_core.models import load_model
from gan_core.models.base import seeded_generator, to_model_range, to_uint8
from gan_core.runs import Run, open_run, write_json_atomic
from gan_core.translate import translate_batch

PARTIAL_SUFFIX = ".partial"  # the streamed zip before validation
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # a fixed entry time: the same export gives the same zip, byte for byte
ENCODE_THREADS = min(4, os.cpu_count() or 1)  # PIL releases the GIL while encoding


def export_zip(run: str | os.PathLike | Run, count: int = 7000, out: str | os.PathLike = "images.zip",
               seed: int = 0, checkpoint: str | os.PathLike | None = None, quality: int = JPEG_QUALITY,
               batch_size: int = 64, callbacks=None, control: Control | None = None,
               device: str = "auto", resolution: str | None = None, tta: str | None = None,
               subsampling: str = DEFAULT_SUBSAMPLING, fp32: bool = False,
               manifest: str | os.PathLike | None = None, colour: str = DEFAULT_COLOUR,
               colour_reference: str | os.PathLike | None = None) -> dict:
    """Write `count` images to the zip `out` and a manifest (at `manifest`, default in the run's
    exports/). Returns a report: path, count, seconds, warnings, manifest (its path), validation,
    sha256, step, checkpoint, options.
    resolution and tta (None: DEFAULT_RESOLUTION, DEFAULT_TTA) are for translation models; a noise
    model refuses "native" and "flip". colour calibrates the colours toward the paintings of
    colour_reference (default: the run's dataset; gan_core.colour). Raises ValueError /
    FileNotFoundError for bad arguments, CancelledError when control.stop is set."""
    started = time.perf_counter()
    _check_arguments(count, out, batch_size, resolution, tta)
    check_choice("colour", colour, COLOURS)
    jpeg = jpeg_options(quality, subsampling)  # checks quality and subsampling
    run = run if isinstance(run, Run) else open_run(run)
    out = Path(out)
    control = control or Control()
    warnings = []
    if count < MIN_SUBMISSION:
        warnings.append(f"{count:,} images is below the competition's minimum of {MIN_SUBMISSION:,}: "
                        f"fine for a trial, not accepted as a submission")
        emit(callbacks, "log", message=f"warning: {warnings[-1]}")

    dev = select_device(device)
    model, meta = load_model(run.path, checkpoint, device=dev)
    use_bf16 = not fp32 and bf16_supported(dev)  # measured: at most 1 level of 255 from fp32, at twice the speed
    source, options, batches = _image_batches(model, meta["config"], count, seed, batch_size, use_bf16,
                                              resolution, tta)
    options.update(subsampling=subsampling, quality=quality, fp32=fp32, bf16=use_bf16, batch_size=batch_size,
                   device=str(dev), colour=colour)
    if colour != "none":
        reference = colour_reference or meta["config"].data or default_data_path()
        batches = calibrated(batches, painting_histograms(reference), colour)
        options["colour_reference"] = str(reference)
    out.parent.mkdir(parents=True, exist_ok=True)
    skipped, validation, sha256 = _write_validated(batches, count, out, jpeg, callbacks, control)
    if skipped:
        warnings.append(f"skipped {skipped} image(s) whose bytes repeated an earlier one")
        emit(callbacks, "log", message=f"warning: {warnings[-1]}")

    seconds = time.perf_counter() - started
    details = {
        "run": str(run.path.resolve()), "checkpoint": meta["path"], "step": meta.get("step"), "source": source,
        "seed": seed, "count": count, **options,
        "time": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "seconds": round(seconds, 2), "output": str(out.resolve()), "bytes": out.stat().st_size,
        "sha256": sha256, "warnings": warnings,
    }
    manifest_path = _save_manifest(run, details, manifest)
    return {"path": str(out), "count": count, "seconds": seconds, "warnings": warnings,
            "manifest": str(manifest_path), "validation": asdict(validation), "sha256": sha256,
            "step": meta.get("step"), "checkpoint": meta["path"], "options": options}


def _check_arguments(count: int, out: str | os.PathLike, batch_size: int, resolution, tta) -> None:
    if not 1 <= count <= MAX_COUNT:
        raise ValueError(f"count {count:,}: choose 1 to {MAX_COUNT:,} images (the competition caps a "
                         f"submission at {MAX_COUNT:,})")
    if Path(out).suffix.lower() != ".zip":
        raise ValueError(f"output {out} must be a .zip file (the competition wants images.zip)")
    if Path(out).is_dir():
        raise ValueError(f"output {out} is a directory: name the zip file to write")
    if batch_size < 1:
        raise ValueError(f"batch_size {batch_size}: must be at least 1")
    for name, value, choices in (("resolution", resolution, RESOLUTIONS), ("tta", tta, TTAS)):
        if value is not None:
            check_choice(name, value, choices)


def _image_batches(model, cfg, count, seed, batch_size, use_bf16, resolution, tta):
    """(source, options, pixel batches) for a translation model or a noise model."""
    if hasattr(model, "translate"):
        resolution, tta = resolution or DEFAULT_RESOLUTION, tta or DEFAULT_TTA
        size = translation_size(resolution, cfg.image_size, EXPORT_SIZE)
        batches = _photo_batches(model, _photo_set(cfg, count, size), batch_size, use_bf16, tta)
        source = "photo translations"
    else:
        resolution, tta = noise_model_options(cfg.model, resolution, tta)
        size, source = cfg.image_size, "noise samples"
        batches = _noise_batches(model, count, seed, batch_size, use_bf16)
    options = {"resolution": resolution, "tta": tta, "image_size": cfg.image_size, "inference_size": size}
    return source, options, batches


def to_export_pixels(images: torch.Tensor) -> np.ndarray:
    """[-1, 1] images [N, 1|3, S, S] -> uint8 [N, 256, 256, 3] on the CPU."""
    pixels = to_uint8(images).cpu()
    if pixels.shape[1] == 1:
        pixels = pixels.expand(-1, 3, -1, -1)
    pixels = pixels.contiguous(memory_format=torch.channels_last)
    if pixels.shape[-2:] != (EXPORT_SIZE, EXPORT_SIZE):
        # Resizing uint8 channels-last is about 10x faster than resizing floats then quantising
        # 16 times the pixels, and moves a pixel by at most 2 levels of 255.
        pixels = F.interpolate(pixels, size=(EXPORT_SIZE, EXPORT_SIZE), mode="bicubic", antialias=True)
    return pixels.permute(0, 2, 3, 1).numpy()


def inference(fn, x: torch.Tensor, use_bf16: bool) -> torch.Tensor:
    """fn(x) without autograd, under bf16 autocast when use_bf16 (export and the quality probe)."""
    with torch.inference_mode(), autocast(x.device, use_bf16):
        return fn(x)


def _noise_batches(model, count: int, seed: int, batch_size: int, use_bf16: bool) -> Iterator[np.ndarray]:
    """The sample command's z for this seed, then as many spare z, used only if duplicates were skipped."""
    spare = torch.randn(count, model.cfg.latent_dim, generator=seeded_generator(seed, 11, 1))
    z = torch.cat([latent_vectors(model.cfg.latent_dim, count, seed), spare]).to(model.device)
    for start in range(0, len(z), batch_size):
        yield to_export_pixels(inference(model.generate, z[start:start + batch_size], use_bf16))


def _photo_set(cfg, count: int, size: int):
    from gan_core.data import load_images  # PIL decoding of the whole photo set; only translation needs it

    data = cfg.data or default_data_path()
    photos = load_images(data, size).select("photo")
    if count > 2 * len(photos):
        raise ValueError(f"count {count:,} is more than twice the {len(photos):,} photos in {data}: a "
                         f"translation export translates each photo and its mirror image, so ask for at most "
                         f"{2 * len(photos):,}")
    return photos


def _photo_batches(model, photos, batch_size: int, use_bf16: bool, tta: str) -> Iterator[np.ndarray]:
    """Every photo translated, then every horizontally flipped photo; consumed only as far as needed.
    With tta "flip", a mirrored photo's translation is the mirror image of the photo's own."""
    n = len(photos)
    for start in range(0, 2 * n, batch_size):
        order = torch.arange(start, min(start + batch_size, 2 * n))
        x = to_model_range(photos.images[order % n], model.device)
        flipped = (order >= n).to(x.device)
        x[flipped] = x[flipped].flip(-1)
        yield to_export_pixels(inference(partial(translate_batch, model, tta=tta), x, use_bf16))


def encode_jpeg(pixels: np.ndarray, jpeg: dict) -> bytes:
    """uint8 [H, W, 3] -> JPEG bytes; jpeg: PIL save options (export_options.jpeg_options)."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", **jpeg)
    return buffer.getvalue()


def _write_validated(batches, count, out: Path, jpeg, callbacks, control):
    """Stream the entries into a temporary zip beside `out`, validate it, then rename it to `out`."""
    atomic.remove_stale_temporaries(out, PARTIAL_SUFFIX)  # of killed exports to the same target
    with atomic.atomic_path(out, suffix=PARTIAL_SUFFIX) as tmp:  # fsynced, then renamed onto out
        with open(tmp, "wb") as f:
            with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as archive:
                skipped = _write_entries(archive, batches, count, jpeg, callbacks, control)
        validation = validate_zip(tmp, expected_count=count)
        if not validation.ok:
            raise RuntimeError(f"the export to {out} failed its own validation, nothing was written: "
                               f"{validation.summary()}")
        sha256 = _sha256(tmp)
    return skipped, validation, sha256


def _write_entries(archive, batches, count, jpeg, callbacks, control) -> int:
    """Write the first `count` distinct images; returns how many repeats were skipped."""
    seen, written, skipped = set(), 0, 0
    with ThreadPoolExecutor(ENCODE_THREADS) as pool:
        for pixels in batches:
            for data in pool.map(partial(encode_jpeg, jpeg=jpeg), pixels):
                digest = hashlib.sha256(data).digest()
                if digest in seen:
                    skipped += 1
                    continue
                seen.add(digest)
                info = zipfile.ZipInfo(entry_name(written), date_time=ZIP_DATE)
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
                written += 1
                if written == count:
                    break
            emit(callbacks, "progress", task="export", done=written, total=count)
            if written == count:
                return skipped
            control.wait_while_paused()
            if control.should_stop():
                raise CancelledError(f"export stopped after {written:,} of {count:,} images; no zip was written")
    raise ValueError(f"only {written:,} distinct images could be made for the {count:,} asked for "
                     f"({skipped:,} repeats): the model produces too many identical images")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _save_manifest(run: Run, details: dict, path: str | os.PathLike | None = None) -> Path:
    if path is None:
        exports = run.path / "exports"
        exports.mkdir(exist_ok=True)
        path = exports / f"{datetime.datetime.now().strftime('%Y%m%d-%H%M%S-%f')}.json"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, details)
    return path
