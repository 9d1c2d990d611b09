"""70x70 PatchGAN discriminator (Isola et al. 2017): C64-C128-C256-C512, then a 1-channel conv.

4x4 convs, stride 2 for the first three and 1 for the last two, LeakyReLU(0.2), instance norm (or, with
norm="none", nothing) on every conv but the first and the last. Each output value judges one 70x70 input patch, so the
output is a map (30x30 for 256 px input), not a single score.
"""
from torch import nn


class PatchGANDiscriminator(nn.Module):
    def __init__(self, channels: int = 3, ndf: int = 64, n_layers: int = 3, norm: str = "instance"):
        super().__init__()
        if norm not in ("instance", "none"):
            raise ValueError(f"norm={norm!r}: choose instance or none")
        layers = [nn.Conv2d(channels, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        width = ndf
        for i in range(1, n_layers + 1):
            out = ndf * min(2 ** i, 8)
            stride = 2 if i < n_layers else 1
            layers += [nn.Conv2d(width, out, 4, stride=stride, padding=1),
                       nn.InstanceNorm2d(out, affine=False, track_running_stats=False) if norm == "instance"
                       else nn.Identity(), nn.LeakyReLU(0.2, True)]
            width = out
        layers.append(nn.Conv2d(width, 1, 4, stride=1, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)
