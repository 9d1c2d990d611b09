"""How close generated images are to the reference paintings, in Inception pool-feature space.

Distance is Kaggle's MiFID one: 1 - |cos| between feature vectors.
"""
from __future__ import annotations

import torch


def nearest_reference(gen_feats: torch.Tensor, ref_feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per generated image: (distance to its closest reference image, that image's index)."""
    gen = torch.nn.functional.normalize(gen_feats.double(), dim=1)
    ref = torch.nn.functional.normalize(ref_feats.double(), dim=1)
    distance = (1.0 - (gen @ ref.T).abs()).clamp(min=0.0)  # rounding can push |cos| a hair above 1
    return distance.min(dim=1)


def memorisation_distance(gen_feats: torch.Tensor, ref_feats: torch.Tensor) -> float:
    """d: the mean over generated images of the minimum distance to any reference image."""
    return float(nearest_reference(gen_feats, ref_feats)[0].mean())


def closest_pairs(gen_feats: torch.Tensor, ref_feats: torch.Tensor, gen_names, ref_names,
                  top_k: int = 10) -> list[dict]:
    """The top_k generated images nearest a reference painting, nearest first."""
    distance, index = nearest_reference(gen_feats, ref_feats)
    order = distance.argsort()[:top_k]
    return [{"generated": gen_names[i], "reference": ref_names[index[i]], "distance": float(distance[i])}
            for i in order.tolist()]
