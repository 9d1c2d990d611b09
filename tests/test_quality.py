"""The quality probe, the best checkpoint, forks and the schedules keyed on the probe, on real runs."""
from __future__ import annotations

import json

import pytest
import torch

from gan_core import checkpoint
from gan_core.config import build_config
from gan_core.events import Control
from gan_core.export import export_zip
from gan_core.fork import parse_fork
from gan_core.models import load_model
from gan_core.quality import best_row, collapse_warnings
from gan_core.runs import Run
from gan_core.trainer import Trainer, train
from test_cyclegan import assert_same_nets


def dcgan_config(data, runs_dir, run_id, **overrides):
    values = dict(model="dcgan", data=str(data), domain="monet", image_size=32, ngf=8, ndf=8, batch_size=16,
                  steps=6, quality_every=2, quality_images=12, checkpoint_every=2, sample_every=100,
                  runs_dir=str(runs_dir), run_id=run_id, device="cpu")
    return build_config({**values, **overrides})


@pytest.fixture(scope="module")
def probed_run(competition_data, tmp_path_factory):
    runs_dir = tmp_path_factory.mktemp("runs")
    events = []
    run = train(dcgan_config(competition_data, runs_dir, "probed", keep_checkpoints=1), callbacks=[events.append])
    return run, events


@pytest.mark.inception
def test_probe_rows_and_best_checkpoint(probed_run):
    run, events = probed_run
    rows = run.quality()
    assert [r["step"] for r in rows] == [2, 4, 6]
    for r in rows:
        assert r["n"] == 12 and r["fid"] > 0 and r["kid_std"] >= 0 and r["seconds"] > 0
        assert 0 < r["diversity"] < 5 and r["input_distance"] is None
    best = best_row(rows)
    assert run.best_quality()["step"] == best["step"] and run.best_quality()["fid"] == pytest.approx(best["fid"])
    saved = checkpoint.load(run.best_path)
    assert saved["step"] == best["step"]
    # keep_checkpoints=1: rotation removed the other step files, never best.pt
    assert [p.name for p in run.checkpoints()] == ["step_000006.pt"]
    assert [e.data["step"] for e in events if e.kind == "quality"] == [2, 4, 6]


@pytest.mark.inception
def test_export_and_load_best(probed_run, tmp_path):
    run, _ = probed_run
    best = run.best_quality()
    model, meta = load_model(run.path, "best")
    assert meta["step"] == best["step"]
    report = export_zip(run, count=20, out=tmp_path / "best.zip", checkpoint="best")
    assert report["step"] == best["step"] and report["validation"]["ok"]
    assert load_model(run.path, "latest")[1]["step"] == 6


def test_missing_best_is_explained(competition_data, runs_dir):
    run = train(dcgan_config(competition_data, runs_dir, "plain", steps=2, quality_every=0))
    with pytest.raises(FileNotFoundError, match="--quality-every"):
        run.resolve_checkpoint("best")
    assert not run.quality_path.exists()


@pytest.mark.inception
def test_resume_keeps_best_and_drops_later_rows(competition_data, runs_dir):
    """Stopped at step 4 (probes 2 and 4 written, best.pt kept), then extended to 8 steps."""
    control = Control()

    def stop_at_4(event):
        if event.kind == "quality" and event.data["step"] == 4:
            control.stop.set()
    cfg = dcgan_config(competition_data, runs_dir, "resumed", steps=6, keep_checkpoints=1)
    run = train(cfg, callbacks=[stop_at_4], control=control)
    assert run.status()["state"] == "stopped" and [r["step"] for r in run.quality()] == [2, 4]
    best_before = run.best_quality()
    # a row a killed process wrote after its checkpoint is dropped on resume
    with open(run.quality_path, "a") as f:
        f.write(json.dumps({"step": 5, "fid": 0.0}) + "\n")
    run = train(build_config({**cfg.to_dict(), "steps": 8}), resume=True)
    rows = run.quality()
    assert [r["step"] for r in rows] == [2, 4, 6, 8]
    assert run.best_path.exists()
    assert run.best_quality()["fid"] <= best_before["fid"]
    assert run.best_quality()["fid"] == pytest.approx(best_row(rows)["fid"])


@pytest.mark.inception
def test_translation_probe_measures_change(competition_data, runs_dir):
    cfg = build_config(dict(model="cut", data=str(competition_data), image_size=64, ngf=8, ndf=8, generator="unet",
                            batch_size=1, epoch_size=4, steps=2, quality_every=2, quality_images=8,
                            nce_patches=16, nce_dim=16, runs_dir=str(runs_dir), run_id="cut", device="cpu"))
    row = train(cfg).quality()[0]
    assert row["n"] == 8 and 0 < row["input_distance"] < 1 and row["fid"] > 0


