"""The two ways translation generators double a feature map's resolution.

transpose: a 3x3 stride-2 transposed convolution (CycleGAN's reference). Its kernel overlaps
    unevenly across output pixels, which shows as a checkerboard texture early in training.
resize: nearest-neighbour upsampling, reflection padding, then a 3x3 convolution (Odena et al.,
    "Deconvolution and Checkerboard Artifacts", 2016), the fix the CycleGAN authors' FAQ recommends.
"""
from torch import nn

UPSAMPLING = ("transpose", "resize")


def upsample_conv(in_channels: int, out_channels: int, mode: str, kernel: int = 3) -> nn.Module:
    """A layer mapping [N, in, H, W] to [N, out, 2H, 2W]."""
    if mode == "transpose":
        padding = (kernel - 1) // 2
        return nn.ConvTranspose2d(in_channels, out_channels, kernel, stride=2, padding=padding,
                                  output_padding=kernel % 2)
    if mode == "resize":
        return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(1),
                             nn.Conv2d(in_channels, out_channels, 3))
    raise ValueError(f"unknown upsampling {mode!r}: use {' or '.join(UPSAMPLING)}")
