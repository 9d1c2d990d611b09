"""CycleGAN on the competition data at 64 px with tiny networks: networks, presets, exact resume,
translation."""
from __future__ import annotations

import copy
import shutil

import pytest
import torch
from PIL import Image
from torch import nn

from gan_core.cli import main
from gan_core.config import build_config
from gan_core.events import Control
from gan_core.models import build_model, load_model
from gan_core.networks.patchgan import PatchGANDiscriminator
from gan_core.networks.resnet_generator import ResidualBlock, ResnetGenerator
from gan_core.runs import Run
from gan_core.trainer import train
from gan_core.translate import translate_images, translate_path

STEPS = 8


pytestmark = pytest.mark.usefixtures("one_thread")  # conftest: every run of the module on one thread


def tiny_config(data, runs_dir, run_id, **overrides):
    # 4 steps an epoch, the last epoch decaying the learning rate, a pool that fills and then swaps,
    # DiffAugment drawing from the global RNG: everything resume has to restore.
    values = dict(model="cyclegan", data=str(data), image_size=64, ngf=8, ndf=8, n_blocks=2, batch_size=1,
                  epoch_size=4, epochs=2, decay_epochs=1, scheduler="linear", pool_size=2, diffaugment=True,
                  sample_every=4,
                  checkpoint_every=100, runs_dir=str(runs_dir), run_id=run_id, device="cpu")
    return build_config({**values, **overrides})


def small_competition(competition_data, folder, paintings: int, photos: int):
    """The first `paintings` Monet paintings and `photos` photos (by name) in a competition layout of
    the test's own."""
    for domain, n in (("monet_jpg", paintings), ("photo_jpg", photos)):
        (folder / domain).mkdir(parents=True)
        for path in sorted((competition_data / domain).glob("*.jpg"))[:n]:
            shutil.copy(path, folder / domain / path.name)
    return folder


def assert_same_nets(a: dict, b: dict) -> None:
    """Every tensor of every net of two checkpoint states is bitwise equal."""
    for name, weights in a["nets"].items():
        for key, value in weights.items():
            assert torch.equal(value, b["nets"][name][key]), f"{name}.{key}"


def comparable(rows):
    return [{k: v for k, v in row.items() if k not in ("time", "images_per_s")} for row in rows]


@pytest.fixture(scope="module")
def straight_run(competition_data, tmp_path_factory) -> Run:
    runs_dir = tmp_path_factory.mktemp("runs")
    return train(tiny_config(competition_data, runs_dir, "straight"))


def test_generator_shapes():
    for n_blocks in (6, 9):
        G = ResnetGenerator(3, ngf=8, n_blocks=n_blocks)
        assert sum(isinstance(m, ResidualBlock) for m in G.modules()) == n_blocks
        assert G(torch.randn(2, 3, 64, 64)).shape == (2, 3, 64, 64)
    out = ResnetGenerator(3, ngf=8, n_blocks=6)(torch.randn(1, 3, 32, 32))
    assert out.abs().max() <= 1


def test_patchgan_shape_and_receptive_field():
    D = PatchGANDiscriminator(3, ndf=8)
    assert D(torch.randn(1, 3, 256, 256)).shape == (1, 1, 30, 30)
    # Instance norm mixes the whole image into every output; without it, one output sees 70x70 pixels.
    D.net = nn.Sequential(*[nn.Identity() if isinstance(m, nn.InstanceNorm2d) else m for m in D.net])
    x = torch.randn(1, 3, 128, 128, requires_grad=True)
    out = D(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    seen = x.grad.abs().sum(dim=(0, 1)) > 0
    rows, cols = seen.any(1).nonzero(), seen.any(0).nonzero()
    assert rows.max() - rows.min() + 1 == 70 and cols.max() - cols.min() + 1 == 70


def test_presets_load_and_yield_to_flags():
    preview, full = build_config(preset="cpu-preview"), build_config(preset="full")
    assert (preview.model, preview.n_blocks, preview.ngf, preview.image_size) == ("cyclegan", 6, 32, 128)
    assert (full.model, full.n_blocks, full.ngf, full.image_size) == ("cyclegan", 9, 64, 256)
    assert preview.batch_size == full.batch_size == 1 and preview.decay_epochs > 0
    assert build_config({"ngf": 16}, preset="cpu-preview").ngf == 16


def test_losses_finite_and_sheet(straight_run):
    rows = straight_run.metrics()
    assert straight_run.status()["state"] == "finished" and [r["step"] for r in rows] == list(range(1, STEPS + 1))
    model, _ = load_model(straight_run.path)
    for name in model.loss_names:
        assert all(torch.isfinite(torch.tensor(r[name])) for r in rows), name
    assert rows[3]["lr_g"] == pytest.approx(2e-4) and rows[-1]["lr_g"] == 0.0  # constant, then decayed to 0
    assert straight_run.summary()["loss_d"] == rows[-1]["loss_D"]
    sheet = Image.open(straight_run.samples()[-1])
    assert sheet.size == (2 + 3 * 66, 2 + 4 * 66)  # rows of photo | Monet | reconstruction


def test_stop_and_resume_is_exact(straight_run, competition_data, runs_dir):
    cfg = tiny_config(competition_data, runs_dir, "resumed")
    control = Control()

    def stop_mid_epoch(event):
        if event.kind == "step" and event.data["step"] == 3:
            control.stop.set()
    assert train(cfg, [stop_mid_epoch], control).status()["state"] == "stopped"
    resumed = train(cfg, resume=True)
    assert resumed.status()["state"] == "finished"
    assert comparable(resumed.metrics()) == comparable(straight_run.metrics())
    a = torch.load(straight_run.latest_checkpoint(), weights_only=True)
    b = torch.load(resumed.latest_checkpoint(), weights_only=True)
    assert_same_nets(a["state"], b["state"])
    for domain, pool in a["state"]["extra"]["pools"].items():
        assert torch.equal(pool["images"], b["state"]["extra"]["pools"][domain]["images"])


def test_translate_writes_identical_256px_jpegs(straight_run, competition_data, tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(tmp_path / "cache"))
    photos = tmp_path / "photos"
    photos.mkdir()
    for path in sorted((competition_data / "photo_jpg").glob("*.jpg"))[:3]:
        shutil.copy(path, photos)
    events = []
    first = translate_path(straight_run.path, photos, tmp_path / "a", batch_size=2, callbacks=[events.append])
    assert [p.stem for p in first] == sorted(p.stem for p in photos.iterdir())
    assert [e.data["done"] for e in events if e.data.get("task") == "translate"] == [2, 3]
    for path in first:
        with Image.open(path) as image:
            assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (256, 256))
    assert main(["translate", "--run", str(straight_run.path), "--input", str(photos),
                 "--out", str(tmp_path / "b"), "--batch-size", "2"]) == 0
    for path in first:
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes()


