"""FID and KID of two feature sets, computed by torch-fidelity's own functions."""
from __future__ import annotations

import torch
from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_features_to_statistics, fid_statistics_to_metric
from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, KEY_METRIC_KID_STD, kid_features_to_metric

KID_SUBSETS = 100  # torch-fidelity's default
KID_SUBSET_SIZE = 1000  # torch-fidelity's default, lowered to half the smaller set when needed


def frechet_distance(feats_a: torch.Tensor, feats_b: torch.Tensor) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^1/2) over [N, D] features."""
    stats_a = fid_features_to_statistics(feats_a.double().cpu())
    stats_b = fid_features_to_statistics(feats_b.double().cpu())
    return fid_statistics_to_metric(stats_a, stats_b, verbose=False)[KEY_METRIC_FID]


def kid_subset_size(samples: int) -> int:
    """Half the smaller set, at most torch-fidelity's 1000: subsets as large as the whole set would
    all be the same, and the std over them 0."""
    return max(2, min(KID_SUBSET_SIZE, samples // 2))


def kernel_inception_distance(feats_a: torch.Tensor, feats_b: torch.Tensor, seed: int = 2020) -> tuple[float, float]:
    """(mean, std) of the unbiased polynomial-kernel MMD^2 over KID_SUBSETS random subsets."""
    subset_size = kid_subset_size(min(len(feats_a), len(feats_b)))
    out = kid_features_to_metric(feats_a.double().cpu(), feats_b.double().cpu(), kid_subsets=KID_SUBSETS,
                                 kid_subset_size=subset_size, rng_seed=seed, verbose=False)
    return out[KEY_METRIC_KID_MEAN], out[KEY_METRIC_KID_STD]
