"""Adversarial losses on raw discriminator outputs (logits).

bce:   D: -log s(D(x)) - log(1 - s(D(G(z))))      G: -log s(D(G(z)))         (non-saturating)
lsgan: D: 1/2 (D(x) - 1)^2 + 1/2 D(G(z))^2         G: 1/2 (D(G(z)) - 1)^2     (Mao et al. 2017)
hinge: D: relu(1 - D(x)) + relu(1 + D(G(z)))       G: -D(G(z))                (Lim & Ye 2017)
One-sided label smoothing (Salimans et al. 2016) lowers only the real target, to 1 - smoothing.
"""
import torch
import torch.nn.functional as F


def d_loss(real: torch.Tensor, fake: torch.Tensor, kind: str, smoothing: float = 0.0) -> torch.Tensor:
    real, fake = real.float(), fake.float()
    target = 1.0 - smoothing
    if kind == "bce":
        return (F.binary_cross_entropy_with_logits(real, torch.full_like(real, target))
                + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
    if kind == "lsgan":
        return 0.5 * ((real - target) ** 2).mean() + 0.5 * (fake ** 2).mean()
    if kind == "hinge":
        return F.relu(target - real).mean() + F.relu(1.0 + fake).mean()
    raise ValueError(f"unknown loss {kind!r}: use bce, lsgan or hinge")


def g_loss(fake: torch.Tensor, kind: str) -> torch.Tensor:
    fake = fake.float()
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
    if kind == "lsgan":
        return 0.5 * ((fake - 1.0) ** 2).mean()
    if kind == "hinge":
        return -fake.mean()
    raise ValueError(f"unknown loss {kind!r}: use bce, lsgan or hinge")
