"""Inside one real optimizer step, on real networks and a few real images: where DiffAugment is applied
(DCGAN, CycleGAN, CUT), that the reported D and G losses are the chosen loss's formula on the very
outputs D gave, and that a real run's learning rates follow the schedule's formula step by step."""
from __future__ import annotations

import shutil

import pytest
import torch

from gan_core.config import build_config
from gan_core.data import load_images
from gan_core.models import build_model
from gan_core.trainer import train

CPU = torch.device("cpu")


pytestmark = pytest.mark.usefixtures("one_thread")  # conftest: every run of the module on one thread


@pytest.fixture(scope="module")
def few_images(competition_data, tmp_path_factory):
    """8 Monet paintings and 4 photos in a competition layout, decoded at 32 px."""
    folder = tmp_path_factory.mktemp("competition")
    for domain, n in (("monet_jpg", 8), ("photo_jpg", 4)):
        (folder / domain).mkdir()
        for path in sorted((competition_data / domain).glob("*.jpg"))[:n]:
            shutil.copy(path, folder / domain / path.name)
    return folder, load_images(folder, 32)


def tiny_model(data, **settings):
    """A real model with tiny networks, seeded, attached to the real images."""
    values = dict(image_size=32, ngf=4, ndf=4, batch_size=2, device="cpu", seed=0)
    if settings.get("model") in ("cyclegan", "cut"):
        values.update(n_blocks=1, epoch_size=4, nce_patches=8, nce_dim=8)
    cfg = build_config({**values, **settings})
    torch.manual_seed(0)
    model = build_model(cfg, data.channels, CPU)
    model.attach_data(data if cfg.model in ("cyclegan", "cut") else data.select("monet"))
    return model


class Recorder:
    """Every input a module's forward was called with, and every output, in call order."""

    def __init__(self, module):
        self.inputs, self.outputs = [], []
        self.handles = [module.register_forward_pre_hook(lambda m, args: self.inputs.append(args[0])),
                        module.register_forward_hook(lambda m, args, out: self.outputs.append(out))]

    def remove(self):
        for handle in self.handles:
            handle.remove()


def recorded_step(model, names):
    """One real train_step on the model's first micro-batch, recording the named nets."""
    recorders = {name: Recorder(model.nets[name]) for name in names}
    batch = model.micro_batch(0, 0)
    torch.manual_seed(1)
    values = model.train_step([batch])
    for r in recorders.values():
        r.remove()
    return batch, recorders, values


def assert_cutout_of(seen: torch.Tensor, source: torch.Tensor) -> None:
    """`seen` is `source` with a square of whole pixels (every channel) zeroed in each image: DiffAugment's
    cutout, and nothing else changed."""
    assert seen.shape == source.shape
    zeroed = (seen == 0).all(dim=1, keepdim=True)
    assert torch.equal(seen, source * ~zeroed), "D's input is not the tensor it should come from"
    share = zeroed.flatten(1).float().mean(1)
    assert ((share > 0) & (share <= 0.25)).all(), f"cutout should zero up to a quarter of each image: {share}"


def assert_raw(seen: torch.Tensor, source: torch.Tensor) -> None:
    assert torch.equal(seen, source), "without --diffaugment D sees the tensor itself"


# --- where DiffAugment is applied ----------------------------------------------------------------
# The cutout policy alone makes the augmentation exactly checkable: D's input must be its source tensor
# with zeroed squares. Real images in [-1, 1] are never exactly 0 (u / 127.5 - 1), nor are tanh outputs.

@pytest.mark.parametrize("diffaugment", [True, False])
def test_dcgan_d_sees_augmented_real_and_fake_and_g_is_trained_through_the_augmentation(few_images, diffaugment):
    _, data = few_images
    model = tiny_model(data, model="dcgan", diffaugment=diffaugment, diffaugment_policy="cutout")
    real, rec, _ = recorded_step(model, ["G", "D"])
    (fake,), (d_real, d_fake, d_for_g) = rec["G"].outputs, rec["D"].inputs
    check = assert_cutout_of if diffaugment else assert_raw
    check(d_real, real)                  # D step, real images
    check(d_fake, fake.detach())         # D step, generated images
    check(d_for_g, fake)                 # G step: G's adversarial term
    assert not d_fake.requires_grad and d_for_g.requires_grad  # only the G step's input leads back to G
    if diffaugment:  # each pass draws its own augmentation
        assert not torch.equal(d_fake == 0, d_for_g == 0)


