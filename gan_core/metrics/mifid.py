"""MiFID, the Kaggle "I'm Something of a Painter Myself" score: FID penalised for memorisation."""
from __future__ import annotations

import torch

from gan_core.metrics.memorisation import memorisation_distance

EPSILON = 1e-14  # keeps the division finite when a generated image equals a reference one


def mifid(fid: float, gen_feats: torch.Tensor, ref_feats: torch.Tensor, threshold: float = 0.1) -> float:
    """FID / (d + 1e-14) when the memorisation distance d is below `threshold`, else FID."""
    return penalise(fid, memorisation_distance(gen_feats, ref_feats), threshold)


def penalise(fid: float, distance: float, threshold: float = 0.1) -> float:
    return fid / (distance + EPSILON) if distance < threshold else fid
