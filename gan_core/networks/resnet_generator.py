"""CycleGAN's ResNet generator (Johnson et al. 2016, as used by Zhu et al. 2017).

c7s1-ngf, d(2 ngf), d(4 ngf), n_blocks x R(4 ngf), u(2 ngf), u(ngf), c7s1-3, tanh: a 7x7 conv,
two stride-2 downsamplings, residual blocks at a quarter of the resolution, two upsamplings
(transposed convs, or resize-convs: gan_core.networks.upsampling), a 7x7 conv. Reflection padding
avoids border artefacts; instance norm (no affine, no running stats) normalises each image on its
own, which style transfer needs.

`encode(x, layers)` returns the outputs of chosen layers of the sequence (PatchNCE's features).
Indices into `self.net`: 0 the padded input, 1-3 the 7x7 conv/norm/ReLU, 4 the first
downsampling conv, 7 the second, 10 onwards the residual blocks.
"""
from torch import nn

from gan_core.networks.upsampling import upsample_conv


def _norm(width: int) -> nn.Module:
    return nn.InstanceNorm2d(width, affine=False, track_running_stats=False)


class ResidualBlock(nn.Module):
    """x + (pad, conv3x3, norm, ReLU, pad, conv3x3, norm)(x)."""

    def __init__(self, width: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(width, width, 3), _norm(width), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(width, width, 3), _norm(width))

    def forward(self, x):
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """Image-to-image generator; input height and width must be multiples of 4."""

    size_multiple = 4
    FIRST_BLOCK = 10

    def __init__(self, channels: int = 3, ngf: int = 64, n_blocks: int = 9, upsample: str = "transpose"):
        super().__init__()
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(channels, ngf, 7), _norm(ngf), nn.ReLU(True)]
        width = ngf
        for _ in range(2):
            layers += [nn.Conv2d(width, width * 2, 3, stride=2, padding=1), _norm(width * 2), nn.ReLU(True)]
            width *= 2
        layers += [ResidualBlock(width) for _ in range(n_blocks)]
        for _ in range(2):
            layers += [upsample_conv(width, width // 2, upsample), _norm(width // 2), nn.ReLU(True)]
            width //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(width, channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.n_blocks = n_blocks

    def forward(self, x):
        return self.net(x)

    def default_nce_layers(self) -> list[int]:
        """The reference's ResNet choice (its 0,4,8,12,16): the padded input, both downsampling
        convs, and the 1st and 5th residual blocks (the last one when there are fewer)."""
        first = self.FIRST_BLOCK
        return sorted({0, 4, 7, first, first + min(4, self.n_blocks - 1)})

    def encoder_depth(self) -> int:
        """Layers that belong to the encoder (valid PatchNCE indices are below this)."""
        return self.FIRST_BLOCK + self.n_blocks

    def encode(self, x, layers: list[int]) -> list:
        feats, wanted = [], set(layers)
        for i, layer in enumerate(self.net):
            x = layer(x)
            if i in wanted:
                feats.append(x)
                if len(feats) == len(wanted):
                    break
        return feats
