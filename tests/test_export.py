"""Competition export from a tiny real DCGAN run: the zip, its manifest, seeds, bad arguments,
cancellation and a killed export."""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core import checkpoint
from gan_core.cli import main
from gan_core.config import build_config
from gan_core.events import CancelledError, Control
from gan_core import export
from gan_core.export import export_zip, to_export_pixels
from gan_core.export_validate import entry_name
from gan_core.latent import latent_vectors
from gan_core.models import load_model
from gan_core.models.base import eval_mode
from gan_core.runs import Run
from gan_core.trainer import train

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def tiny_run(monet_dir, tmp_path_factory):
    cfg = build_config(dict(data=str(monet_dir), model="dcgan", image_size=32, ngf=8, ndf=8, batch_size=8, steps=2,
                            ema=True, sample_every=100, runs_dir=str(tmp_path_factory.mktemp("runs")),
                            run_id="tiny", seed=1))
    return train(cfg)



def entries(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))


def test_export_writes_a_valid_zip_and_a_manifest(tiny_run, tmp_path):
    events = []
    out = tmp_path / "new" / "folder" / "images.zip"  # missing folders are created
    report = export_zip(tiny_run.path, count=50, out=out, seed=7, quality=90, batch_size=16,
                        callbacks=[events.append])
    assert report["path"] == str(out) and report["count"] == 50 and report["validation"]["ok"]
    contents = entries(out)
    assert list(contents) == [entry_name(i) for i in range(50)] == [f"image_{i:05d}.jpg" for i in range(50)]
    for data in contents.values():
        with Image.open(io.BytesIO(data)) as image:
            assert (image.format, image.size, image.mode) == ("JPEG", (256, 256), "RGB")
    assert len(set(contents.values())) == 50
    assert leftovers(out.parent) == []

    assert len(report["warnings"]) == 1 and "7,000" in report["warnings"][0]
    logs = [e.data["message"] for e in events if e.kind == "log"]
    assert any("7,000" in m for m in logs)
    progress = [e.data for e in events if e.kind == "progress"]
    assert [p["done"] for p in progress] == [16, 32, 48, 50]
    assert all(p["task"] == "export" and p["total"] == 50 for p in progress)

    manifest_path = tiny_run.path / "exports" / os.path.basename(report["manifest"])
    manifest = json.loads(manifest_path.read_text())
    assert manifest["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest() == report["sha256"]
    assert manifest["output"] == str(out.resolve()) and manifest["checkpoint"].endswith("step_000002.pt")
    assert (manifest["step"], manifest["seed"], manifest["count"], manifest["quality"]) == (2, 7, 50, 90)
    assert manifest["time"] and manifest["source"] == "noise samples"


def test_same_seed_same_entries(tiny_run, tmp_path):
    a = export_zip(tiny_run.path, count=20, out=tmp_path / "a.zip", seed=3)
    b = export_zip(tiny_run.path, count=20, out=tmp_path / "b.zip", seed=3)
    c = export_zip(tiny_run.path, count=20, out=tmp_path / "c.zip", seed=4)
    assert entries(a["path"]) == entries(b["path"])
    assert a["sha256"] == b["sha256"]  # fixed entry times: the whole zip repeats
    assert set(entries(a["path"]).values()).isdisjoint(entries(c["path"]).values())


def test_bad_arguments_are_refused_before_any_work(tiny_run, tmp_path):
    with pytest.raises(ValueError, match="1 to 10,000"):
        export_zip(tiny_run.path, count=0, out=tmp_path / "x.zip")
    with pytest.raises(ValueError, match="caps a submission at 10,000"):
        export_zip(tiny_run.path, count=10_001, out=tmp_path / "x.zip")
    with pytest.raises(ValueError, match=r"\.zip"):
        export_zip(tiny_run.path, count=10, out=tmp_path / "x.png")
    with pytest.raises(FileNotFoundError, match="no run at"):
        export_zip(tmp_path / "nowhere", count=10, out=tmp_path / "x.zip")
    untrained = tmp_path / "untrained"
    untrained.mkdir()
    (untrained / "config.json").write_text(json.dumps(tiny_run.config()))
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        export_zip(untrained, count=10, out=tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()


def test_cli_errors_are_one_line(tiny_run, tmp_path, capsys, restore_signals):
    for count in ("0", "10001"):
        assert main(["export", "--run", str(tiny_run.path), "--count", count, "--out", str(tmp_path / "x.zip")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: count") and err.count("\n") == 1
    assert main(["export", "--run", str(tmp_path / "missing"), "--out", str(tmp_path / "x.zip")]) == 2
    assert capsys.readouterr().err.startswith("error: no run at")


def test_cancel_mid_export_leaves_nothing(tiny_run, tmp_path):
    control, seen = Control(), []

    def stop_after_second_batch(event):
        if event.kind == "progress":
            seen.append(event.data["done"])
            if len(seen) == 2:
                control.stop.set()
    out = tmp_path / "images.zip"
    with pytest.raises(CancelledError, match="no zip was written"):
        export_zip(tiny_run.path, count=80, out=out, batch_size=8, callbacks=[stop_after_second_batch],
                   control=control)
    assert seen == [8, 16]
    assert not out.exists() and leftovers(tmp_path) == []


def test_export_draws_from_the_ema_generator_not_the_live_one(tiny_run, tmp_path):
    # A copy of the run whose EMA generator is the live one with its last layer scaled by -4: the same
    # features (so the same BatchNorm statistics), images far from the live generator's.
    run = Run(shutil.copytree(tiny_run.path, tmp_path / "run"))
    path = run.latest_checkpoint()
    ckpt = checkpoint.load(path)
    ema, live = ckpt["state"]["ema"]["weights"], ckpt["state"]["nets"]["G"]
    last = [k for k, v in live.items() if k.endswith(".weight") and v.dim() == 4][-1]
    assert ema[last].shape == live[last].shape and last.startswith("net.")  # the final transposed conv
    ema.update({k: v.clone() for k, v in live.items()})
    ema[last] = live[last] * -4
    checkpoint.save_atomic(ckpt, path)

    # Quality 95: a JPEG error small beside the difference this test looks for.
    report = export_zip(run.path, count=8, out=tmp_path / "images.zip", seed=5, batch_size=8, fp32=True, quality=95)
    model, _ = load_model(run.path)
    assert model.generator() is model.ema.model
    for name, weight in model.generator().named_parameters():
        assert torch.equal(weight, ema[name]), name
    z = latent_vectors(model.cfg.latent_dim, 8, 5)
    with torch.no_grad(), eval_mode(model.nets["G"]) as G:
        from_live = to_export_pixels(G(z)).astype(int)
    from_ema = to_export_pixels(model.generate(z)).astype(int)
    exported = np.stack([np.asarray(Image.open(io.BytesIO(data))) for data in entries(report["path"]).values()])
    exported = exported.astype(int)
    # JPEG moves a pixel by a few levels; the live generator's images are far away.
    assert np.abs(exported - from_ema).mean() < 4
    assert np.abs(exported - from_live).mean() > 10 * np.abs(exported - from_ema).mean()


class Collapsed:
    """A collapsed generator: every image of a batch is the same; a new one per call unless `fully`."""
    cfg = SimpleNamespace(latent_dim=4)
    device = torch.device("cpu")
    meta = {"path": "x", "step": 0, "config": SimpleNamespace(model="dcgan", image_size=8)}

    def __init__(self, fully: bool):
        self.fully, self.calls = fully, 0

    def generate(self, z):
        self.calls += 0 if self.fully else 1
        return torch.full((len(z), 3, 8, 8), self.calls / 100)


def test_repeated_images_are_skipped_then_refused(tiny_run, tmp_path, monkeypatch):
    monkeypatch.setattr(export, "load_model", lambda *a, **k: (Collapsed(fully=False), Collapsed.meta))
    report = export_zip(tiny_run.path, count=3, out=tmp_path / "ok.zip", batch_size=2)
    assert len(set(entries(report["path"]).values())) == 3 and report["validation"]["ok"]
    assert report["warnings"][-1] == "skipped 2 image(s) whose bytes repeated an earlier one"

    monkeypatch.setattr(export, "load_model", lambda *a, **k: (Collapsed(fully=True), Collapsed.meta))
    with pytest.raises(ValueError, match=r"only 1 distinct images could be made for the 2 asked for \(3 repeats\)"):
        export_zip(tiny_run.path, count=2, out=tmp_path / "bad.zip", batch_size=2)
    assert not (tmp_path / "bad.zip").exists() and leftovers(tmp_path) == []


def _cli(*args):
    return subprocess.Popen([sys.executable, "-m", "gan_core", "export", *args], cwd=REPO,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.subprocess
def test_killed_export_leaves_no_zip_and_the_next_one_cleans_up(tiny_run, tmp_path):
    out = tmp_path / "images.zip"
    proc = _cli("--run", str(tiny_run.path), "--count", "10000", "--batch-size", "16", "--out", str(out))
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        partial = [p for p in tmp_path.glob(".images.zip.*.partial") if p.stat().st_size > 100_000]
        if partial:
            break
        time.sleep(0.05)
    assert proc.poll() is None, f"the export ended before it could be killed: {proc.communicate()}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    (left,) = leftovers(tmp_path)  # unique per writer: .images.zip.<pid>.<random>.partial
    assert left.startswith(f".images.zip.{proc.pid}.") and left.endswith(".partial")

    done = _cli("--run", str(tiny_run.path), "--count", "12", "--out", str(out))
    stdout, stderr = done.communicate(timeout=120)
    assert done.returncode == 0, stderr
    lines = stdout.strip().splitlines()
    assert lines[-1] == str(out) and any(line.startswith("valid: 12 entries") for line in lines)
    assert any("minimum of 7,000" in line for line in lines)  # the warning, through the progress printer
    assert len(entries(out)) == 12 and leftovers(tmp_path) == []
