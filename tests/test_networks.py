import pytest
import torch

from gan_core.networks.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_core.networks.init import dcgan_init
from gan_core.networks.mlp import MLPDiscriminator, MLPGenerator


@pytest.mark.parametrize("size", [28, 32, 64, 128, 256])
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_shapes_for_every_size(size, channels):
    G = DCGANGenerator(16, channels, size, ngf=4)
    D = DCGANDiscriminator(channels, size, ndf=4)
    x = G(torch.randn(2, 16))
    assert x.shape == (2, channels, size, size)
    assert x.abs().max() <= 1
    assert D(x).shape == (2,)


@pytest.mark.parametrize("size", [28, 64, 128])
def test_dcgan_resize_upsampling_has_no_strided_transposed_convs(size):
    G = DCGANGenerator(16, 3, size, ngf=4, upsample="resize")
    transposed = [m for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert len(transposed) == 1 and transposed[0].stride == (1, 1)  # only z -> the base grid
    assert any(isinstance(m, torch.nn.Upsample) for m in G.modules())
    assert G(torch.randn(2, 16)).shape == (2, 3, size, size)


def test_dcgan_discriminator_layout():
    D = DCGANDiscriminator(3, 64, ndf=8)
    layers = list(D.net)
    assert isinstance(layers[0], torch.nn.Conv2d) and isinstance(layers[1], torch.nn.LeakyReLU)
    assert layers[1].negative_slope == 0.2
    norms = [m for m in layers if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(norms) == 3  # 64 -> 32 (no norm) -> 16 -> 8 -> 4


def test_avgpool_head_accepts_any_size():
    D = DCGANDiscriminator(3, 64, ndf=4, head="avgpool")
    assert D(torch.randn(2, 3, 64, 64)).shape == (2,)
    assert D(torch.randn(2, 3, 80, 80)).shape == (2,)


def test_unsupported_size_is_a_clear_error():
    with pytest.raises(ValueError, match="48"):
        DCGANGenerator(16, 3, 48)


def test_dcgan_init_statistics():
    torch.manual_seed(0)
    G = DCGANGenerator(100, 3, 64, ngf=64)
    dcgan_init(G)
    w = torch.cat([m.weight.flatten() for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)])
    assert abs(w.mean()) < 1e-3 and abs(w.std() - 0.02) < 1e-3
    bn = torch.cat([m.weight.flatten() for m in G.modules() if isinstance(m, torch.nn.BatchNorm2d)])
    assert abs(bn.mean() - 1) < 0.01


def test_mlp_gan_shapes():
    G, D = MLPGenerator(32, 1, 28, hidden=16), MLPDiscriminator(1, 28, hidden=16)
    x = G(torch.randn(3, 32))
    assert x.shape == (3, 1, 28, 28)
    assert D(x).shape == (3,)


def test_ema_ramps_up_then_averages_and_round_trips():
    from gan_core.ema import EMA

    net = torch.nn.Linear(2, 1)
    ema = EMA(net, decay=0.999)
    assert ema.current_decay() == pytest.approx(0.1)
    start = ema.model.weight.clone()
    with torch.no_grad():
        net.weight.fill_(1.0)
    ema.update(net)
    # first update: decay 0.1, so the average moves 90% of the way to the new weights
    assert torch.allclose(ema.model.weight, 0.1 * start + 0.9)
    for _ in range(10_000):
        ema.updates += 1
    assert ema.current_decay() == 0.999
    other = EMA(torch.nn.Linear(2, 1))
    other.load_state_dict(ema.state_dict())
    assert other.updates == ema.updates and torch.equal(other.model.weight, ema.model.weight)


@pytest.mark.parametrize("layers,patch", [(1, 16), (2, 34), (3, 70), (4, 142)])
def test_patchgan_depth_sets_the_patch_each_output_judges(layers, patch):
    """--d-layers' help text: one output value's convolutions see exactly a patch x patch window
    (instance norm, which mixes in the whole image's statistics, is left out of the count)."""
    from gan_core.networks.patchgan import PatchGANDiscriminator

    D = PatchGANDiscriminator(3, 8, layers)
    D.net = torch.nn.Sequential(*[torch.nn.Identity() if isinstance(m, torch.nn.InstanceNorm2d) else m for m in D.net])
    x = torch.randn(1, 3, 192, 192, requires_grad=True)
    out = D(x)
    out[0, 0, out.size(2) // 2, out.size(3) // 2].backward()
    rows = x.grad.abs().sum(dim=(0, 1, 3)).nonzero().flatten()
    cols = x.grad.abs().sum(dim=(0, 1, 2)).nonzero().flatten()
    assert (rows.max() - rows.min() + 1).item() == patch
    assert (cols.max() - cols.min() + 1).item() == patch


def test_d_layers_reaches_cut_and_cyclegan_and_is_checked():
    from gan_core.config import TrainConfig
    from gan_core.models.cut import CUT
    from gan_core.models.cyclegan import CycleGAN

    for model in ("cut", "cyclegan"):
        cfg = TrainConfig(model=model, image_size=64, ngf=8, ndf=8, n_blocks=6, d_layers=2)
        net = CUT(cfg, 3, torch.device("cpu")) if model == "cut" else CycleGAN(cfg, 3, torch.device("cpu"))
        D = net.D if model == "cut" else net.D_monet
        assert D(torch.zeros(1, 3, 64, 64)).shape == (1, 1, 14, 14)  # 3: 6x6
    assert TrainConfig(model="cut", d_layers=5).validate() == ["d_layers=5: choose 1, 2, 3 (the 70x70 PatchGAN) or 4"]
    assert TrainConfig(model="cut", d_layers=0).validate()


def test_d_norm_reaches_cut_and_cyclegan_and_is_checked():
    from gan_core.config import TrainConfig
    from gan_core.models.cut import CUT
    from gan_core.models.cyclegan import CycleGAN
    from torch import nn

    for norm, count in (("instance", 3), ("none", 0)):
        for model in ("cut", "cyclegan"):
            cfg = TrainConfig(model=model, image_size=64, ngf=8, ndf=8, n_blocks=6, d_norm=norm)
            net = CUT(cfg, 3, torch.device("cpu")) if model == "cut" else CycleGAN(cfg, 3, torch.device("cpu"))
            for D in ([net.D] if model == "cut" else [net.D_monet, net.D_photo]):
                assert sum(isinstance(m, nn.InstanceNorm2d) for m in D.modules()) == count
                assert D(torch.zeros(1, 3, 64, 64)).shape == (1, 1, 6, 6)
    assert TrainConfig(model="cut", d_norm="batch").validate() == ["d_norm='batch': choose one of instance, none"]
