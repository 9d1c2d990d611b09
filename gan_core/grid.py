"""Image grids of [-1, 1] batches: the trainer's sample sheets and the studio's latent strips.

Laid out as torchvision.utils.make_grid(normalize=True, value_range=(-1, 1)) lays them out (tested
against it), in a few lines of torch: importing torchvision costs seconds on a 2-core machine, and the
studio's pages and the trainer need nothing else from it.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image


def grid_rows(n: int) -> int:
    """Images per row of an n-image sample sheet: about square."""
    return max(1, int(math.sqrt(n)))


def make_grid(images: torch.Tensor, nrow: int, padding: int = 2, pad_value: float = 0.0) -> torch.Tensor:
    """[N, C, H, W] in [-1, 1] (values outside are clipped) -> float [3, H', W'] in [0, 1]: nrow images per
    row, `padding` pixels of pad_value around and between them; one-channel images become grey RGB."""
    n, c, h, w = images.shape
    images = images.detach().float().clamp(-1, 1).add(1).div(2)
    if c == 1:
        images = images.expand(n, 3, h, w)
    columns = min(nrow, n)
    rows = -(-n // columns)
    cell_h, cell_w = h + padding, w + padding
    grid = images.new_full((3, rows * cell_h + padding, columns * cell_w + padding), pad_value)
    for i, image in enumerate(images):
        top, left = (i // columns) * cell_h + padding, (i % columns) * cell_w + padding
        grid[:, top:top + h, left:left + w] = image
    return grid


def to_image(grid: torch.Tensor) -> Image.Image:
    """A [3, H, W] grid in [0, 1] as an RGB PIL image (values rounded to the nearest level)."""
    pixels = grid.mul(255).add(0.5).clamp(0, 255).to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(np.ascontiguousarray(pixels))
