import math

import pytest
import torch

from gan_core.diffaugment import diff_augment
from gan_core.losses import d_loss, g_loss


def test_bce_matches_formula():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    s = torch.sigmoid
    expected = -(torch.log(s(real)).mean() + torch.log(1 - s(fake)).mean())
    assert torch.allclose(d_loss(real, fake, "bce"), expected, atol=1e-6)
    assert torch.allclose(g_loss(fake, "bce"), -torch.log(s(fake)).mean(), atol=1e-6)


def test_label_smoothing_changes_only_real_term():
    real, fake = torch.tensor([3.0]), torch.tensor([-3.0])
    plain, smooth = d_loss(real, fake, "bce"), d_loss(real, fake, "bce", smoothing=0.1)
    assert smooth > plain
    assert torch.allclose(d_loss(torch.tensor([-50.0]), fake, "lsgan", 0.1) - d_loss(torch.tensor([-50.0]), fake, "lsgan"),
                          torch.tensor(0.5 * ((-50 - 0.9) ** 2 - (-50 - 1) ** 2)))


def test_lsgan_and_hinge_values():
    real, fake = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    assert math.isclose(d_loss(real, fake, "lsgan").item(), 0.5 * 0.5 + 0.5 * 0.5)
    assert math.isclose(g_loss(fake, "lsgan").item(), 0.5 * 0.5)
    assert math.isclose(d_loss(real, fake, "hinge").item(), (0 + 1) / 2 + (1 + 2) / 2)
    assert math.isclose(g_loss(fake, "hinge").item(), -0.5)


def test_unknown_loss_named():
    with pytest.raises(ValueError, match="wgan"):
        g_loss(torch.zeros(1), "wgan")


def test_diffaugment_is_differentiable_and_changes_images():
    torch.manual_seed(0)
    x = torch.rand(4, 3, 32, 32, requires_grad=True)
    y = diff_augment(x)
    assert y.shape == x.shape and not torch.allclose(x, y)
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_diffaugment_cutout_zeroes_a_quarter():
    torch.manual_seed(0)
    y = diff_augment(torch.ones(8, 3, 32, 32), "cutout")
    zero_fraction = (y == 0).float().mean().item()
    assert 0.15 < zero_fraction <= 0.25


def test_diffaugment_rejects_unknown_policy():
    with pytest.raises(ValueError, match="rotate"):
        diff_augment(torch.zeros(1, 3, 8, 8), "rotate")
