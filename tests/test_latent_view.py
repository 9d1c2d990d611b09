"""The Latent explorer's helpers (studio.latent_view) and a translation run's preview
(gan_core.translate.preview), on small tensors and stand-in models: no trained run needed."""
from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image

from gan_core.translate import preview
from studio.latent_view import DISPLAY_PX, enlarged, moved_dims, png_bytes, slider_starts, to_pil


def test_to_pil_puts_a_batch_side_by_side_with_2_px_white_padding():
    images = torch.full((3, 3, 8, 8), -1.0)  # black
    image = to_pil(images)
    assert image.mode == "RGB" and image.size == (3 * 8 + 4 * 2, 8 + 2 * 2)
    assert image.getpixel((0, 0)) == (255, 255, 255) and image.getpixel((2, 2)) == (0, 0, 0)


def test_to_pil_maps_the_model_range_to_0_255():
    images = torch.stack([torch.full((3, 4, 4), -1.0), torch.full((3, 4, 4), 1.0)])
    image = to_pil(images)
    assert image.getpixel((2, 2)) == (0, 0, 0) and image.getpixel((2 + 4 + 2, 2)) == (255, 255, 255)


def test_enlarged_scales_by_a_whole_factor_with_nearest_neighbour():
    small = Image.new("RGB", (36, 12), "red")
    assert enlarged(small).size == (36 * (DISPLAY_PX // 12), 12 * (DISPLAY_PX // 12))
    assert enlarged(small, 128).size == (36 * 10, 12 * 10)
    assert enlarged(Image.new("RGB", (300, 400))).size == (300, 400)  # never shrunk
    checker = Image.fromarray((torch.tensor([[0, 255], [255, 0]], dtype=torch.uint8)).numpy())
    assert set(np.asarray(enlarged(checker, 8)).ravel().tolist()) == {0, 255}  # no blended pixels


def test_png_bytes_round_trip():
    image = Image.new("RGB", (5, 3), (10, 20, 30))
    decoded = Image.open(io.BytesIO(png_bytes(image)))
    assert decoded.format == "PNG" and decoded.size == (5, 3) and decoded.getpixel((4, 2)) == (10, 20, 30)


def test_only_moved_dimension_sliders_replace_the_seeds_value():
    z = torch.tensor([0.123, -1.987, 2.0])
    starts = slider_starts(z, [0, 2])
    assert starts == {0: 0.12, 2: 2.0}
    assert moved_dims({0: 0.12, 2: 2.0}, starts) == {}
    assert moved_dims({0: 0.5, 2: 2.0}, starts) == {0: 0.5}


class Translator:
    device = torch.device("cpu")

    def translate(self, photos):
        return -photos


class CycleTranslator(Translator):
    def cycle(self, photos):
        monet = self.translate(photos)
        return monet, monet / 2


def test_preview_of_a_photo_and_its_translation():
    photo = torch.tensor([0, 255], dtype=torch.uint8).view(2, 1, 1).expand(2, 2, 2).reshape(1, 2, 4)
    photo = photo.expand(3, -1, -1).contiguous()
    images = preview(Translator(), photo)
    assert list(images) == ["photo", "monet"]
    assert images["photo"].shape == (1, 3, 2, 4) and images["photo"].min() == -1 and images["photo"].max() == 1
    assert torch.equal(images["monet"], -images["photo"])
    cycled = preview(CycleTranslator(), photo)
    assert list(cycled) == ["photo", "monet", "reconstructed"]
    assert torch.equal(cycled["reconstructed"], -cycled["photo"] / 2)
