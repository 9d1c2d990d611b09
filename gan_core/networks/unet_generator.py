"""U-Net generator (Ronneberger et al. 2015; pix2pix; the Kaggle competition tutorial's CycleGAN).

An encoder of 4x4 stride-2 convs (instance norm, LeakyReLU 0.2) halves the image `depth` times
(by default down to 1x1 at the training size, as the tutorial), widths ngf, 2 ngf, 4 ngf, then 8 ngf;
a decoder of upsamplings (4x4 transposed convs or resize-convs; instance norm, ReLU) climbs back,
each step concatenated with the encoder map of its resolution, and a last upsampling to the
channels with tanh. The skips carry the photo's detail straight to the output, so the generator
reproduces its input early in training.
Deviations from the tutorial: no dropout (CycleGAN trains without it), and no norm on the
innermost 1x1 map (instance norm of a single pixel is identically zero).

`encode(x, layers)`: index 0 is the input image, k the output of encoder block k (PatchNCE).
Inputs must be multiples of 2^depth.

With resize-conv upsampling and a 1x1 bottleneck, the innermost decoder step is dead in training:
the nearest upsampling of a 1x1 map is constant, so its conv output is constant and instance norm
makes it zero (no gradient reaches it or the innermost encoder conv). At a larger export size the
bottleneck is 2x2 and the same untrained weights add a signal the decoder never saw. A smaller
`depth` (a bottleneck of 2x2 or more at the training size) keeps training and export alike.
"""
import math

import torch
from torch import nn

from gan_core.networks.upsampling import upsample_conv


def _width(ngf: int, level: int) -> int:
    return ngf * min(2 ** level, 8)


class UnetGenerator(nn.Module):
    def __init__(self, channels: int = 3, ngf: int = 64, image_size: int = 256, upsample: str = "transpose",
                 depth: int = 0, padding: str = "zeros"):
        super().__init__()
        full_depth = int(math.log2(image_size))
        if 2 ** full_depth != image_size:
            raise ValueError(f"image_size={image_size}: the U-Net generator needs a power of 2")
        if not 0 <= depth <= full_depth:
            raise ValueError(f"depth={depth}: 0 (down to 1x1) or 1 to {full_depth} for {image_size} px")
        self.depth = depth or full_depth
        self.size_multiple = 2 ** self.depth
        kernel = 4 if upsample == "transpose" else 3
        self.down = nn.ModuleList()
        width_in = channels
        for level in range(self.depth):
            out = _width(ngf, level)
            norm = level > 0 and image_size >> (level + 1) > 1  # no norm on the input's level or a 1x1 map
            self.down.append(nn.Sequential(
                nn.Conv2d(width_in, out, 4, stride=2, padding=1, padding_mode=padding),
                nn.InstanceNorm2d(out) if norm else nn.Identity(), nn.LeakyReLU(0.2, True)))
            width_in = out
        self.up = nn.ModuleList()
        for level in reversed(range(self.depth - 1)):
            out = _width(ngf, level)
            # The innermost step sees only the bottleneck; the others also the skip of their level.
            width_in = _width(ngf, level + 1) * (1 if level == self.depth - 2 else 2)
            self.up.append(nn.Sequential(upsample_conv(width_in, out, upsample, kernel),
                                         nn.InstanceNorm2d(out), nn.ReLU(True)))
        self.last = nn.Sequential(upsample_conv(2 * _width(ngf, 0), channels, upsample, kernel), nn.Tanh())

    def forward(self, x):
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
        skips.pop()  # the bottleneck itself
        for block in self.up:
            x = torch.cat([block(x), skips.pop()], dim=1)
        return self.last(x)

    def default_nce_layers(self) -> list[int]:
        """The input and the first four encoder blocks (at most depth - 1)."""
        return list(range(0, min(4, self.depth - 1) + 1))

    def encoder_depth(self) -> int:
        return self.depth + 1

    def encode(self, x, layers: list[int]) -> list:
        wanted = set(layers)
        feats = [x] if 0 in wanted else []
        for level, block in enumerate(self.down, start=1):
            if len(feats) == len(wanted):
                break
            x = block(x)
            if level in wanted:
                feats.append(x)
        return feats
