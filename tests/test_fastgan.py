"""FastGAN: shapes at every size, D's reconstruction loss on fixed tensors, exact resume, the latent
explorer and export on a real run, and the EMA generator's standing BatchNorm statistics."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from gan_core import latent
from gan_core.config import TrainConfig, build_config
from gan_core.ema import standing_statistics
from gan_core.events import Control
from gan_core.export import export_zip
from gan_core.export_validate import validate_zip
from gan_core.models import build_model, load_model
from gan_core.networks.dcgan import DCGANGenerator
from gan_core.networks.fastgan import FastGANDiscriminator, FastGANGenerator
from gan_core.trainer import train
from test_cyclegan import assert_same_nets, comparable


pytestmark = pytest.mark.usefixtures("one_thread")  # conftest: every run of the module on one thread


def tiny(data, runs_dir, run_id, **overrides):
    values = dict(data=str(data), model="fastgan", image_size=64, ngf=8, ndf=8, batch_size=4, steps=4,
                  sample_every=2, checkpoint_every=2, num_samples=4, runs_dir=str(runs_dir), run_id=run_id)
    return build_config({**values, **overrides})


@pytest.mark.parametrize("size", [64, 128, 256])
def test_shapes_at_every_size(size):
    G, D = FastGANGenerator(32, 3, size, ngf=8), FastGANDiscriminator(3, size, ndf=8)
    images = G(torch.randn(2, 32))
    assert images.shape == (2, 3, size, size) and images.abs().max() <= 1
    D.eval()  # train mode moves BatchNorm and spectral-norm state on every forward
    logits, recs, targets = D(images, reconstruct=True, part=1)
    assert logits.shape == (2, 50)  # a 5x5 map from each branch
    rec = min(128, size)
    assert [r.shape[-1] for r in recs] == [rec, rec, min(128, size // 2)]
    assert all(r.shape == t.shape for r, t in zip(recs, targets))
    assert torch.equal(D(images), logits)


def test_reconstruction_targets_and_loss_on_fixed_tensors():
    torch.manual_seed(0)
    cfg = build_config({"model": "fastgan", "image_size": 128, "ngf": 8, "ndf": 8, "diffaugment": False})
    model = build_model(cfg, 3, torch.device("cpu"))
    model.D.eval()  # fixed BatchNorm and spectral-norm state, so two forwards agree
    real = torch.rand(2, 3, 128, 128) * 2 - 1
    fake = torch.rand(2, 3, 128, 128) * 2 - 1
    for part, (rows, cols) in enumerate([(slice(0, 64), slice(0, 64)), (slice(0, 64), slice(64, 128)),
                                         (slice(64, 128), slice(0, 64)), (slice(64, 128), slice(64, 128))]):
        _, recs, targets = model.D(real, reconstruct=True, part=part)
        assert torch.equal(targets[0], real)  # 128 px: the whole image at its own size
        expected_crop = F.interpolate(real[:, :, rows, cols], size=128, mode="bilinear", align_corners=False,
                                      antialias=True)
        assert torch.allclose(targets[1], expected_crop)
        assert torch.allclose(targets[2], F.interpolate(real, size=64, mode="bilinear", align_corners=False,
                                                        antialias=True))
    torch.manual_seed(1)
    loss, real_logits, fake_logits, terms = model.d_objective(real, fake)
    torch.manual_seed(1)
    part = int(torch.randint(4, ()))
    _, recs, targets = model.D(real, reconstruct=True, part=part)
    direct_rec = sum(((r - t) ** 2).mean() for r, t in zip(recs, targets))
    hinge = F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()
    assert torch.allclose(terms["loss_rec"], direct_rec, rtol=1e-5)
    assert torch.allclose(terms["loss_d"], hinge, rtol=1e-5)
    assert torch.allclose(loss, hinge + cfg.lambda_rec * direct_rec, rtol=1e-5)


def test_decoder_width_is_a_setting_and_older_runs_keep_the_reference_width():
    def decoder_widths(D):
        return [m.out_channels for m in D.decode_big.modules() if isinstance(m, torch.nn.Conv2d)]

    reference = FastGANDiscriminator(3, 128, ndf=16)
    narrow = FastGANDiscriminator(3, 128, ndf=16, rec_width=8)
    # up-blocks at 16, 32, 64, 128 px (a conv of 2x the width before each GLU), then the RGB conv
    assert decoder_widths(reference) == [256, 128, 128, 64, 3]
    assert decoder_widths(narrow) == [64, 32, 32, 16, 3]
    flops = {}
    for name, D in (("reference", reference), ("narrow", narrow)):
        with FlopCounterMode(display=False) as counter:
            D.decode_big(torch.zeros(1, D.decode_big[1][1].in_channels, 8, 8))
        flops[name] = counter.get_total_flops()
    assert flops["narrow"] < flops["reference"] / 10  # convolutions' cost goes with the square of the width
    # a config saved before the setting existed builds the decoders its run trained
    saved = {k: v for k, v in build_config({"model": "fastgan", "image_size": 64}).to_dict().items()
             if k != "rec_width"}
    assert TrainConfig.from_dict(saved).rec_width == 32
    with pytest.raises(ValueError, match="rec_width=0"):
        build_config({"model": "fastgan", "image_size": 64, "rec_width": 0})


def test_fastgan_defaults_follow_the_reference():
    cfg = build_config({"model": "fastgan", "image_size": 128})
    assert (cfg.loss, cfg.diffaugment, cfg.diffaugment_policy, cfg.ema, cfg.latent_dim, cfg.batch_size) == \
        ("hinge", True, "color,translation", True, 256, 8)
    with pytest.raises(ValueError, match="FastGAN supports 64, 128 or 256"):
        build_config({"model": "fastgan", "image_size": 32})


@pytest.fixture(scope="module")
def straight(competition_data, tmp_path_factory):
    runs_dir = tmp_path_factory.mktemp("runs")
    return train(tiny(competition_data, runs_dir, "straight"))


@pytest.mark.slow
def test_stop_and_resume_is_exact(straight, competition_data, runs_dir):
    cfg = tiny(competition_data, runs_dir, "resumed")
    control = Control()

    def stop_mid_run(event):
        if event.kind == "step" and event.data["step"] == 2:
            control.stop.set()
    assert train(cfg, [stop_mid_run], control).status()["state"] == "stopped"
    resumed = train(cfg, resume=True)
    assert resumed.status()["state"] == "finished"
    assert comparable(resumed.metrics()) == comparable(straight.metrics())
    assert {"loss_d", "loss_g", "loss_rec"} <= set(straight.metrics()[-1])
    a = torch.load(straight.latest_checkpoint(), weights_only=True)
    b = torch.load(resumed.latest_checkpoint(), weights_only=True)
    assert_same_nets(a["state"], b["state"])
    assert all(torch.equal(x, y) for x, y in zip(a["state"]["ema"]["weights"].values(),
                                                  b["state"]["ema"]["weights"].values()))


@pytest.mark.slow
def test_latent_explorer_and_export_on_a_fastgan_run(straight, tmp_path):
    model, _ = load_model(straight.path)
    assert latent.sample_images(model, 3, seed=5).shape == (3, 3, 64, 64)
    assert torch.equal(latent.sample_images(model, 3, seed=5), latent.sample_images(model, 3, seed=5))
    assert latent.interpolate(model, 1, 2, steps=4).shape == (4, 3, 64, 64)
    directions = latent.principal_directions(model, components=3, samples=64)
    assert directions.vectors.shape == (3, model.cfg.latent_dim)
    moved = latent.edit(model, 5, directions, {0: 2.0})
    assert not torch.equal(moved, latent.edit(model, 5, directions, {}))
    report = export_zip(straight, count=6, out=tmp_path / "images.zip")
    assert report["count"] == 6 and validate_zip(tmp_path / "images.zip", expected_count=6).ok


def _norm_buffers(net):
    return [b.clone() for name, b in net.named_buffers() if "running" in name]


@pytest.mark.slow
def test_standing_statistics_are_measured_for_the_ema_weights(straight):
    model, _ = load_model(straight.path)
    copied = _norm_buffers(model.ema.model)  # as saved: the live generator's statistics
    G = model.generator()
    standing = _norm_buffers(G)
    assert G is model.ema.model and not G.training
    assert any(not torch.allclose(a, b) for a, b in zip(copied, standing)), "the statistics were re-measured"
    # Sampling uses them: the same noise gives other images with the copied statistics.
    z = torch.randn(2, model.cfg.latent_dim)
    with_standing = model.generate(z)
    model.standing_statistics = False
    model.ema.load_state_dict(torch.load(straight.latest_checkpoint(), weights_only=True)["state"]["ema"])
    assert not torch.allclose(with_standing, model.generate(z))


def test_standing_statistics_average_the_batch_statistics_of_the_weights():
    G = DCGANGenerator(16, 3, 32, ngf=8)
    first = G.net[1]
    zs = [torch.randn(8, 16) for _ in range(3)]
    means = []
    hook = first.register_forward_hook(lambda m, inputs, out: means.append(inputs[0].mean((0, 2, 3))))
    G.eval()
    standing_statistics(G, zs)
    hook.remove()
    assert not G.training and first.momentum == 0.1, "mode and momentum restored"
    assert first.num_batches_tracked == 3
    assert torch.allclose(first.running_mean, torch.stack(means).mean(0), atol=1e-6)


def test_a_bf16_step_where_the_cpu_supports_it(competition_data, runs_dir):
    from gan_core.device import bf16_supported

    if not bf16_supported(torch.device("cpu")):
        pytest.skip("this CPU has no bf16 support (AVX-512 BF16)")
    run = train(tiny(competition_data, runs_dir, "bf16", bf16="on", steps=1, image_size=128))
    row = run.metrics()[-1]
    assert all(torch.isfinite(torch.tensor(row[k])) for k in ("loss_d", "loss_g", "loss_rec"))


def test_memory_layout_and_fused_adam_per_model():
    """FastGAN trains contiguous (channels-last BatchNorm is slow in bf16 on CPUs), DCGAN channels-last;
    every optimizer runs Adam's fused kernel."""
    device = torch.device("cpu")
    for model_name, layout in (("fastgan", torch.contiguous_format), ("dcgan", torch.channels_last)):
        cfg = build_config(dict(model=model_name, image_size=64, ngf=8, ndf=8))
        model = build_model(cfg, 3, device)
        assert model.memory_format == layout
        kernels = [p for net in model.nets.values() for p in net.parameters() if p.dim() == 4 and p.shape[-1] > 1]
        assert kernels and all(p.is_contiguous(memory_format=layout) for p in kernels), model_name
        assert all(opt.defaults["fused"] for opt in model.optimizers.values())
