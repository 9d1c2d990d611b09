"""One image file -> a uint8 [C, H, W] array at the target size, or the reason it was skipped.

Modes are converted to RGB (or L for 1-channel targets): transparency is composited on white,
16-bit and 32-bit integer images are scaled to 8 bits. Images of another size have their shorter
side resized to the target (antialiased bicubic) and are centre-cropped; JPEGs are first
downscaled inside the decoder (PIL's draft), which is what makes small targets fast.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")


class SkippedImage(Exception):
    """The file is not a usable image; the message is the reason shown in the report."""


@dataclass
class Decoded:
    pixels: np.ndarray       # uint8 [C, H, W]
    conversion: str | None   # e.g. "RGBA -> RGB (alpha composited on white)"
    original_size: tuple[int, int]  # (width, height) of the file

    @property
    def resized(self) -> bool:
        return self.original_size != self.pixels.shape[:0:-1]


def _open(data: bytes) -> Image.Image:
    if not data:
        raise SkippedImage("empty file")
    # PIL only warns between MAX_IMAGE_PIXELS and twice that; both are refused here.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise SkippedImage("decompression bomb") from None
        except UnidentifiedImageError:
            raise SkippedImage("not an image") from None
        except Exception as e:  # PIL's parsers raise many kinds of errors on malformed headers
            raise SkippedImage(f"corrupt image header: {e}") from None


def _to_mode(image: Image.Image, mode: str) -> tuple[Image.Image, str]:
    """The image in `mode`, and a note on what the conversion did beyond a plain mode change."""
    note = ""
    if image.mode.startswith("I") or image.mode == "F":
        pixels = np.asarray(image, dtype=np.float32)
        if image.mode.startswith("I;16") or pixels.max(initial=0) > 255:
            pixels = pixels / 257
            note = " (16-bit scaled to 8-bit)"
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    elif image.mode in ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
        note = " (alpha composited on white)"
    return image.convert(mode), note


def _fit(image: Image.Image, size: int) -> Image.Image:
    """Shorter side to `size`, centre crop, in one resampling pass."""
    width, height = image.size
    side = min(width, height)
    box = ((width - side) / 2, (height - side) / 2, (width + side) / 2, (height + side) / 2)
    return image.resize((size, size), Image.Resampling.BICUBIC, box=box)


def decode_image(payload: bytes | np.ndarray, size: int, channels: int, native_mode: str = "RGB") -> Decoded:
    """Raises SkippedImage. `native_mode` is the dataset's usual mode: converting from it (e.g. RGB
    photos requested as 1 channel) is not worth a line in the report."""
    image = Image.fromarray(payload) if isinstance(payload, np.ndarray) else _open(payload)
    mode = "RGB" if channels == 3 else "L"
    original_mode, original_size = image.mode, image.size
    try:
        image.draft(mode, (size, size))
        image.load()
    except Exception as e:
        raise SkippedImage(f"corrupt or truncated image: {e}") from None
    try:
        image, note = _to_mode(image, mode)
    except Exception as e:
        raise SkippedImage(f"cannot convert {original_mode} to {mode}: {e}") from None
    if image.size != (size, size):
        image = _fit(image, size)
    pixels = np.asarray(image)
    conversion = None if original_mode in (mode, native_mode) and not note else f"{original_mode} -> {mode}{note}"
    return Decoded(pixels[None] if channels == 1 else pixels.transpose(2, 0, 1), conversion, original_size)
