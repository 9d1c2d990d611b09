"""History of generated images for the discriminators (Shrivastava et al. 2017; CycleGAN).

Showing D a mix of current and older fakes keeps it from chasing only G's latest output, which
damps oscillation. Until the pool is full every new image is stored and returned; after that,
each new image is, with probability 1/2, swapped for a random stored one (the old one goes to
D, the new one into the pool), else returned as is.
"""
from __future__ import annotations

import torch


class ImagePool:
    def __init__(self, size: int):
        self.size = size
        self.images: list[torch.Tensor] = []

    @torch.no_grad()
    def query(self, images: torch.Tensor) -> torch.Tensor:
        """images [N, C, H, W] (detached) -> the batch to show D. Draws from the global torch RNG,
        which the trainer's checkpoints restore, so a resumed run draws the same."""
        if self.size == 0:
            return images
        out = []
        for image in images.detach().float():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand(()) < 0.5:
                i = int(torch.randint(len(self.images), ()))
                out.append(self.images[i])
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict:
        stacked = torch.stack(self.images).cpu() if self.images else torch.empty(0)
        return {"images": stacked}

    def load_state_dict(self, state: dict, device: torch.device) -> None:
        self.images = [image.to(device) for image in state["images"]]
