"""The quality probe: FID and KID of the generator during training (`train --quality-every N`).

Every N optimizer steps and at the end, the generator export uses (EMA when kept) makes
`quality_images` images from fixed inputs: seeded noise (the `sample`/export z of seed 0) for noise
models, a fixed seeded set of photos for translation models, translated as export does it
(DEFAULT_RESOLUTION, DEFAULT_TTA, bf16 where export would use it, 256 px RGB, a JPEG round trip at
export's settings). Their Inception features are scored in fp32 against the real images of the
run's target domain (the Monet paintings for translation models) with the Inception and the
reference-feature cache `evaluate` uses. Each probe also gives:
  diversity       the probe images' mean pairwise feature distance over the real set's (about 1 when
                  healthy; near 0 when the generator collapsed onto a few images)
  input_distance  translation models: mean absolute pixel change from the photo (0..1); near 0 when
                  the generator learned to hand the photo back
FID from a few hundred images is biased upwards: compare probes of one N, not with a full score.
"""
from __future__ import annotations

import io
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gan_core.config import TRANSLATION_MODELS, default_data_path
from gan_core.device import bf16_supported
from gan_core.export_options import DEFAULT_RESOLUTION, DEFAULT_SUBSAMPLING, DEFAULT_TTA, JPEG_QUALITY, \
    jpeg_options, translation_size
from gan_core.export_validate import EXPORT_SIZE
from gan_core.metrics.fid import frechet_distance, kernel_inception_distance
from gan_core.metrics.inception import POOL, extract, load_extractor, resolve_weights
from gan_core.metrics.scoring import reference_features
from gan_core.metrics.sources import open_images
from gan_core.models.base import seeded_generator, to_model_range

# Thresholds of collapse_warnings, from probes of real runs (bench/RESULTS.md): the CUT preview
# (FID 103.6) moves pixels by 0.108 on average at diversity 1.00; the FastCUT preview, a near-copy of
# its photos that scores worse than they do, by 0.053 at 0.99.
MIN_DIVERSITY = 0.5
MIN_INPUT_DISTANCE = 0.06
PAIRWISE_MAX = 1000  # real images used for the reference's mean pairwise distance
BATCH = 8


@dataclass(frozen=True, eq=False)
class _DecodedSource:
    """Decoded training images as a reference set (no image files to name): its cache key and batches."""
    images: torch.Tensor
    names: tuple[str, ...]
    fingerprint: tuple

    def __len__(self) -> int:
        return len(self.images)

    def batches(self, batch_size: int):
        for batch in self.images.split(batch_size):
            yield list(batch)


def mean_pairwise_distance(features: torch.Tensor, limit: int = PAIRWISE_MAX) -> float:
    f = features[:limit].double()
    d = torch.cdist(f, f)
    n = len(f)
    return float(d.sum() / (n * (n - 1))) if n > 1 else 0.0


def _reference_features(cfg, train_set, weights, extractor) -> torch.Tensor:
    """Features of the target domain: the competition folder's monet_jpg/ files exactly as `evaluate`
    reads them (sharing its cache entry), else the run's decoded training images of that domain."""
    domain = "monet" if cfg.model in TRANSLATION_MODELS else cfg.domain
    folder = Path(cfg.data or default_data_path()) / f"{domain}_jpg"
    if domain in ("monet", "photo") and folder.is_dir():
        source = open_images(folder, "reference")
    else:
        real = train_set.select(domain)
        images = real.images.expand(-1, 3, -1, -1) if real.channels == 1 else real.images
        source = _DecodedSource(images, tuple(real.names),
                                ("decoded", str(real.source), tuple(real.images.shape), *real.names))
    return reference_features(source, weights, extractor, BATCH)[0]


def _jpeg_round_trip(pixels: np.ndarray, jpeg: dict) -> torch.Tensor:
    """uint8 [N, H, W, 3] -> uint8 [N, 3, H, W] as read back from export's JPEGs."""
    from gan_core.export import encode_jpeg

    decoded = [np.asarray(Image.open(io.BytesIO(encode_jpeg(p, jpeg))).convert("RGB")) for p in pixels]
    return torch.from_numpy(np.stack(decoded)).permute(0, 3, 1, 2)