@pytest.mark.inception
def test_fork_carries_weights_and_applies_settings(probed_run, runs_dir):
    parent, _ = probed_run
    best = parent.best_quality()
    from gan_core.cli.train import config_from_args, register
    import argparse

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["train", "--fork", f"{parent.path}:best", "--run-id", "child", "--runs-dir",
                              str(runs_dir), "--lr-g", "1e-5", "--steps", "2", "--quality-every", "0"])
    cfg = config_from_args(args)
    assert cfg.lr_g == 1e-5 and cfg.ngf == 8 and cfg.image_size == 32 and cfg.fork.endswith(":best")
    trainer = Trainer(cfg)
    from gan_core import distributed
    from gan_core.device import select_device

    with distributed.process_group(select_device("cpu")) as trainer.dist:
        trainer._prepare()
    source = checkpoint.load(parent.best_path)["state"]
    assert_same_nets({"nets": {k: net.state_dict() for k, net in trainer.model.nets.items()}}, source)
    opt = trainer.model.optimizers["G"]
    assert opt.param_groups[0]["lr"] == 1e-5
    assert torch.equal(next(iter(opt.state.values()))["exp_avg_sq"],
                       next(iter(source["optimizers"]["G"]["state"].values()))["exp_avg_sq"])
    assert trainer.step == 0
    record = Run(runs_dir / "child").config()["fork_of"]
    assert record["step"] == best["step"] and record["checkpoint"].endswith("best.pt")
    child = train(cfg, resume=True)  # the fork's own run: trains 2 steps from the parent's weights
    assert child.status()["state"] == "finished" and child.metrics()[0]["lr_g"] == 1e-5


@pytest.mark.inception
def test_fork_refuses_changed_networks(probed_run, runs_dir):
    parent, _ = probed_run
    from gan_core.fork import fork_values

    cfg = build_config({**fork_values(str(parent.path)), "ngf": 16, "run_id": "wide", "runs_dir": str(runs_dir)})
    with pytest.raises(ValueError, match="ngf"):
        train(cfg)


def test_parse_fork():
    assert parse_fork("runs/a:best") == ("runs/a", "best")
    assert parse_fork("runs/a:step_000004.pt") == ("runs/a", "step_000004.pt")
    assert parse_fork("C:/runs/a") == ("C:/runs/a", None)


@pytest.mark.inception
def test_resume_names_fork_for_changed_settings(probed_run):
    from gan_core.config import resume_config

    run, _ = probed_run
    with pytest.raises(ValueError, match="--fork"):
        resume_config(run.config(), {"lr_g": 1e-5})


def test_plateau_ignores_noisy_losses_and_follows_the_probe():
    """The model's own wiring: per-step losses (a stationary noisy equilibrium) never move the
    plateau schedule; the probe's FID does, down to --min-lr."""
    from gan_core.models import build_model

    cfg = build_config(dict(model="dcgan", image_size=32, ngf=8, ndf=8, scheduler="plateau", quality_every=100,
                            plateau_patience=2, plateau_factor=0.5, min_lr=6e-5, lr_g=2e-4, lr_d=2e-4, steps=10_000))
    model = build_model(cfg, 3, torch.device("cpu"))
    model.plan(100)
    gen = torch.Generator().manual_seed(0)
    for step in range(1, 5001):
        noisy = (0.7 + 0.1 * torch.randn(2, generator=gen)).tolist()
        model.after_step(step, {"loss_g": noisy[0], "loss_d": noisy[1]})
    assert model.learning_rates() == {"lr_g": 2e-4, "lr_d": 2e-4}
    for fid in (100, 90, 95, 96):  # best 90, then 2 probes without a new best: within patience
        model.after_quality_probe(fid)
    assert model.learning_rates()["lr_g"] == 2e-4
    model.after_quality_probe(97)  # the third: the rates drop
    assert model.learning_rates() == pytest.approx({"lr_g": 1e-4, "lr_d": 1e-4})
    for fid in (98, 99, 99, 99, 99, 99, 99, 99):
        model.after_quality_probe(fid)
    assert model.learning_rates()["lr_g"] == pytest.approx(6e-5)  # the floor


def test_plateau_needs_the_probe():
    with pytest.raises(ValueError, match="quality_every"):
        build_config(dict(model="dcgan", scheduler="plateau"))


def test_extending_a_decayed_run_says_the_rate_goes_back_up(competition_data, runs_dir):
    """3 steps an epoch; 2 epochs, the second decaying to 0, then extended to 4 epochs: the decay moves
    to epoch 4, so step 7 runs at the full rate again, and the run says so."""
    cfg = dcgan_config(competition_data, runs_dir, "extended", steps=0, epochs=2, batch_size=100, quality_every=0,
                       scheduler="linear", decay_epochs=1, checkpoint_every=100)
    run = train(cfg)
    assert run.metrics()[-1]["lr_g"] == 0.0
    events = []
    run = train(build_config({**cfg.to_dict(), "epochs": 4}), callbacks=[events.append], resume=True)
    notes = [e.data["message"] for e in events if e.kind == "log" and "re-planned" in e.data["message"]]
    assert len(notes) == 1 and "more steps" in notes[0] and "lr G 0 -> 0.0002" in notes[0]
    rows = run.metrics()
    assert [r["step"] for r in rows] == list(range(1, 13))
    assert rows[6]["lr_g"] == 2e-4 and rows[-1]["lr_g"] == 0.0


def test_collapse_warnings():
    assert collapse_warnings([{"step": 4, "diversity": 0.9, "input_distance": 0.2}]) == []
    warned = collapse_warnings([{"step": 4, "diversity": 0.1, "input_distance": 0.001}])
    assert len(warned) == 2 and "collapse" in warned[0] and "step 4" in warned[1]


def test_presets_probe_at_their_checkpoints():
    from gan_core.config import list_presets

    for name in list_presets():
        cfg = build_config(preset=name)
        assert cfg.quality_every > 0 and cfg.quality_every % cfg.checkpoint_every == 0, name