def test_translate_and_cycle_api(straight_run):
    model, _ = load_model(straight_run.path)
    photos = torch.rand(2, 3, 64, 64) * 2 - 1
    monet, reconstructed = model.cycle(photos)
    assert monet.shape == reconstructed.shape == photos.shape and monet.abs().max() <= 1
    assert torch.equal(monet, model.translate(photos))
    uint8 = ((photos + 1) * 127.5).round().to(torch.uint8)
    out = torch.cat(list(translate_images(model, uint8, size=128, batch_size=1)))
    assert out.dtype == torch.uint8 and out.shape == (2, 3, 128, 128)


@pytest.mark.parametrize("lambda_identity", [1.5, 0.0])
def test_reported_loss_terms_equal_a_direct_computation_on_fixed_tensors(lambda_identity):
    """One real train_step on seeded tiny networks and fixed tensors (no pool, no DiffAugment): every
    term it reports is the formula written out on copies of the networks taken before the step."""
    cfg = build_config(dict(model="cyclegan", image_size=32, ngf=4, ndf=4, n_blocks=1, pool_size=0,
                            lambda_cycle=3.0, lambda_identity=lambda_identity, device="cpu", bf16="off"))
    torch.manual_seed(0)
    model = build_model(cfg, 3, torch.device("cpu"))
    photo, monet = torch.rand(2, 2, 3, 32, 32, generator=torch.Generator().manual_seed(1)) * 2 - 1
    G_monet, G_photo, D_monet, D_photo = (copy.deepcopy(model.nets[k]) for k in
                                          ("G_monet", "G_photo", "D_monet", "D_photo"))
    reported = {k: float(v) for k, v in model.train_step([(photo, monet)]).items()}

    def l1(a, b):
        return (a - b).abs().mean()

    def mse(a, target):
        return ((a - target) ** 2).mean()

    with torch.no_grad():
        fake_monet, fake_photo = G_monet(photo), G_photo(monet)
        want = {
            "loss_G_adv_monet": mse(D_monet(fake_monet), 1),  # the reference's MSE, no 1/2
            "loss_G_adv_photo": mse(D_photo(fake_photo), 1),
            "loss_cycle_photo": 3.0 * l1(G_photo(fake_monet), photo),
            "loss_cycle_monet": 3.0 * l1(G_monet(fake_photo), monet),
            "loss_idt_monet": lambda_identity * l1(G_monet(monet), monet),  # lambda_identity is the weight itself
            "loss_idt_photo": lambda_identity * l1(G_photo(photo), photo),
            # D's step uses the fakes made before G's update (pool size 0) and D's weights before its own.
            "loss_D_monet": 0.5 * mse(D_monet(monet), 1) + 0.5 * mse(D_monet(fake_monet), 0),
            "loss_D_photo": 0.5 * mse(D_photo(photo), 1) + 0.5 * mse(D_photo(fake_photo), 0),
        }
    want = {k: float(v) for k, v in want.items()}
    want["loss_G"] = sum(want[k] for k in want if k.startswith(("loss_G_adv", "loss_cycle", "loss_idt")))
    want["loss_D"] = (want["loss_D_monet"] + want["loss_D_photo"]) / 2
    assert set(reported) == set(want) == set(model.loss_names)
    for name, value in want.items():
        assert reported[name] == pytest.approx(value, rel=1e-5, abs=1e-7), name
    assert (reported["loss_idt_monet"] > 0) == (lambda_identity > 0)
    # The step changed both generators and both discriminators.
    for name, before in (("G_monet", G_monet), ("G_photo", G_photo), ("D_monet", D_monet), ("D_photo", D_photo)):
        assert not all(torch.equal(a, b) for a, b in zip(before.parameters(), model.nets[name].parameters())), name
