"""The MLP-vs-DCGAN comparison on the real MNIST digits: stop, resume, report, GIFs; epoch grids."""
from __future__ import annotations

import csv
import math

import pytest
import torch
from PIL import Image

from gan_core.cli import main
from gan_core.compare import compare, copy_epoch_grids, train_or_resume
from gan_core.runs import list_reports, load_report
from gan_core.config import TrainConfig, build_config
from gan_core.events import CancelledError, Control
from gan_core.evolution import evolution_gif, pick_frames
from gan_core.models import load_model
from gan_core.runs import Run, create_run
from gan_core.trainer import train

# 625 steps per epoch at batch 16: grids every 2 steps stand in for per-epoch ones.
BUDGET = dict(steps=4, batch_size=16, sample_every=2, kid_samples=8)



def stop_at(step: int, control: Control):
    def callback(event):
        if event.kind == "step" and event.data["step"] == step:
            control.stop.set()
    return callback


@pytest.mark.inception
def test_compare_stops_resumes_and_reports(mnist_raw, runs_dir, tmp_path, restore_signals):
    out = tmp_path / "mnist-report"
    control = Control()
    with pytest.raises(CancelledError, match="mlp"):
        compare(str(mnist_raw), out=str(out), runs_dir=str(runs_dir), callbacks=[stop_at(2, control)],
                control=control, **BUDGET)
    assert Run(runs_dir / "mnist-report-mlp").status()["state"] == "stopped"
    assert not (runs_dir / "mnist-report-dcgan").exists()

    assert main(["compare", "--data", str(mnist_raw), "--models", "mlp,dcgan", "--steps", "4", "--batch-size", "16",
                 "--sample-every", "2", "--kid-samples", "8", "--runs-dir", str(runs_dir), "--out", str(out)]) == 0
    assert list_reports(tmp_path) == [out]
    report = load_report(out)
    assert [row["model"] for row in report["table"]] == ["mlp", "dcgan"]
    assert report["kid_samples"] == 8
    for row in report["table"]:
        assert row["state"] == "finished" and row["steps"] == 4 and row["train_s"] > 0
        assert all(math.isfinite(row[k]) for k in ("loss_d_final", "loss_d_mean", "loss_g_final", "loss_g_mean",
                                                  "kid_mean", "kid_std"))
        assert row["kid_std"] > 0  # subsets smaller than the sample sets
    mlp, dcgan = report["table"]
    assert mlp["params_g"] != dcgan["params_g"]
    for model in ("mlp", "dcgan"):
        run = Run(report["runs"][model])
        assert run.path == (runs_dir / f"mnist-report-{model}").resolve()
        assert [r["step"] for r in run.metrics()] == [1, 2, 3, 4]  # the stopped mlp run resumed, no repeats
        assert (run.path / "tensorboard").is_dir()  # on by default for compare
        assert [p.name for p in report["grids"][model]] == [f"{model}_epoch_01.png"]
        assert report["grids"][model][0].read_bytes() == run.samples()[-1].read_bytes()
        with Image.open(report["gifs"][model]) as gif:
            assert gif.n_frames == 2  # the grids of steps 2 and 4
    with open(out / "report.csv") as f:
        assert [row["model"] for row in csv.DictReader(f)] == ["mlp", "dcgan"]
    markdown = (out / "report.md").read_text()
    assert "| model | state | steps |" in markdown and "![mlp evolution](mlp_evolution.gif)" in markdown

    events = []
    saved = TrainConfig.from_dict(Run(report["runs"]["mlp"]).config()).to_dict()
    train_or_resume(saved, 4, callbacks=[events.append])
    assert [e.kind for e in events] == ["log"] and "already finished" in events[0].data["message"]


def test_noise_models_take_one_channel_from_digits_at_32px(mnist_raw, runs_dir):
    cfg = build_config(dict(data=str(mnist_raw), model="dcgan", image_size=32, steps=1, batch_size=8,
                            runs_dir=str(runs_dir), run_id="dcgan32"))
    run = train(cfg)
    model, _ = load_model(run.path)
    assert run.config()["channels"] == 1
    assert model.generate(torch.randn(3, 100)).shape == (3, 1, 32, 32)
    assert not (run.path / "tensorboard").exists()  # train writes event files only when asked


def test_compare_rejects_what_it_cannot_compare(mnist_raw, runs_dir):
    with pytest.raises(ValueError, match="cyclegan"):
        compare(str(mnist_raw), models=("mlp", "cyclegan"), runs_dir=str(runs_dir))
    with pytest.raises(ValueError, match="batch_size"):
        compare(str(mnist_raw), overrides={"batch_size": 8, "ngf": 16}, runs_dir=str(runs_dir))


def fake_run(tmp_path, steps) -> Run:
    run = create_run(tmp_path, "fake")
    for i, step in enumerate(steps):
        Image.new("RGB", (20, 20), (i * 10 % 256, 0, 0)).save(run.samples_dir / f"step_{step:06d}.png")
    return run


def test_epoch_grids_keep_the_last_grid_of_each_epoch(tmp_path):
    run = fake_run(tmp_path, [50, 100, 150, 156, 312, 320])
    out = tmp_path / "report"
    out.mkdir()
    names = copy_epoch_grids("mlp", run, out, steps_per_epoch=156)
    assert names == ["mlp_epoch_01.png", "mlp_epoch_02.png", "mlp_epoch_03.png"]
    assert (out / "mlp_epoch_01.png").read_bytes() == (run.samples_dir / "step_000156.png").read_bytes()


def test_evolution_gif_spreads_frames_and_captions_steps(tmp_path):
    assert pick_frames(list(range(10)), 4) == [0, 3, 6, 9]
    assert pick_frames(list(range(3)), 100) == [0, 1, 2]
    run = fake_run(tmp_path, range(1, 31))
    path = evolution_gif(run, max_frames=5, fps=10)
    assert path == run.path / "evolution.gif"
    with Image.open(path) as gif:
        assert gif.n_frames == 5 and gif.info["loop"] == 0
        assert gif.size[0] == 20 and gif.size[1] > 20  # the caption bar above the grid
    with pytest.raises(ValueError, match="no sample grids"):
        evolution_gif(create_run(tmp_path, "empty"))
