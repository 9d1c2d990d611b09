"""CUT and FastCUT on the competition data at 64 px with tiny networks, PatchNCE against a direct
computation, and the U-Net / resize-conv generators every translation model can use."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gan_core.config import build_config, model_defaults
from gan_core.events import Control
from gan_core.export import export_zip
from gan_core.export_validate import validate_zip
from gan_core.models import load_model
from gan_core.networks.resnet_generator import ResnetGenerator
from gan_core.networks.unet_generator import UnetGenerator
from gan_core.patchnce import PatchSampler, patch_nce_loss
from gan_core.trainer import train
from test_cyclegan import assert_same_nets, comparable

STEPS = 6


pytestmark = pytest.mark.usefixtures("one_thread")  # conftest: every run of the module on one thread


def tiny_cut(data, runs_dir, run_id, model="cut", **overrides):
    # 3 steps an epoch, the last epoch decaying, batch 2, DiffAugment and (FastCUT) flip-equivariance
    # drawing from the global RNG: everything resume has to restore.
    values = dict(model=model, data=str(data), image_size=64, ngf=8, ndf=8, n_blocks=2, batch_size=2,
                  epoch_size=6, epochs=2, decay_epochs=1, scheduler="linear", diffaugment=True, nce_patches=16,
                  nce_dim=16,
                  sample_every=3, checkpoint_every=100, runs_dir=str(runs_dir), run_id=run_id, device="cpu")
    return build_config({**values, **overrides})


# --- PatchNCE ---------------------------------------------------------------------------------
def reference_patch_nce(q, k, batch_size, temperature):
    """The reference implementation's formula, written out patch by patch: the positive logit
    first, then the image's other patches, its own position masked with -10."""
    n, _ = q.shape
    per_image = n // batch_size
    losses = []
    for i in range(n):
        image = i // per_image
        positive = float(q[i] @ k[i])
        negatives = [float(q[i] @ k[j]) if j != i else -10.0
                     for j in range(image * per_image, (image + 1) * per_image)]
        logits = [positive] + negatives
        top = max(logits) / temperature
        log_sum = top + math.log(sum(math.exp(v / temperature - top) for v in logits))
        losses.append(log_sum - positive / temperature)
    return sum(losses) / len(losses)


def test_patch_nce_matches_direct_computation():
    gen = torch.Generator().manual_seed(0)
    q = nn.functional.normalize(torch.randn(2 * 5, 8, generator=gen), dim=1)
    k = nn.functional.normalize(torch.randn(2 * 5, 8, generator=gen), dim=1)
    for temperature in (0.07, 0.5):
        assert patch_nce_loss(q, k, 2, temperature).item() == pytest.approx(
            reference_patch_nce(q, k, 2, temperature), rel=1e-5)
    # Identical embeddings: each patch recognises itself far better than the others.
    assert patch_nce_loss(q, q, 2, 0.07) < patch_nce_loss(q, k, 2, 0.07)
    # Keys carry no gradient; queries do.
    q.requires_grad_(True)
    k2 = k.clone().requires_grad_(True)
    patch_nce_loss(q, k2, 2, 0.07).backward()
    assert q.grad.abs().sum() > 0 and k2.grad is None


def test_patch_sampler_reuses_locations_and_normalises():
    sampler = PatchSampler([3, 8], dim=16)
    feats = [torch.randn(2, 3, 8, 8), torch.randn(2, 8, 4, 4)]
    torch.manual_seed(0)
    keys, ids = sampler(feats, num_patches=10)
    assert [tuple(e.shape) for e in keys] == [(20, 16), (20, 16)]  # 16 locations in a 4x4 map: 10 taken
    assert all(torch.allclose(e.norm(dim=1), torch.ones(len(e))) for e in keys)
    again, same_ids = sampler(feats, 10, ids)
    assert all(torch.equal(a, b) for a, b in zip(keys, again)) and same_ids == ids
    few, _ = sampler([torch.randn(1, 3, 2, 2)], 10)
    assert few[0].shape == (4, 16)  # a map smaller than the sample: every location once


