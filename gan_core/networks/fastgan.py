"""FastGAN (Liu et al., ICLR 2021, "Towards Faster and Stabilized GAN Training for High-fidelity
Few-shot Image Synthesis") at 64, 128 or 256 px from one parametric definition.

Generator: z -> 4x4 (transposed conv, BN, GLU), then upsampling blocks (nearest x2, 3x3 conv, BN,
GLU; every other block a double one) to the image size, with skip-layer excitation: the 4, 8 and
16 px maps gate the channels of the 64, 128 and 256 px maps. Discriminator: a big branch from the
image down to 8x8 (residual down blocks, excitation from the maps 8x larger) and a small branch on
the half-size image, each ending in a 5x5 map of logits; three small decoders reconstruct the
image, the small image and a random quarter of the image from D's 8x8 features (the
self-supervision that keeps D from overfitting a few hundred images). Spectral norm on every conv
as in the reference (odegeasslbc/FastGAN-pytorch).

Deviations, for a CPU and for this engine: no noise injection (sampling stays a function of z,
which the latent explorer relies on); G returns one image and D's small branch sees it resized
to half size (the reference has G emit a second, 128 px image for that branch).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

SIZES = (64, 128, 256)
#: generator width per resolution, as multiples of ngf (the reference's nfc_multi)
G_WIDTH = {4: 16, 8: 8, 16: 4, 32: 2, 64: 2, 128: 1, 256: 0.5}
#: the reference's decoder width (its SimpleDecoder's base, whatever ndf is)
DECODER_WIDTH = 32


def check_size(image_size: int) -> None:
    if image_size not in SIZES:
        raise ValueError(f"FastGAN image_size {image_size} is not supported; choose one of {SIZES}")


def sn_conv(cls, *args, **kwargs) -> nn.Module:
    """A spectral-normed conv initialised N(0, 0.02) like the reference."""
    conv = cls(*args, bias=False, **kwargs)
    nn.init.normal_(conv.weight, 0.0, 0.02)
    return spectral_norm(conv)


def conv(*args, **kwargs):
    return sn_conv(nn.Conv2d, *args, **kwargs)


def batch_norm(channels: int) -> nn.BatchNorm2d:
    bn = nn.BatchNorm2d(channels)
    nn.init.normal_(bn.weight, 1.0, 0.02)
    return bn


def up_block(c_in: int, c_out: int, double: bool = False) -> nn.Sequential:
    layers = [nn.Upsample(scale_factor=2, mode="nearest"), conv(c_in, c_out * 2, 3, 1, 1),
              batch_norm(c_out * 2), nn.GLU(dim=1)]
    if double:
        layers += [conv(c_out, c_out * 2, 3, 1, 1), batch_norm(c_out * 2), nn.GLU(dim=1)]
    return nn.Sequential(*layers)


class Excitation(nn.Module):
    """Skip-layer excitation: channel gates for a big map computed from a small one."""

    def __init__(self, c_small: int, c_big: int):
        super().__init__()
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(4), conv(c_small, c_big, 4, 1, 0), nn.SiLU(),
                                  conv(c_big, c_big, 1, 1, 0), nn.Sigmoid())

    def forward(self, small, big):
        return big * self.gate(small)


class FastGANGenerator(nn.Module):
    def __init__(self, latent_dim: int, channels: int, image_size: int, ngf: int = 64):
        super().__init__()
        check_size(image_size)
        width = {r: max(8, int(m * ngf)) for r, m in G_WIDTH.items()}
        self.latent_dim = latent_dim
        self.init = nn.Sequential(sn_conv(nn.ConvTranspose2d, latent_dim, width[4] * 2, 4, 1, 0),
                                  batch_norm(width[4] * 2), nn.GLU(dim=1))
        self.resolutions = [2 ** k for k in range(3, int(math.log2(image_size)) + 1)]
        self.ups = nn.ModuleList(up_block(width[r // 2], width[r], double=(i % 2 == 0))
                                 for i, r in enumerate(self.resolutions))
        self.excite = nn.ModuleDict({str(r): Excitation(width[r // 16], width[r])
                                     for r in self.resolutions if r >= 64})
        self.to_rgb = nn.Sequential(conv(width[image_size], channels, 3, 1, 1), nn.Tanh())

    def first_block(self, z: torch.Tensor) -> torch.Tensor:
        """The 4x4 map z first becomes (the latent explorer's principal directions read it)."""
        return self.init(z.view(z.shape[0], self.latent_dim, 1, 1))

    def forward(self, z):
        feats = {4: self.first_block(z)}
        x = feats[4]
        for r, up in zip(self.resolutions, self.ups):
            x = up(x)
            if str(r) in self.excite:
                x = self.excite[str(r)](feats[r // 16], x)
            feats[r] = x
        return self.to_rgb(x)


class DownBlock(nn.Module):
    """Strided conv; `residual` adds the reference's DownBlockComp average-pool shortcut and a 2nd conv."""

    def __init__(self, c_in: int, c_out: int, residual: bool = True):
        super().__init__()
        layers = [conv(c_in, c_out, 4, 2, 1), batch_norm(c_out), nn.LeakyReLU(0.2)]
        if residual:
            layers += [conv(c_out, c_out, 3, 1, 1), batch_norm(c_out), nn.LeakyReLU(0.2)]
        self.main = nn.Sequential(*layers)
        self.direct = nn.Sequential(nn.AvgPool2d(2, 2), conv(c_in, c_out, 1, 1, 0), batch_norm(c_out),
                                    nn.LeakyReLU(0.2)) if residual else None

    def forward(self, x):
        return (self.main(x) + self.direct(x)) / 2 if self.direct is not None else self.main(x)


def resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Antialiased bilinear resize, in fp32 (CPUs have no bf16 kernel for it), back in x's dtype."""
    return F.interpolate(x.float(), size=size, mode="bilinear", align_corners=False, antialias=True).to(x.dtype)


def decoder(c_in: int, channels: int, out_size: int, width: int = DECODER_WIDTH) -> nn.Sequential:
    """8x8 features -> an out_size image (the reference's SimpleDecoder): `width` channels at 128 px,
    G_WIDTH's multiples of it below."""
    layers, c = [nn.AdaptiveAvgPool2d(8)], c_in
    for r in (2 ** k for k in range(4, int(math.log2(out_size)) + 1)):
        out = max(8, int(G_WIDTH[r] * width))
        layers.append(up_block(c, out))
        c = out
    layers += [conv(c, channels, 3, 1, 1), nn.Tanh()]
    return nn.Sequential(*layers)


class FastGANDiscriminator(nn.Module):
    """forward(x) -> logits [N, 50] (big and small branch, 5x5 each); with reconstruct=True also the
    three reconstructions and their targets, for D's self-supervised loss."""

    def __init__(self, channels: int, image_size: int, ndf: int = 64, rec_width: int = DECODER_WIDTH):
        super().__init__()
        check_size(image_size)
        self.image_size = image_size
        width = {r: max(8, ndf * 64 // r) for r in (2 ** k for k in range(3, 9))}
        res = [2 ** k for k in range(int(math.log2(image_size)), 3, -1)]  # S, S/2, ..., 16
        self.stem = nn.Sequential(conv(channels, width[image_size], 3, 1, 1), nn.LeakyReLU(0.2))
        self.downs = nn.ModuleList(DownBlock(width[r], width[r // 2]) for r in res)
        self.excite = nn.ModuleDict({str(r): Excitation(width[r * 8], width[r])
                                     for r in (32, 16, 8) if r * 8 <= image_size})
        self.logits_big = nn.Sequential(conv(width[8], width[8], 1, 1, 0), batch_norm(width[8]),
                                        nn.LeakyReLU(0.2), conv(width[8], 1, 4, 1, 0))
        small = image_size // 2
        small_width = {r: w // 2 for r, w in width.items()}
        layers = [conv(channels, small_width[small // 2], 4, 2, 1), nn.LeakyReLU(0.2)]
        layers += [DownBlock(small_width[r], small_width[r // 2], residual=False)
                   for r in (2 ** k for k in range(int(math.log2(small // 2)), 3, -1))]
        self.small = nn.Sequential(*layers)
        self.logits_small = conv(small_width[8], 1, 4, 1, 0)
        self.rec_size = min(128, image_size)
        self.decode_big = decoder(width[8], channels, self.rec_size, rec_width)
        self.decode_part = decoder(width[16], channels, self.rec_size, rec_width)
        self.decode_small = decoder(small_width[8], channels, min(128, small), rec_width)

    def forward(self, x, reconstruct: bool = False, part: int = 0):
        feats = {self.image_size: self.stem(x)}
        h = feats[self.image_size]
        for down in self.downs:
            h = down(h)
            r = h.shape[-1]
            if str(r) in self.excite:
                h = self.excite[str(r)](feats[r * 8], h)
            feats[r] = h
        x_small = resize(x, self.image_size // 2)
        h_small = self.small(x_small)
        logits = torch.cat([self.logits_big(feats[8]).flatten(1), self.logits_small(h_small).flatten(1)], 1)
        if not reconstruct:
            return logits
        row, col = divmod(part, 2)
        quarter = feats[16][:, :, row * 8:(row + 1) * 8, col * 8:(col + 1) * 8]
        half = self.image_size // 2
        crop = x[:, :, row * half:(row + 1) * half, col * half:(col + 1) * half]
        recs = (self.decode_big(feats[8]), self.decode_part(quarter), self.decode_small(h_small))
        targets = (x, crop, x_small)
        targets = tuple(resize(t, r.shape[-1]) if t.shape[-1] != r.shape[-1] else t for t, r in zip(targets, recs))
        return logits, recs, targets
