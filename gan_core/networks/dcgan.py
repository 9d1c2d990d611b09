"""DCGAN (Radford et al. 2015) for 28, 32, 64, 128 or 256 px from one parametric definition.

The generator projects z to a base grid (4x4, or 7x7 for 28 px digits) and doubles the
resolution with stride-2 transposed convs (or, with upsample="resize", nearest upsampling and a
3x3 conv: no checkerboard texture) until the target size; the discriminator mirrors it.
Widths double per level from ngf/ndf, capped at 8x so 256 px stays trainable.
"""
import math

from torch import nn

from gan_core.networks.upsampling import upsample_conv

SIZES = (28, 32, 64, 128, 256)
MAX_MULT = 8


def _levels(image_size: int) -> tuple[int, int]:
    if image_size not in SIZES:
        raise ValueError(f"DCGAN image_size {image_size} is not supported; choose one of {SIZES}")
    base = 7 if image_size == 28 else 4
    return base, int(math.log2(image_size // base))


def _mult(level: int) -> int:
    return min(2 ** level, MAX_MULT)


class DCGANGenerator(nn.Module):
    def __init__(self, latent_dim: int, channels: int, image_size: int, ngf: int = 64, upsample: str = "transpose"):
        super().__init__()
        base, n_up = _levels(image_size)
        width = ngf * _mult(n_up - 1)
        layers = [nn.ConvTranspose2d(latent_dim, width, base, 1, 0, bias=False),
                  nn.BatchNorm2d(width), nn.ReLU(True)]
        for level in reversed(range(n_up - 1)):
            out = ngf * _mult(level)
            layers += [self._up(width, out, upsample), nn.BatchNorm2d(out), nn.ReLU(True)]
            width = out
        layers += [self._up(width, channels, upsample), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.latent_dim = latent_dim

    @staticmethod
    def _up(c_in: int, c_out: int, mode: str) -> nn.Module:
        if mode == "transpose":
            return nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False)  # the paper's
        return upsample_conv(c_in, c_out, mode)

    def first_block(self, z):
        """The base grid z is projected to (the latent explorer's principal directions read it)."""
        return self.net[:3](z.view(z.shape[0], self.latent_dim, 1, 1))

    def forward(self, z):
        return self.net(z.view(z.shape[0], self.latent_dim, 1, 1))


class DCGANDiscriminator(nn.Module):
    """Strided convs, BatchNorm on every conv but the first, LeakyReLU(0.2).

    head="conv": a final conv over the whole base grid (the paper's); head="avgpool": adaptive
    average pooling then a linear layer, which tolerates any input size.
    """

    def __init__(self, channels: int, image_size: int, ndf: int = 64, head: str = "conv"):
        super().__init__()
        base, n_down = _levels(image_size)
        layers = [nn.Conv2d(channels, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        width = ndf
        for level in range(1, n_down):
            out = ndf * _mult(level)
            layers += [nn.Conv2d(width, out, 4, 2, 1, bias=False), nn.BatchNorm2d(out),
                       nn.LeakyReLU(0.2, inplace=True)]
            width = out
        if head == "conv":
            layers.append(nn.Conv2d(width, 1, base, 1, 0, bias=False))
        elif head == "avgpool":
            layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 1)]
        else:
            raise ValueError(f"unknown discriminator head {head!r}: use conv or avgpool")
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x).view(-1)