class QualityProbe:
    """Built once per training process (rank 0); `measure(model, step)` returns one quality.jsonl row."""

    def __init__(self, cfg, train_set, device: torch.device):
        self.cfg, self.n = cfg, cfg.quality_images
        self.translation = cfg.model in TRANSLATION_MODELS
        self.weights = resolve_weights()
        self.extractor = load_extractor(self.weights, torch.device("cpu") if device.type == "mps" else device)
        self.use_bf16 = bf16_supported(device)  # as export decides
        self.jpeg = jpeg_options(JPEG_QUALITY, DEFAULT_SUBSAMPLING)
        self.reference = _reference_features(cfg, train_set, self.weights, self.extractor)
        self.reference_spread = mean_pairwise_distance(self.reference)
        self.inputs = self._fixed_inputs(train_set)

    def _fixed_inputs(self, train_set) -> torch.Tensor:
        if not self.translation:
            from gan_core.latent import latent_vectors

            return latent_vectors(self.cfg.latent_dim, self.n, 0)
        size = translation_size(DEFAULT_RESOLUTION, self.cfg.image_size, EXPORT_SIZE)
        photos = train_set.select("photo")
        if photos.images.shape[-1] != size:
            from gan_core.data import load_images

            photos = load_images(self.cfg.data or default_data_path(), size).select("photo")
        pick = torch.randperm(len(photos), generator=seeded_generator(self.cfg.seed, 17))[:self.n].sort().values
        return photos.images[pick]

    def _images(self, model) -> tuple[torch.Tensor, float | None]:
        """uint8 [n, 3, 256, 256] probe images, and the mean pixel change from the inputs (translation)."""
        from gan_core.export import inference, to_export_pixels
        from gan_core.translate import translate_batch

        out, change = [], []
        for batch in self.inputs.split(BATCH):
            if self.translation:
                x = to_model_range(batch, model.device)
                y = inference(lambda p: translate_batch(model, p, DEFAULT_TTA), x, self.use_bf16)
                change.append((y.float().clamp(-1, 1) - x).abs().mean(dim=(1, 2, 3)).cpu() / 2)
            else:
                y = inference(model.generate, batch.to(model.device), self.use_bf16)
            out.append(_jpeg_round_trip(to_export_pixels(y), self.jpeg))
        return torch.cat(out), float(torch.cat(change).mean()) if change else None

    def measure(self, model, step: int) -> dict:
        started = time.perf_counter()
        images, input_distance = self._images(model)
        features = extract(([im for im in b] for b in images.split(BATCH)), len(images), self.extractor)[POOL]
        kid_mean, kid_std = kernel_inception_distance(features, self.reference)
        return {
            "step": step, "fid": frechet_distance(features, self.reference), "kid_mean": kid_mean, "kid_std": kid_std,
            "n": len(images), "diversity": mean_pairwise_distance(features) / self.reference_spread,
            "input_distance": input_distance, "seconds": round(time.perf_counter() - started, 2), "time": time.time(),
        }


def best_row(rows: list[dict]) -> dict | None:
    """The row with the lowest FID (the first of equals)."""
    scored = [r for r in rows if r.get("fid") is not None]
    return min(scored, key=lambda r: r["fid"]) if scored else None


def collapse_warnings(rows: list[dict]) -> list[str]:
    """What the newest probe says is broken, in words a user can act on ([] when nothing is)."""
    if not rows:
        return []
    last, warnings = rows[-1], []
    diversity = last.get("diversity")
    if diversity is not None and diversity < MIN_DIVERSITY:
        warnings.append(f"Mode collapse at step {last['step']}: the probe images are {diversity:.2f}x as varied as "
                        f"the real ones (healthy: about 1). Fork from the best checkpoint with a lower learning "
                        f"rate, --diffaugment or another --loss.")
    moved = last.get("input_distance")
    if moved is not None and moved < MIN_INPUT_DISTANCE:
        warnings.append(f"The translations barely change the photos at step {last['step']} (mean pixel change "
                        f"{moved:.3f}): the generator is close to handing the photo back. A lower --lambda-nce "
                        f"or --lambda-identity, or more steps, lets it paint.")
    return warnings