@pytest.mark.parametrize("diffaugment", [True, False])
def test_cyclegan_both_discriminators_see_augmented_real_and_fake(few_images, diffaugment):
    _, data = few_images
    model = tiny_model(data, model="cyclegan", pool_size=0, diffaugment=diffaugment, diffaugment_policy="cutout")
    (photo, monet), rec, _ = recorded_step(model, ["G_monet", "G_photo", "D_monet", "D_photo"])
    fake_monet, fake_photo = rec["G_monet"].outputs[0], rec["G_photo"].outputs[0]
    check = assert_cutout_of if diffaugment else assert_raw
    for D, real, fake in (("D_monet", monet, fake_monet), ("D_photo", photo, fake_photo)):
        g_step, d_real, d_fake = rec[D].inputs  # the G step comes first, then the D step (pool size 0)
        check(g_step, fake)
        check(d_real, real)
        check(d_fake, fake.detach())
        assert g_step.requires_grad and not d_fake.requires_grad, D


@pytest.mark.parametrize("diffaugment", [True, False])
def test_cut_d_sees_augmented_real_and_fake(few_images, diffaugment):
    _, data = few_images
    model = tiny_model(data, model="cut", diffaugment=diffaugment, diffaugment_policy="cutout")
    (photo, monet), rec, _ = recorded_step(model, ["G", "D"])
    (translated,) = rec["G"].outputs  # photos and paintings (identity PatchNCE) in one batch
    fake = translated[:photo.size(0)]
    d_real, d_fake, d_for_g = rec["D"].inputs
    check = assert_cutout_of if diffaugment else assert_raw
    check(d_real, monet)
    check(d_fake, fake.detach())
    check(d_for_g, fake)
    assert d_for_g.requires_grad and not d_fake.requires_grad


# --- the chosen loss, inside a real step --------------------------------------------------------
def direct_losses(kind: str, real: torch.Tensor, fake: torch.Tensor, for_g: torch.Tensor, smoothing: float):
    """(D loss, G loss) written out from the papers' formulas on raw D outputs (logits)."""
    t, s = 1.0 - smoothing, torch.sigmoid
    if kind == "bce":  # binary cross-entropy against target t for real, 0 for fake; non-saturating G
        d = -(t * torch.log(s(real)) + (1 - t) * torch.log(1 - s(real))).mean() - torch.log(1 - s(fake)).mean()
        return d, -torch.log(s(for_g)).mean()
    if kind == "lsgan":
        return 0.5 * ((real - t) ** 2).mean() + 0.5 * (fake ** 2).mean(), 0.5 * ((for_g - 1) ** 2).mean()
    assert kind == "hinge"
    return torch.clamp(t - real, min=0).mean() + torch.clamp(1 + fake, min=0).mean(), -for_g.mean()


def mean_probability(logits: list[torch.Tensor]) -> float:
    """D(x), D(G(z)) as a step reports them: mean sigmoid, averaged over the micro-batches."""
    return float(sum(torch.sigmoid(x).mean() for x in logits) / len(logits))


@pytest.mark.parametrize("kind, smoothing, accumulation", [
    ("bce", 0.0, 1), ("bce", 0.1, 1), ("lsgan", 0.0, 1), ("hinge", 0.0, 1), ("hinge", 0.0, 2)])
