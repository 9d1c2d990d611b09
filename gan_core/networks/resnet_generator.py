"""CycleGAN's ResNet generator (Johnson et al. 2016, as used by Zhu et al. 2017).

c7s1-ngf, d(2 ngf), d(4 ngf), n_blocks x R(4 ngf), u(2 ngf), u(ngf), c7s1-3, tanh: a 7x7 conv,
two stride-2 downsamplings, residual blocks at a quarter of the resolution, two stride-2
transposed-conv upsamplings, a 7x7 conv. Reflection padding avoids border artefacts; instance
norm (no affine, no running stats) normalises each image on its own, which style transfer needs.
"""
from torch import nn


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

    def __init__(self, channels: int = 3, ngf: int = 64, n_blocks: int = 9):
        super().__init__()
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(channels, ngf, 7), _norm(ngf), nn.ReLU(True)]
        width = ngf
        for _ in range(2):
            layers += [nn.Conv2d(width, width * 2, 3, stride=2, padding=1), _norm(width * 2), nn.ReLU(True)]
            width *= 2
        layers += [ResidualBlock(width) for _ in range(n_blocks)]
        for _ in range(2):
            layers += [nn.ConvTranspose2d(width, width // 2, 3, stride=2, padding=1, output_padding=1),
                       _norm(width // 2), nn.ReLU(True)]
            width //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(width, channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)
