"""How photos become Monet JPEGs, for `export` and `translate` alike: the choices and their defaults,
kept here as the one place to change them when measurements say so.

resolution (translation models): "training" translates at the run's image_size and resizes the
  result to the output size; "native" loads the photos at the output size (256 px for the
  competition, the photos' own size) and translates them there. The generators are fully
  convolutional, so a model trained at 128 px runs at 256 px, but sees its features at half scale.
tta (translation models): "flip" averages a photo's translation with the un-mirrored translation of
  its mirror image, in float before quantising; "none" translates once.
subsampling (every JPEG): "444" keeps the colour at full resolution, "420" halves it both ways.
quality (every JPEG): 1 to 100. The competition's paintings and photos are themselves quality-75,
  4:2:0 JPEGs.
colour (every model): "none", or one table per RGB channel, computed from the export's first images,
  that moves their colours to the Monet paintings' ("mean-std": each channel's mean and standard
  deviation; "histogram": each channel's histogram). See gan_core.colour.
"""
from __future__ import annotations

RESOLUTIONS = ("native", "training")
TTAS = ("none", "flip")
SUBSAMPLINGS = {"444": 0, "420": 2}  # PIL's `subsampling` argument

DEFAULT_RESOLUTION = "native"  # measured: FID 103.6 against 116.3 for "training" (bench/RESULTS.md)
DEFAULT_TTA = "none"  # measured: flip TTA 117.6 against 116.3 (it blurs)
DEFAULT_SUBSAMPLING = "420"  # what PIL does unasked at quality 95: every export made before this option
JPEG_QUALITY = 75  # measured: FID 91.8 against 97.2 at 95 for the CUT preview (bench/RESULTS.md)
COLOURS = ("none", "mean-std", "histogram")
DEFAULT_COLOUR = "none"
SIZE_MULTIPLE = 32  # translation models take photos whose size is a multiple of this


def check_choice(name: str, value: str, choices) -> str:
    if value not in choices:
        raise ValueError(f"{name} {value!r}: choose one of {', '.join(choices)}")
    return value


def check_quality(quality: int) -> int:
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality {quality!r}: choose a whole number from 1 to 100 (default {JPEG_QUALITY})")
    return quality


def jpeg_options(quality: int, subsampling: str) -> dict:
    """Keyword arguments for PIL's JPEG save."""
    check_quality(quality)
    return {"quality": quality, "subsampling": SUBSAMPLINGS[check_choice("subsampling", subsampling, SUBSAMPLINGS)]}


def translation_size(resolution: str, image_size: int, out_size: int) -> int:
    """The size photos are loaded and translated at, for output images of out_size pixels."""
    if check_choice("resolution", resolution, RESOLUTIONS) == "training":
        return image_size
    if out_size % SIZE_MULTIPLE:
        raise ValueError(f"resolution 'native' translates at the output size, which must be a multiple of "
                         f"{SIZE_MULTIPLE} (got {out_size}): choose another size or resolution 'training'")
    return out_size


def noise_model_options(model_name: str, resolution: str | None, tta: str | None) -> tuple[str, str]:
    """Noise GANs generate at their image_size and are resized: resolution 'training', no TTA.
    Other choices mean nothing for them and are refused."""
    for name, value, only in (("resolution", resolution, "training"), ("tta", tta, "none")):
        if value not in (None, only):
            raise ValueError(f"{name} {value!r} applies only to translation models (CycleGAN, CUT): a "
                             f"{model_name} run samples noise, so leave {name} at {only!r}")
    return "training", "none"
