"""No traceback for a user error or a damaged file: every command, given bad input (real damaged
files), exits with code 2 and one line naming the file or value and what to do; --debug (before or
after the command) re-raises to show the traceback; a genuine bug still shows its traceback."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest
import torch

from gan_core.cli import main
from studio_support import REPO, finished_run_root


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    """A good run, damaged copies of it, and damaged inputs, each a real file."""
    root, tmp = finished_run_root(), tmp_path_factory.mktemp("bad")
    runs = tmp / "runs"
    shutil.copytree(root / "runs" / "tiny", runs / "good")
    shutil.copytree(root / "runs" / "tiny", runs / "typed")
    config = json.loads((runs / "typed" / "config.json").read_text())
    (runs / "typed" / "config.json").write_text(json.dumps({**config, "batch_size": "many"}))
    good_pt = sorted((runs / "good" / "checkpoints").glob("step_*.pt"))[-1]
    (tmp / "truncated.pt").write_bytes(good_pt.read_bytes()[:600])   # a copy cut short
    (tmp / "garbage.pt").write_bytes(os.urandom(3000))
    torch.save({"weights": torch.zeros(2)}, tmp / "foreign.pt")        # loads, but no gan_core checkpoint
    (tmp / "random.zip").write_bytes(os.urandom(2000))
    shutil.copy(next((root / "images").glob("*.png")), tmp / "photo.zip")  # an image renamed .zip
    (tmp / "empty").mkdir()
    (tmp / "text").mkdir()
    (tmp / "text" / "notes.txt").write_text("no images here")
    with zipfile.ZipFile(tmp / "text.zip", "w") as archive:
        archive.writestr("notes.txt", "no images here")
    (tmp / "a-file").write_text("a file where a folder should be")
    (tmp / "sweeps" / "sw").mkdir(parents=True)
    (tmp / "sweeps" / "sw" / "sweep.json").write_text('{"sweep_id": "sw", "batch_si')  # torn
    return {"tmp": tmp, "runs": runs, "images": root / "images", "good": runs / "good"}


def fails(capsys, argv, *expected) -> str:
    """main(argv) exits 2 with one `error:` line holding every expected text, and no traceback."""
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, err
    for text in expected:
        assert str(text) in errors[0], errors[0]
    return errors[0]


def test_bad_data_paths(bad, capsys, restore_signals, tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(tmp_path / "cache"))
    t = bad["tmp"]
    train = ["train", "--runs-dir", tmp_path / "runs", "--run-id", "x", "--steps", "1", "--device", "cpu"]
    fails(capsys, train + ["--data", t / "nope"], t / "nope", "does not exist")
    fails(capsys, train + ["--data", t / "empty"], f"no images found in {t / 'empty'}")
    fails(capsys, train + ["--data", t / "text"], f"no images found in {t / 'text'}")
    fails(capsys, train + ["--data", t / "random.zip"], f"cannot read zip archive {t / 'random.zip'}", "again")
    fails(capsys, ["inspect", t / "photo.zip"], f"cannot read zip archive {t / 'photo.zip'}")
    fails(capsys, ["inspect", t / "text.zip"], f"no images found in {t / 'text.zip'}")
    assert not (tmp_path / "runs" / "x").exists()


def test_bad_runs_and_checkpoints(bad, capsys, restore_signals, tmp_path):
    t, good, out = bad["tmp"], bad["good"], tmp_path / "grid.png"
    fails(capsys, ["sample", "--run", t / "nope", "--out", out], f"no run at {t / 'nope'}", "gan_core runs")
    fails(capsys, ["export", "--run", t / "nope", "--out", tmp_path / "o.zip"], f"no run at {t / 'nope'}")
    fails(capsys, ["translate", "--run", t / "nope", "--input", bad["images"], "--out", tmp_path / "t"],
          f"no run at {t / 'nope'}")
    for name in ("truncated.pt", "garbage.pt"):
        line = fails(capsys, ["sample", "--run", good, "--checkpoint", t / name, "--out", out],
                     f"checkpoint {t / name} could not be loaded", "truncated")
        assert "weights_only" not in line  # torch's own paragraph of advice is cut to its first sentence
    fails(capsys, ["sample", "--run", good, "--checkpoint", t / "foreign.pt", "--out", out],
          f"checkpoint {t / 'foreign.pt'} is not a gan_core training checkpoint", "checkpoints/ folder")
    fails(capsys, ["export", "--run", good, "--checkpoint", t / "garbage.pt", "--out", tmp_path / "o.zip",
                   "--count", "2", "--device", "cpu"], f"checkpoint {t / 'garbage.pt'} could not be loaded")
    fails(capsys, ["train", "--resume", "--run-id", "typed", "--runs-dir", bad["runs"]],
          "config.json is damaged (batch_size='many': expected a whole number)", "restore config.json")
    fails(capsys, ["train", "--fork", "typed", "--run-id", "child", "--runs-dir", bad["runs"]],
          "config.json is damaged (batch_size='many'")
    fails(capsys, ["runs", "--runs-dir", t / "a-file"], f"runs folder {t / 'a-file'} is a file, not a folder")
    assert not out.exists() and not (bad["runs"] / "child").exists()


def test_unwritable_outputs(bad, capsys, restore_signals):
    t, good = bad["tmp"], bad["good"]
    fails(capsys, ["export", "--run", good, "--out", t / "a-file" / "images.zip", "--count", "2", "--device", "cpu"],
          f"{t / 'a-file'}: is a file where a folder is needed: choose another path")
    fails(capsys, ["sample", "--run", good, "--out", t / "empty"], f"{t / 'empty'}: is a folder: give a file path")
    assert [p.name for p in t.iterdir() if p.name.startswith(".")] == []  # no temporary left behind


def test_a_folder_without_write_permission(bad, capsys, restore_signals):
    locked = bad["tmp"] / "locked"
    locked.mkdir(exist_ok=True)
    locked.chmod(0o555)
    try:
        target = locked / "grid.png"
        if os.access(locked, os.W_OK):  # root writes anyway: sysfs refuses even root
            target = "/sys/grid.png"
            if not os.path.isdir("/sys"):
                pytest.skip("no folder this user cannot write into")
        line = fails(capsys, ["sample", "--run", bad["good"], "--out", target], f"{target}: ")
        assert line.endswith("choose another path") and ("permission" in line or "read-only" in line), line
    finally:
        locked.chmod(0o755)


def test_scoring_inputs(bad, capsys, restore_signals, monkeypatch):
    t, images = bad["tmp"], bad["images"]
    fails(capsys, ["evaluate", "--images", t / "random.zip", "--reference", images, "--device", "cpu"],
          f"images path {t / 'random.zip'} is not a readable zip archive")
    fails(capsys, ["evaluate", "--images", images, "--reference", t / "nope", "--device", "cpu"],
          f"reference path {t / 'nope'} does not exist")
    fails(capsys, ["evaluate", "--images", images, "--reference", t / "empty", "--device", "cpu"],
          f"reference path {t / 'empty'} holds 0 image(s)")
    monkeypatch.setenv("GAN_STUDIO_DATA", str(t / "nope"))
    fails(capsys, ["evaluate", "--images", images, "--device", "cpu"], "no scoring reference",
          str(t / "nope" / "monet_jpg"), "give --reference")


def test_invalid_values_and_sweeps(bad, capsys, restore_signals, tmp_path):
    t, good = bad["tmp"], bad["good"]
    fails(capsys, ["train", "--data", bad["images"], "--lr-g", "-1", "--runs-dir", tmp_path], "lr_g=-1.0")
    fails(capsys, ["export", "--run", good, "--count", "0"], "count 0: choose 1 to 10,000")
    fails(capsys, ["sample", "--run", good, "--count", "0", "--out", tmp_path / "g.png"], "--count 0")
    fails(capsys, ["sweep", "--data", bad["images"], "--batch-sizes", "4", "--lrs", "1e-4", "--runs-dir",
                   t / "sweeps", "--sweep-id", "sw", "--steps", "1"], f"sweep {t / 'sweeps' / 'sw'} cannot be used",
          "sweep.json is damaged (JSONDecodeError", "restore sweep.json")
    with pytest.raises(SystemExit) as exit_info:  # argparse's own check: usage and one line, code 2
        main(["train", "--device", "tpu"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "invalid choice: 'tpu'" in err and "Traceback" not in err


def test_debug_re_raises_and_bugs_keep_their_traceback(bad, capsys, restore_signals, monkeypatch):
    t = bad["tmp"]
    for argv in (["--debug", "inspect", t / "random.zip"], ["inspect", t / "random.zip", "--debug"]):
        with pytest.raises(ValueError, match="cannot read zip archive"):
            main([str(a) for a in argv])
    with pytest.raises(IsADirectoryError):
        main(["sample", "--run", str(bad["good"]), "--out", str(t / "empty"), "--debug"])

    import gan_core.cli.runs

    def bug(args):
        return {}["missing"]
    monkeypatch.setattr(gan_core.cli.runs, "run", bug)
    with pytest.raises(KeyError):  # not a user error: no one-line message hides it
        main(["runs"])


@pytest.mark.subprocess
def test_a_real_process_exits_2_without_traceback_and_debug_shows_it(bad):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    command = [sys.executable, "-m", "gan_core", "inspect", str(bad["tmp"] / "photo.zip")]
    plain = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    assert plain.stderr.strip() == (f"error: cannot read zip archive {bad['tmp'] / 'photo.zip'}: File is not a zip "
                                    f"file; it may be truncated (an interrupted download or copy) or not a zip at "
                                    f"all: download or create it again")
    debug = subprocess.run(command[:3] + ["--debug"] + command[3:], cwd=REPO, env=env, capture_output=True,
                           text=True, timeout=120)
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr
    assert "CorruptDatasetError: cannot read zip archive" in debug.stderr
