"""Latent-space tools for noise GANs: seeded sampling, truncation, slerp interpolation, and
GANSpace-style principal directions (Härkönen et al. 2020).

GANSpace: run many z through the generator's first block, take the principal components of
those activations, then regress z on the component coordinates so that each component maps to
a direction in z that a slider can move along.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from gan_core.models.base import eval_mode, seeded_generator


def latent_vectors(latent_dim: int, count: int, seed: int) -> torch.Tensor:
    return torch.randn(count, latent_dim, generator=seeded_generator(seed, 11))


def truncate(z: torch.Tensor, psi: float) -> torch.Tensor:
    """Pull z towards the mean of its prior (0): psi=1 leaves it, psi<1 trades variety for fidelity."""
    return z * psi


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation, which keeps intermediate z at the norm a Gaussian prior expects."""
    a_n, b_n = a / a.norm(dim=-1, keepdim=True), b / b.norm(dim=-1, keepdim=True)
    omega = torch.arccos((a_n * b_n).sum(-1, keepdim=True).clamp(-1 + 1e-7, 1 - 1e-7))
    so = torch.sin(omega)
    return torch.sin((1 - t) * omega) / so * a + torch.sin(t * omega) / so * b


def _require_noise_model(model) -> None:
    if not hasattr(model, "generate"):
        raise ValueError(f"the {model.cfg.model} model is not generated from noise: latent tools need an "
                         f"MLP, DCGAN or FastGAN run")


def sample_images(model, count: int, seed: int = 0, psi: float = 1.0) -> torch.Tensor:
    """count images in [-1, 1] (CPU). For CycleGAN runs: its fixed translation sheet."""
    if not hasattr(model, "generate"):
        return model.sample_grid()[:count]
    z = truncate(latent_vectors(model.cfg.latent_dim, count, seed), psi)
    return model.generate(z).cpu()


def interpolate(model, seed_a: int, seed_b: int, steps: int = 8, psi: float = 1.0) -> torch.Tensor:
    _require_noise_model(model)
    za = latent_vectors(model.cfg.latent_dim, 1, seed_a)[0]
    zb = latent_vectors(model.cfg.latent_dim, 1, seed_b)[0]
    zs = torch.stack([slerp(za, zb, t) for t in torch.linspace(0, 1, steps).tolist()])
    return model.generate(truncate(zs, psi)).cpu()


@dataclass
class Directions:
    vectors: torch.Tensor      # [k, latent_dim], unit norm
    explained: torch.Tensor    # [k] fraction of activation variance per component
    z_std: torch.Tensor        # [k] std of the samples' coordinates along each direction, for slider ranges


@torch.no_grad()
def principal_directions(model, components: int = 8, samples: int = 2000, seed: int = 0) -> Directions:
    _require_noise_model(model)
    G = model.generator()
    with eval_mode(G):
        z = latent_vectors(model.cfg.latent_dim, samples, seed).to(model.device)
        # Every noise generator exposes first_block(z): its first layer's activations.
        acts = G.first_block(z).flatten(1)
    acts = acts.float().cpu()
    z = z.cpu()
    acts = acts - acts.mean(0)
    _, s, v = torch.linalg.svd(acts, full_matrices=False)
    k = min(components, v.shape[0])
    coords = acts @ v[:k].T                       # [samples, k]
    vectors = torch.linalg.lstsq(coords, z).solution  # [k, latent_dim]: z ~ coords @ vectors
    vectors = vectors / vectors.norm(dim=1, keepdim=True)
    variance = s ** 2
    return Directions(vectors, variance[:k] / variance.sum(), (z @ vectors.T).std(0))


def edit(model, seed: int, directions: Directions, amounts: dict[int, float], psi: float = 1.0,
         dims: dict[int, float] | None = None) -> torch.Tensor:
    """One image from seed, moved by `amounts` (component -> multiples of its std) and with raw
    latent dimensions set by `dims` (index -> value)."""
    _require_noise_model(model)
    z = latent_vectors(model.cfg.latent_dim, 1, seed)[0]
    for dim, value in (dims or {}).items():
        z[dim] = value
    for i, amount in amounts.items():
        z = z + amount * directions.z_std[i] * directions.vectors[i]
    return model.generate(truncate(z[None], psi)).cpu()
