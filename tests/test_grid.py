"""gan_core.grid lays images out as torchvision.utils.make_grid does, without importing torchvision."""
import pytest
import torch
import torchvision.utils as vutils

from gan_core.grid import grid_rows, make_grid, to_image


@pytest.mark.parametrize("n, c, nrow, padding, pad_value", [
    (64, 3, 8, 2, 0.0), (10, 3, 3, 2, 0.0), (5, 1, 5, 2, 1.0), (3, 3, 3, 0, 0.5), (7, 3, 10, 4, 1.0)])
def test_make_grid_matches_torchvision(n, c, nrow, padding, pad_value):
    images = torch.randn(n, c, 9, 7, generator=torch.Generator().manual_seed(n)) * 1.3  # some values beyond [-1, 1]
    expected = vutils.make_grid(images, nrow=nrow, padding=padding, pad_value=pad_value, normalize=True,
                                value_range=(-1, 1))
    assert torch.equal(make_grid(images, nrow, padding, pad_value), expected)


def test_to_image_rounds_as_torchvision_save_image(tmp_path):
    grid = make_grid(torch.linspace(-1, 1, 3 * 16 * 16).reshape(1, 3, 16, 16), nrow=1)
    vutils.save_image(grid, tmp_path / "expected.png")
    import numpy as np
    from PIL import Image

    assert np.array_equal(np.asarray(to_image(grid)), np.asarray(Image.open(tmp_path / "expected.png").convert("RGB")))


def test_grid_rows_makes_square_sheets():
    assert [grid_rows(n) for n in (1, 4, 16, 63, 64)] == [1, 2, 4, 7, 8]
