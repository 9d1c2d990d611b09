"""PatchNCE (Park et al. 2020, "Contrastive Learning for Unpaired Image-to-Image Translation").

For each chosen generator layer, `PatchSampler` picks the same random patch locations in the
input's and the output's feature maps, and projects each patch's feature vector with that
layer's 2-layer MLP head to an L2-normalised embedding. `patch_nce_loss` is then a cross-entropy
in which each output patch must pick its own input patch (the positive) among the other sampled
patches of the same image (the negatives), at a temperature:

    loss = mean over patches i of  -log( exp(q_i.k_i / t) / sum_j exp(q_i.k_j / t) )

with j over the image's sampled patches. The keys k come from the input and carry no gradient,
as in the reference implementation (taesungp/contrastive-unpaired-translation).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PatchSampler(nn.Module):
    """One projection head per layer, built up front from the layers' channel counts (the
    reference builds them on the first forward; here they exist before the optimizers do, so
    they are in every checkpoint from step 0)."""

    def __init__(self, channels: list[int], dim: int = 256):
        super().__init__()
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Linear(c, dim), nn.ReLU(inplace=True), nn.Linear(dim, dim)) for c in channels)

    def forward(self, feats: list[torch.Tensor], num_patches: int,
                patch_ids: list[torch.Tensor] | None = None) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """feats [B, C, H, W] per layer -> embeddings [B * P, dim] per layer and the patch ids used.
        New ids are drawn from the global torch RNG (the trainer seeds it per step)."""
        embeddings, ids = [], []
        for i, (feat, head) in enumerate(zip(feats, self.heads)):
            flat = feat.flatten(2).transpose(1, 2)  # B, HW, C
            if patch_ids is None:
                chosen = torch.randperm(flat.size(1))[:num_patches].to(feat.device)
            else:
                chosen = patch_ids[i]
            patches = flat[:, chosen, :].flatten(0, 1)
            embeddings.append(F.normalize(head(patches).float(), dim=1))
            ids.append(chosen)
        return embeddings, ids


def patch_nce_loss(q: torch.Tensor, k: torch.Tensor, batch_size: int, temperature: float) -> torch.Tensor:
    """q, k: [B * P, dim] embeddings of the output's and the input's patches (same locations, in
    order); negatives are the other patches of the same image. Returns the mean loss."""
    k = k.detach()
    dim = q.size(1)
    q, k = q.view(batch_size, -1, dim), k.view(batch_size, -1, dim)
    logits = torch.bmm(q, k.transpose(1, 2)) / temperature  # B, P, P: row i's positive is column i
    target = torch.arange(logits.size(1), device=q.device).repeat(batch_size)
    return F.cross_entropy(logits.flatten(0, 1), target)
