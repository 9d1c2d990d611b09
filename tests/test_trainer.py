"""The trainer on the real Monet paintings: short runs, stop/pause, NaN guard, exact resume."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import torch

from gan_core import checkpoint
from gan_core.config import build_config
from gan_core.events import Control
from gan_core.models import load_model
from gan_core.runs import Run, list_runs
from gan_core.trainer import train

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def small(competition_data, runs_dir, **kw):
    values = dict(data=str(competition_data), model="dcgan", image_size=64, ngf=16, ndf=16, batch_size=16,
                  steps=4, sample_every=2, checkpoint_every=2, runs_dir=str(runs_dir), run_id="run", seed=1)
    values.update(kw)
    return build_config(values)


def steps_of(run):
    return [r["step"] for r in run.metrics()]


@pytest.mark.slow
def test_short_dcgan64_run_on_monet(competition_data, runs_dir):
    events = []
    run = train(small(competition_data, runs_dir, ema=True, diffaugment=True), callbacks=[events.append])
    assert run.status()["state"] == "finished"
    assert steps_of(run) == [1, 2, 3, 4]
    row = run.metrics()[-1]
    for key in ("loss_d", "loss_g", "d_x", "d_g_z1", "d_g_z2", "lr_g", "lr_d", "images_per_s", "epoch", "time"):
        assert key in row
    assert [p.name for p in run.samples()] == ["step_000002.png", "step_000004.png"]
    ckpt = checkpoint.load(run.latest_checkpoint())
    assert ckpt["step"] == 4 and ckpt["config"]["model"] == "dcgan" and ckpt["state"]["ema"] is not None
    model, meta = load_model(run.path)
    assert model.generate(torch.randn(2, 100)).shape == (2, 3, 64, 64)
    kinds = [e.kind for e in events]
    assert kinds[0] != "end" and "start" in kinds and kinds[-1] == "end" and kinds.count("step") == 4
    assert [r.id for r in list_runs(runs_dir)] == ["run"]
    assert json.loads((run.path / "config.json").read_text())["train_images"] == 300


def test_same_seed_same_samples(competition_data, runs_dir):
    a = train(small(competition_data, runs_dir, run_id="a", steps=2, model="mlp", image_size=32))
    b = train(small(competition_data, runs_dir, run_id="b", steps=2, model="mlp", image_size=32))
    c = train(small(competition_data, runs_dir, run_id="c", steps=2, model="mlp", image_size=32, seed=2))
    assert (a.samples()[-1]).read_bytes() == (b.samples()[-1]).read_bytes()
    assert [r["loss_d"] for r in a.metrics()] == [r["loss_d"] for r in b.metrics()]
    assert (a.samples()[-1]).read_bytes() != (c.samples()[-1]).read_bytes()


def test_existing_run_is_not_overwritten(competition_data, runs_dir):
    train(small(competition_data, runs_dir, steps=1))
    with pytest.raises(ValueError, match="already exists"):
        train(small(competition_data, runs_dir, steps=1))


@pytest.mark.slow
def test_stop_then_resume_is_exact(competition_data, runs_dir):
    straight = train(small(competition_data, runs_dir, run_id="straight", steps=6, checkpoint_every=100))
    control = Control()

    def stop_at_3(event):
        if event.kind == "step" and event.data["step"] == 3:
            control.stop.set()
    cfg = small(competition_data, runs_dir, run_id="stopped", steps=6, checkpoint_every=100)
    run = train(cfg, callbacks=[stop_at_3], control=control)
    assert run.status()["state"] == "stopped" and steps_of(run) == [1, 2, 3]
    run = train(cfg, resume=True)
    assert run.status()["state"] == "finished" and steps_of(run) == [1, 2, 3, 4, 5, 6]
    a, b = checkpoint.load(straight.latest_checkpoint()), checkpoint.load(run.latest_checkpoint())
    for name, tensor in a["state"]["nets"]["G"].items():
        assert torch.equal(tensor, b["state"]["nets"]["G"][name]), name
    assert [r["loss_g"] for r in straight.metrics()] == [r["loss_g"] for r in run.metrics()]


def test_pause_holds_the_loop(competition_data, runs_dir):
    control = Control()
    control.pause.set()
    cfg = small(competition_data, runs_dir, steps=2)
    thread = threading.Thread(target=train, args=(cfg,), kwargs={"control": control})
    thread.start()
    status_path = runs_dir / "run" / "status.json"
    deadline = time.time() + 60
    while time.time() < deadline and not (status_path.exists() and
                                          json.loads(status_path.read_text())["state"] == "paused"):
        time.sleep(0.2)
    assert json.loads(status_path.read_text())["state"] == "paused"
    assert not (runs_dir / "run" / "metrics.jsonl").exists() or steps_of_path(runs_dir / "run") == []
    control.pause.clear()
    thread.join(120)
    assert json.loads(status_path.read_text())["state"] == "finished"


def steps_of_path(path):
    from gan_core.runs import Run
    return steps_of(Run(path))


def test_nan_loss_fails_the_run_and_keeps_the_checkpoint(competition_data, runs_dir, monkeypatch):
    from gan_core.models.noise_gan import NoiseGAN
    original = NoiseGAN.train_step
    calls = {"n": 0}

    def poisoned(self, micro):
        calls["n"] += 1
        out = original(self, micro)
        if calls["n"] == 3:
            out["loss_d"] = torch.tensor(float("nan"))
        return out
    monkeypatch.setattr(NoiseGAN, "train_step", poisoned)
    run = train(small(competition_data, runs_dir, steps=5))
    status = run.status()
    assert status["state"] == "failed" and "loss_d became nan at step 3" in status["message"]
    assert steps_of(run) == [1, 2]
    assert [p.name for p in run.checkpoints()] == ["step_000002.pt"]


@pytest.mark.slow
def test_accumulation_and_epochs(competition_data, runs_dir):
    run = train(small(competition_data, runs_dir, steps=0, epochs=2, batch_size=50, accumulation_steps=3,
                      image_size=32, model="mlp", checkpoint_every=50, sample_every=50))
    # 300 images / 50 = 6 micro-batches = 2 optimizer steps per epoch
    assert [(r["step"], r["epoch"]) for r in run.metrics()] == [(1, 1), (2, 1), (3, 2), (4, 2)]


def test_bf16_auto_is_on_exactly_where_the_cpu_has_it_and_the_run_records_it(competition_data, runs_dir):
    from gan_core.device import bf16_supported
    from gan_core.models import build_model
    supported = bf16_supported(torch.device("cpu"))
    cfg = small(competition_data, runs_dir, steps=2, device="cpu")  # bf16 left at its default, auto
    model = build_model(cfg, 3, torch.device("cpu"))
    assert model.bf16 is supported
    with model.autocast():
        out = model.nets["G"](torch.randn(2, cfg.latent_dim, 1, 1))
    assert out.dtype == (torch.bfloat16 if supported else torch.float32)
    assert train(cfg).config()["precision"] == ("bf16" if supported else "fp32")
    off = train(small(competition_data, runs_dir, steps=1, bf16="off", run_id="fp32"))
    assert off.config()["precision"] == "fp32" and off.status()["state"] == "finished"


def test_bf16_on_where_the_cpu_lacks_it_is_refused_with_the_way_out(competition_data, runs_dir):
    from gan_core.device import bf16_supported
    if bf16_supported(torch.device("cpu")):
        run = train(small(competition_data, runs_dir, steps=2, bf16="on", device="cpu"))
        assert run.config()["precision"] == "bf16" and run.status()["state"] == "finished"
        return
    with pytest.raises(ValueError, match="--bf16 auto or off"):
        train(small(competition_data, runs_dir, steps=2, bf16="on", device="cpu"))
    assert not (runs_dir / "run").exists()


def _cli(args, **kw):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "gan_core", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


@pytest.mark.subprocess
def test_sigkill_then_resume_from_cli(competition_data, runs_dir):
    args = ["train", "--data", str(competition_data), "--model", "dcgan", "--image-size", "64", "--ngf", "16",
            "--ndf", "16", "--batch-size", "16", "--steps", "10", "--checkpoint-every", "3", "--sample-every", "5",
            "--seed", "5", "--runs-dir", str(runs_dir), "--run-id", "killed"]
    proc = _cli(args)
    metrics = runs_dir / "killed" / "metrics.jsonl"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if metrics.exists() and len(metrics.read_text().splitlines()) >= 5:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    from gan_core.runs import Run
    killed = Run(runs_dir / "killed")
    assert killed.status()["state"] == "running"  # what a kill leaves; the studio shows it as resumable
    assert len(killed.metrics()) >= 5
    out, err = _cli(args + ["--resume"]).communicate(timeout=300)
    assert out.strip().splitlines()[-1] == str(runs_dir / "killed"), err
    assert steps_of(killed) == list(range(1, 11))
    ckpt = checkpoint.load(killed.latest_checkpoint())
    assert ckpt["step"] == 10 and killed.status()["state"] == "finished"


# --- damaged checkpoints (real damaged files) ---------------------------------------------------
def _damaged_run(mnist_raw, runs_dir):
    from gan_core.config import build_config

    cfg = build_config(dict(model="mlp", data=str(mnist_raw), image_size=28, batch_size=64, steps=6,
                            checkpoint_every=2, keep_checkpoints=2, sample_every=100, runs_dir=str(runs_dir),
                            run_id="damaged", device="cpu"))
    return cfg, train(cfg)


@pytest.mark.slow
def test_resume_sets_a_truncated_checkpoint_aside_and_keeps_the_good_ones(mnist_raw, runs_dir):
    cfg, run = _damaged_run(mnist_raw, runs_dir)
    newest = run.checkpoints()[-1]
    newest.write_bytes(newest.read_bytes()[:1000])  # a kill mid-copy, a full disk
    events = []
    from gan_core.config import build_config

    run = train(build_config({**cfg.to_dict(), "steps": 10}), callbacks=[events.append], resume=True)
    warnings = [e.data["message"] for e in events if e.kind == "log" and "step_000006.pt" in e.data["message"]]
    assert warnings and "renamed to step_000006.pt.bad" in warnings[0]
    assert (run.checkpoints_dir / "step_000006.pt.bad").exists()
    assert [r["step"] for r in run.metrics()] == list(range(1, 11))  # resumed at 4, no gap, no duplicate
    assert [p.name for p in run.checkpoints()] == ["step_000008.pt", "step_000010.pt"]


@pytest.mark.slow
def test_resume_with_no_loadable_checkpoint_refuses_and_keeps_metrics(mnist_raw, runs_dir):
    cfg, run = _damaged_run(mnist_raw, runs_dir)
    for path in run.checkpoints():
        path.write_bytes(b"not a checkpoint")
    before = run.metrics_path.read_bytes()
    with pytest.raises(ValueError, match="none of its 2 checkpoint"):
        train(cfg, resume=True)
    assert run.metrics_path.read_bytes() == before


def test_export_passes_over_a_damaged_latest(mnist_raw, runs_dir):
    from gan_core.models import load_model

    _, run = _damaged_run(mnist_raw, runs_dir)
    run.checkpoints()[-1].write_bytes(b"\0" * 64)
    model, meta = load_model(run.path)
    assert meta["step"] == 4 and (run.checkpoints_dir / "step_000006.pt.bad").exists()


@pytest.mark.subprocess
def test_two_trainings_racing_on_one_run_id(mnist_raw, runs_dir):
    """Two CLI processes start the same new run at once: one trains it, the other is refused in
    one line (exit 2), and the run's metrics are one clean sequence."""
    command = [sys.executable, "-m", "gan_core", "train", "--model", "mlp", "--data", str(mnist_raw),
               "--image-size", "28", "--batch-size", "64", "--steps", "30", "--checkpoint-every", "10",
               "--sample-every", "100", "--device", "cpu", "--runs-dir", str(runs_dir), "--run-id", "race"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    results = [(p.wait(300), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, err in results if code == 2)
    assert ("another process" in refused or "already exists" in refused) and "Traceback" not in refused
    run = Run(runs_dir / "race")
    assert [r["step"] for r in run.metrics()] == list(range(1, 31)) and run.status()["state"] == "finished"


def test_a_second_trainer_in_the_same_process_is_refused(mnist_raw, runs_dir):
    from gan_core.runs import claim_run

    path = runs_dir / "held"
    with claim_run(path):
        with pytest.raises(ValueError, match="another process"):
            with claim_run(path):
                pass
    with claim_run(path):  # released
        pass
