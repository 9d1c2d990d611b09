"""Reference features computed once per (file list, extractor weights), kept on disk, with the
list of the source's images that could not be read (restored into `source.skipped` on a hit)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

import torch

from gan_core.checkpoint import save_atomic
from gan_core.metrics.inception import Weights, cache_root
from gan_core.metrics.sources import ImageSource


def cache_path(source: ImageSource, weights: Weights) -> Path:
    key = json.dumps({"files": source.fingerprint, "extractor": weights.identity()}, default=str)
    return cache_root() / "features" / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.pt"


def cached_features(source: ImageSource, weights: Weights,
                    compute: Callable[[], torch.Tensor]) -> tuple[torch.Tensor, bool]:
    """(features, whether they came from the cache); `compute` runs on a miss or an unreadable file.
    The features are those of the images `compute` could read; a source that records what it
    skipped (ImageSource.skipped) gets that list back on a hit."""
    path = cache_path(source, weights)
    skipped = getattr(source, "skipped", None)  # other sources (quality's decoded tensors) skip nothing
    if path.exists():
        try:
            entry = torch.load(path, map_location="cpu", weights_only=True)
            if entry["names"] == list(source.names):
                if skipped is not None:
                    skipped[:] = [tuple(item) for item in entry.get("skipped", [])]
                return entry["features"], True
        except Exception:  # a foreign or truncated file is recomputed and overwritten
            pass
    features = compute()
    save_atomic({"names": list(source.names), "features": features,
                 "skipped": [list(item) for item in skipped or ()]}, path)
    return features, False