# --- generators -------------------------------------------------------------------------------
@pytest.mark.parametrize("upsample", ["transpose", "resize"])
def test_generators_at_64_128_256(upsample):
    for size in (64, 128, 256):
        G = UnetGenerator(3, ngf=4, image_size=size, upsample=upsample)
        out = G(torch.randn(1, 3, size, size))
        assert out.shape == (1, 3, size, size) and out.abs().max() <= 1
        assert len(G.down) == int(math.log2(size))  # down to 1x1 at the training size
        feats = G.encode(torch.randn(1, 3, size, size), G.default_nce_layers())
        assert [f.shape[-1] for f in feats] == [size, size // 2, size // 4, size // 8, size // 16]
    # Fully convolutional: a 128 px U-Net translates a 256 px photo.
    assert UnetGenerator(3, 4, 128, upsample)(torch.randn(1, 3, 256, 256)).shape == (1, 3, 256, 256)
    R = ResnetGenerator(3, ngf=4, n_blocks=6, upsample=upsample)
    for size in (64, 128, 256):
        assert R(torch.randn(1, 3, size, size)).shape == (1, 3, size, size)
    assert R.default_nce_layers() == [0, 4, 7, 10, 14]
    assert [f.shape[1] for f in R.encode(torch.randn(1, 3, 64, 64), [0, 4, 7, 10, 14])] == [3, 8, 16, 16, 16]


def test_resize_generator_has_no_transposed_convs():
    for G in (UnetGenerator(3, 4, 64, "resize"), ResnetGenerator(3, 4, 2, "resize")):
        assert not any(isinstance(m, nn.ConvTranspose2d) for m in G.modules())
        assert any(isinstance(m, nn.Upsample) for m in G.modules())


def _innermost_decoder_output(G, size):
    seen = {}
    handle = G.up[0].register_forward_hook(lambda module, inputs, output: seen.setdefault("out", output))
    with torch.no_grad():
        G(torch.randn(1, 3, size, size))
    handle.remove()
    return seen["out"]


def test_unet_depth_keeps_the_innermost_decoder_step_alive():
    torch.manual_seed(0)
    # Down to 1x1 with resize-convs: the innermost decoder step is zero at the training size
    # (nearest upsampling of 1x1 is constant, instance norm of a constant is 0) but not at 2x it.
    full = UnetGenerator(3, 8, 64, "resize")
    assert _innermost_decoder_output(full, 64).abs().max() < 1e-3
    assert _innermost_decoder_output(full, 128).std() > 0.1
    # Stopping at 2x2 keeps it alive at the training size, so training sees what export uses.
    short = UnetGenerator(3, 8, 64, "resize", depth=5)
    assert len(short.down) == 5 and short.size_multiple == 32
    assert _innermost_decoder_output(short, 64).std() > 0.1
    assert short(torch.randn(1, 3, 96, 96)).shape == (1, 3, 96, 96)  # any multiple of 32
    assert isinstance(short.down[-1][1], nn.InstanceNorm2d)  # a 2x2 bottleneck is normalised
    assert isinstance(full.down[-1][1], nn.Identity)  # a 1x1 one is not
    with pytest.raises(ValueError, match="depth=7"):
        UnetGenerator(3, 8, 64, "resize", depth=7)
    assert build_config({"model": "cut", "generator": "unet", "image_size": 64, "unet_depth": 5}).unet_depth == 5
    with pytest.raises(ValueError, match="unet_depth=7"):
        build_config({"model": "cut", "generator": "unet", "image_size": 64, "unet_depth": 7})


# --- configuration ----------------------------------------------------------------------------
def test_fastcut_is_cut_with_other_defaults():
    cut, fast = build_config({"model": "cut"}), build_config({"model": "fastcut"})
    assert (cut.lambda_nce, cut.nce_idt, cut.flip_equivariance) == (1.0, True, False)
    assert (fast.lambda_nce, fast.nce_idt, fast.flip_equivariance) == (10.0, False, True)
    assert (cut.nce_patches, cut.nce_temperature, cut.nce_dim) == (256, 0.07, 256)
    assert build_config({"model": "fastcut", "lambda_nce": 2.0}).lambda_nce == 2.0
    assert model_defaults("fastcut")["lambda_nce"] == 10.0 and model_defaults("cut")["lambda_nce"] == 1.0


def test_translation_presets_load():
    for name, model in (("cut-cpu-preview", "cut"), ("fastcut-cpu-preview", "fastcut"),
                        ("cut-full", "cut"), ("fastcut-full", "fastcut")):
        cfg = build_config(preset=name)
        assert cfg.model == model and cfg.scheduler == "linear" and cfg.decay_epochs > 0, name
    assert build_config(preset="cut-full").image_size == build_config(preset="fastcut-full").image_size == 256
    assert build_config(preset="fastcut-full").lambda_nce == 10.0


def test_bad_translation_settings_are_named(competition_data, runs_dir):
    with pytest.raises(ValueError, match="power of 2"):
        build_config({"model": "cut", "generator": "unet", "image_size": 96})
    with pytest.raises(ValueError, match="nce_layers"):
        build_config({"model": "cut", "nce_layers": "0,a"})
    with pytest.raises(ValueError, match="encoder has layers 0 to 11"):
        train(tiny_cut(competition_data, runs_dir, "bad", nce_layers="0,40"))


# --- training ---------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=["cut", "fastcut"])
def straight(request, competition_data, tmp_path_factory):
    runs_dir = tmp_path_factory.mktemp("runs")
    model = request.param
    extra = {"generator": "unet", "upsample": "resize"} if model == "fastcut" else {}
    return model, extra, train(tiny_cut(competition_data, runs_dir, "straight", model, **extra))


def test_losses_finite_and_schedule(straight):
    model_name, _, run = straight
    rows = run.metrics()
    assert run.status()["state"] == "finished" and [r["step"] for r in rows] == list(range(1, STEPS + 1))
    model, _ = load_model(run.path)
    for name in model.loss_names:
        assert all(math.isfinite(r[name]) for r in rows), name
    # An untrained G does not yet tell its patches apart: PatchNCE starts at chance among the 16
    # patches (log 16) or above, scaled by lambda_nce.
    assert rows[0]["loss_NCE"] > 0.8 * model.cfg.lambda_nce * math.log(16)
    assert all(r["loss_NCE_Y"] == 0 for r in rows) == (model_name == "fastcut")
    assert rows[2]["lr_g"] == pytest.approx(2e-4) and rows[-1]["lr_g"] == 0.0
    assert set(model.nets) == {"G", "D", "F"}


def test_stop_and_resume_is_exact(straight, competition_data, runs_dir):
    model_name, extra, run = straight
    cfg = tiny_cut(competition_data, runs_dir, "resumed", model_name, **extra)
    control = Control()

    def stop_mid_epoch(event):
        if event.kind == "step" and event.data["step"] == 2:
            control.stop.set()
    assert train(cfg, [stop_mid_epoch], control).status()["state"] == "stopped"
    first = torch.load(runs_dir / "resumed" / "checkpoints" / "step_000002.pt", weights_only=True)
    assert first["state"]["nets"]["F"], "the projection heads are in the checkpoint"
    resumed = train(cfg, resume=True)
    assert resumed.status()["state"] == "finished"
    assert comparable(resumed.metrics()) == comparable(run.metrics())
    a = torch.load(run.latest_checkpoint(), weights_only=True)
    b = torch.load(resumed.latest_checkpoint(), weights_only=True)
    assert_same_nets(a["state"], b["state"])
    for group_a, group_b in zip(a["state"]["optimizers"]["G"]["state"].values(),
                                b["state"]["optimizers"]["G"]["state"].values()):
        assert torch.equal(group_a["exp_avg"], group_b["exp_avg"])


@pytest.mark.slow
def test_cut_exports_valid_zip(straight, tmp_path):
    _, _, run = straight
    report = export_zip(run, count=8, out=tmp_path / "images.zip", resolution="native", tta="flip")
    assert validate_zip(tmp_path / "images.zip", expected_count=8).ok and report["count"] == 8
    model, _ = load_model(run.path)
    sheet = model.sample_grid()
    assert sheet.shape == (8, 3, 64, 64)  # rows of (photo, translation)


# --- crops at the images' own scale ----------------------------------------------------------
def test_jitter_crops_windows_at_the_image_scale():
    from gan_core.models.translation import jitter

    x = torch.arange(2 * 3 * 64 * 64, dtype=torch.float32).view(2, 3, 64, 64)  # every pixel unique
    crops = jitter(x, 1.0, torch.Generator().manual_seed(0), crop=32)
    assert crops.shape == (2, 3, 32, 32)
    for image, crop in zip(x, crops):  # no resize at ratio 1: each crop is a window of its image
        t, l = divmod(int(crop[0, 0, 0] - image[0, 0, 0]), 64)
        assert torch.equal(crop, image[:, t:t + 32, l:l + 32])
    assert jitter(x / x.max(), 286 / 256, torch.Generator().manual_seed(0), crop=32).shape == (2, 3, 32, 32)


def test_crop_size_trains_at_the_crop_and_translates_the_whole_image(competition_data, runs_dir):
    cfg = tiny_cut(competition_data, runs_dir, "crop", generator="unet", upsample="resize", crop_size=32,
                   epochs=1, decay_epochs=0, scheduler="none", diffaugment=False)
    run = train(cfg)
    model, _ = load_model(run.path)
    assert model.nets["G"].depth == 5  # the U-Net's depth follows the 32 px crops, not the 64 px images
    assert model.translate(torch.zeros(1, 3, 64, 64)).shape == (1, 3, 64, 64)
    with pytest.raises(ValueError, match="crop_size"):
        build_config({**cfg.to_dict(), "crop_size": 48})
    with pytest.raises(ValueError, match="crop_size"):
        build_config({**cfg.to_dict(), "crop_size": 128})


def test_unet_reflect_padding_draws_no_frame():
    torch.manual_seed(0)
    flat = torch.full((1, 3, 64, 64), 0.3)
    for padding, framed in (("zeros", True), ("reflect", False)):
        G = UnetGenerator(3, 8, 64, "resize", padding=padding)
        assert all(block[0].padding_mode == padding for block in G.down)
        first = G.encode(flat, [1])[0]  # a flat photo: zero padding makes its borders differ
        assert (first.std(dim=(2, 3)).max() > 1e-3) == framed
        assert G(torch.randn(1, 3, 128, 128)).shape == (1, 3, 128, 128)
    with pytest.raises(ValueError, match="unet_padding='circular'"):
        build_config({"model": "cut", "generator": "unet", "unet_padding": "circular"})
