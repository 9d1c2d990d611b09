"""A run whose own files are damaged is listed as damaged with the reason, every other run still
shows, and resume refuses with a message instead of guessing settings (real damaged files)."""
from __future__ import annotations

import shutil

import pytest

from gan_core.cli import main
from gan_core.runs import list_runs
from studio_support import assert_no_exception, finished_run_root, open_page, reset_studio, texts


@pytest.fixture
def runs_with_damage(tmp_path, monkeypatch):
    root = finished_run_root()
    runs = tmp_path / "runs"
    for name in ("good", "bad-config", "bad-status"):
        shutil.copytree(root / "runs" / "tiny", runs / name)
    (runs / "bad-config" / "config.json").write_text('{"model": "dcgan", "image_si')  # torn write
    (runs / "bad-status" / "status.json").write_bytes(b"\xff\xfe not json")
    for name, value in (("GAN_STUDIO_RUNS", runs), ("GAN_STUDIO_DATA", root / "images"),
                        ("GAN_STUDIO_CACHE", root / "cache")):
        monkeypatch.setenv(name, str(value))
    reset_studio()
    yield runs
    reset_studio()


def test_listing_names_the_damage_and_keeps_the_others(runs_with_damage):
    summaries = {r.id: r.summary() for r in list_runs(runs_with_damage)}
    assert set(summaries) == {"good", "bad-config", "bad-status"}
    assert summaries["good"]["state"] == "finished"
    assert summaries["bad-config"]["state"] == "damaged" and "config.json is damaged" in summaries["bad-config"]["message"]
    assert summaries["bad-status"]["state"] == "damaged" and "status.json is damaged" in summaries["bad-status"]["message"]


def test_runs_command_lists_every_run(runs_with_damage, capsys):
    assert main(["runs", "--runs-dir", str(runs_with_damage)]) == 0
    out = capsys.readouterr().out
    assert "good" in out and "bad-config" in out and "damaged" in out


def test_resume_of_a_damaged_config_refuses_in_one_line(runs_with_damage, capsys, restore_signals):
    code = main(["train", "--resume", "--run-id", "bad-config", "--runs-dir", str(runs_with_damage)])
    assert code == 2
    err = capsys.readouterr().err
    assert "config.json is damaged" in err and "Traceback" not in err


@pytest.mark.parametrize("page", ["home", "runs", "train", "export_score"])
def test_pages_render_beside_damaged_runs(runs_with_damage, page):
    at = open_page(page)
    assert_no_exception(at)
    if page in ("home", "runs"):
        assert "good" in texts(at) or any("good" in str(df.value) for df in at.dataframe)