def test_a_real_dcgan_step_reports_the_chosen_loss_of_its_own_d_outputs(few_images, kind, smoothing, accumulation):
    _, data = few_images
    model = tiny_model(data, model="dcgan", loss=kind, label_smoothing=smoothing, accumulation_steps=accumulation)
    D = Recorder(model.nets["D"])
    micro = [model.micro_batch(0, k) for k in range(accumulation)]
    torch.manual_seed(1)
    values = model.train_step(micro)
    outs = [o.detach().float() for o in D.outputs]
    # D step: (real, fake) per micro-batch; then the G step: one pass per micro-batch, after D's update.
    pairs, for_g = [outs[2 * k:2 * k + 2] for k in range(accumulation)], outs[2 * accumulation:]
    assert len(for_g) == accumulation
    expected = [direct_losses(kind, real, fake, g, smoothing) for (real, fake), g in zip(pairs, for_g)]
    assert float(values["loss_d"]) == pytest.approx(float(sum(d for d, _ in expected) / accumulation), rel=1e-5)
    assert float(values["loss_g"]) == pytest.approx(float(sum(g for _, g in expected) / accumulation), rel=1e-5)
    assert float(values["d_x"]) == pytest.approx(mean_probability([p[0] for p in pairs]), rel=1e-5)
    assert float(values["d_g_z1"]) == pytest.approx(mean_probability([p[1] for p in pairs]), rel=1e-5)
    assert float(values["d_g_z2"]) == pytest.approx(mean_probability(for_g), rel=1e-5)
    assert not torch.equal(outs[1], for_g[0])  # D was updated between its step and G's


def test_the_loss_choice_changes_the_step_and_nothing_before_it(few_images):
    """Same seed, same nets, same batch: D's first outputs agree, the losses and the updated D do not."""
    _, data = few_images
    outcomes = {}
    for kind in ("bce", "lsgan", "hinge"):
        model = tiny_model(data, model="dcgan", loss=kind)
        D = Recorder(model.nets["D"])
        batch = model.micro_batch(0, 0)
        torch.manual_seed(1)
        values = model.train_step([batch])
        outcomes[kind] = (D.outputs[0].detach(), float(values["loss_d"]),
                          torch.cat([p.detach().flatten() for p in model.nets["D"].parameters()]))
    first = outcomes["bce"]
    for kind in ("lsgan", "hinge"):
        assert torch.equal(outcomes[kind][0], first[0]), kind
        assert outcomes[kind][1] != pytest.approx(first[1]), kind
        assert not torch.equal(outcomes[kind][2], first[2]), kind


# --- learning-rate schedules over a real run ----------------------------------------------------
def linear_rate(base: float, floor: float, step: int, total: int, decay: int) -> float:
    """Constant, then straight down to `floor` over the last `decay` steps (CycleGAN's schedule)."""
    start = total - decay
    return base if step <= start else floor + (base - floor) * (1 - (step - start) / decay)


@pytest.mark.parametrize("scheduler", ["linear", "none"])
def test_a_real_runs_learning_rates_follow_the_schedule_after_every_step(few_images, runs_dir, scheduler):
    folder, _ = few_images
    # 8 paintings in batches of 4: 2 steps an epoch; 6 steps, the last 2 epochs (4 steps) decaying to 2e-5.
    linear = dict(decay_epochs=2, min_lr=2e-5) if scheduler == "linear" else {}
    run = train(build_config(dict(data=str(folder), model="dcgan", image_size=32, ngf=4, ndf=4, batch_size=4,
                                  steps=6, lr_g=2e-4, lr_d=4e-4, scheduler=scheduler, sample_every=100,
                                  checkpoint_every=100, runs_dir=str(runs_dir), run_id=scheduler, device="cpu",
                                  **linear)))
    rows = run.metrics()
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5, 6]
    for row in rows:  # the rate each row shows is the one the next step uses
        for name, base in (("lr_g", 2e-4), ("lr_d", 4e-4)):
            want = linear_rate(base, 2e-5, row["step"], 6, 4) if scheduler == "linear" else base
            assert row[name] == pytest.approx(want, rel=1e-9), (row["step"], name)
    if scheduler == "linear":
        assert rows[-1]["lr_g"] == rows[-1]["lr_d"] == pytest.approx(2e-5)  # the floor, for both
        assert rows[2]["lr_g"] == pytest.approx(2e-5 + 1.8e-4 * 0.75)
