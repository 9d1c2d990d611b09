"""A run whose own files are damaged is listed as damaged with the reason, every other run still
shows, and resume refuses with a message instead of guessing settings (real damaged files). The
same for the other files of the runs folder: metrics.jsonl lines (a torn last line from a kill is
no damage; damaged lines are skipped and counted), sweep.json and a comparison's report.json."""
from __future__ import annotations

import json
import shutil

import pytest

from gan_core.cli import main
from gan_core.config import TrainConfig
from gan_core.runs import list_runs, read_jsonl_checked, truncate_jsonl
from studio_support import assert_no_exception, finished_run_root, open_page, point_studio_at, reset_studio, texts

RUNS = ("good", "bad-config", "bad-status", "torn-metrics", "bad-metrics", "typed-config")


def sweep_plan(sweep_id: str) -> dict:
    base = {k: v for k, v in TrainConfig(steps=2).to_dict().items() if k not in ("batch_size", "lr_g", "lr_d", "run_id")}
    return {"sweep_id": sweep_id, "batch_sizes": [4], "lrs": [1e-4], "kid_samples": 4,
            "runs": [f"{sweep_id}-bs4-lr0.0001"], "base_config": base}


def write_extras(runs):
    """A good sweep, one with a torn sweep.json and one with a damaged sweep.csv; a good and a
    damaged comparison report."""
    for name, text in (("good-sweep", json.dumps(sweep_plan("good-sweep"))),
                       ("bad-sweep", '{"sweep_id": "bad-sweep", "batch_si'),  # torn
                       ("bad-table", json.dumps(sweep_plan("bad-table")))):
        (runs / name).mkdir()
        (runs / name / "sweep.json").write_text(text)
    (runs / "bad-table" / "sweep.csv").write_bytes(b"\xff\xfe\x00garbage\n")
    report = {"created": 0, "settings": {}, "kid_samples": 4, "runs": {}, "gifs": {}, "grids": {},
              "table": [{"model": "mlp", "state": "finished", "steps": 1, "kid_mean": 0.5}]}
    for name, text in (("good-report", json.dumps(report)), ("bad-report", json.dumps({**report, "table": 7}))):
        (runs / name).mkdir()
        (runs / name / "report.json").write_text(text)


@pytest.fixture
def runs_with_damage(tmp_path, monkeypatch):
    root = finished_run_root()
    runs = tmp_path / "runs"
    for name in RUNS:
        shutil.copytree(root / "runs" / "tiny", runs / name)
    (runs / "bad-config" / "config.json").write_text('{"model": "dcgan", "image_si')  # torn write
    (runs / "bad-status" / "status.json").write_bytes(b"\xff\xfe not json")
    config = json.loads((runs / "typed-config" / "config.json").read_text())
    (runs / "typed-config" / "config.json").write_text(json.dumps({**config, "image_size": "big"}))
    with open(runs / "torn-metrics" / "metrics.jsonl", "a") as f:  # killed in the middle of a row
        f.write('{"step": 4, "epoch": 1, "loss_d": 1.')
    lines = (runs / "bad-metrics" / "metrics.jsonl").read_bytes().splitlines(keepends=True)
    (runs / "bad-metrics" / "metrics.jsonl").write_bytes(lines[0] + b'{"step": 2, "lo\n' + b"\xff\xfe\x00\n"
                                                         + b"".join(lines[1:]))
    write_extras(runs)
    point_studio_at(monkeypatch, runs=runs, data=root / "images", cache=root / "cache")
    yield runs
    reset_studio()


def test_listing_names_the_damage_and_keeps_the_others(runs_with_damage):
    summaries = {r.id: r.summary() for r in list_runs(runs_with_damage)}
    assert set(summaries) == set(RUNS)
    assert summaries["good"]["state"] == "finished"
    assert summaries["bad-config"]["state"] == "damaged" and "config.json is damaged" in summaries["bad-config"]["message"]
    assert summaries["bad-status"]["state"] == "damaged" and "status.json is damaged" in summaries["bad-status"]["message"]


def test_damaged_records_are_named_a_torn_last_line_is_no_damage(runs_with_damage):
    summaries = {r.id: r.summary() for r in list_runs(runs_with_damage)}
    assert summaries["typed-config"]["state"] == "damaged"
    assert "config.json is damaged (image_size='big': expected a whole number)" in summaries["typed-config"]["message"]
    torn = summaries["torn-metrics"]
    assert torn["state"] == "finished" and torn["step"] == 3 and "metrics.jsonl" not in torn["message"]
    damaged = summaries["bad-metrics"]
    assert damaged["state"] == "finished" and damaged["step"] == 3  # the rows after the bad lines still count
    assert "metrics.jsonl: 2 unreadable line(s) skipped" in damaged["message"]


def test_damaged_lines_are_skipped_not_the_rows_after_them(runs_with_damage):
    path = runs_with_damage / "bad-metrics" / "metrics.jsonl"
    contents = read_jsonl_checked(path)
    assert [r["step"] for r in contents.rows] == [1, 2, 3] and contents.skipped == 2
    truncate_jsonl(path, 2)  # what a resume from step 2 does: the later row goes, the earlier ones stay
    assert [r["step"] for r in read_jsonl_checked(path).rows] == [1, 2]
    torn = read_jsonl_checked(runs_with_damage / "torn-metrics" / "metrics.jsonl")
    assert [r["step"] for r in torn.rows] == [1, 2, 3] and torn.skipped == 0


def test_runs_command_lists_every_run(runs_with_damage, capsys):
    assert main(["runs", "--runs-dir", str(runs_with_damage)]) == 0
    out = capsys.readouterr().out
    assert "good" in out and "bad-config" in out and "damaged" in out
    assert "    config.json is damaged (JSONDecodeError" in out  # the reason, under its run's row
    assert "    metrics.jsonl: 2 unreadable line(s) skipped" in out
    assert f"sweep good-sweep: {runs_with_damage / 'good-sweep'}" in out
    assert "sweep bad-sweep: damaged: sweep.json is damaged (JSONDecodeError" in out
    assert "sweep bad-table: damaged: sweep.csv is damaged (UnicodeDecodeError" in out
    assert f"comparison good-report: {runs_with_damage / 'good-report'}" in out
    assert "comparison bad-report: damaged: report.json is damaged (missing or malformed: table)" in out


def test_resume_of_a_damaged_config_refuses_in_one_line(runs_with_damage, capsys, restore_signals):
    code = main(["train", "--resume", "--run-id", "bad-config", "--runs-dir", str(runs_with_damage)])
    assert code == 2
    err = capsys.readouterr().err
    assert "config.json is damaged" in err and "Traceback" not in err


@pytest.mark.parametrize("page", ["home", "runs", "train", "export_score", "sweep"])
def test_pages_render_beside_damaged_runs(runs_with_damage, page):
    at = open_page(page)
    assert_no_exception(at)
    tables = "\n".join(str(df.value.to_dict()) for df in at.dataframe)
    if page in ("home", "runs"):
        assert "good" in texts(at) or "good" in tables
        assert "config.json is damaged" in tables and "metrics.jsonl: 2 unreadable line(s) skipped" in tables
    if page == "runs":  # the damaged sweep and report with their reasons, beside the good ones
        assert "sweep.json is damaged (JSONDecodeError" in texts(at) and "sweep.csv is damaged" in texts(at)
        assert "report.json is damaged (missing or malformed: table)" in texts(at)
        assert "mlp" in tables and any("Sweep good-sweep" == e.label for e in at.expander)
    if page == "sweep":
        assert "Sweep `bad-sweep` is damaged: sweep.json is damaged (JSONDecodeError" in texts(at)
        assert "Sweep `bad-table` is damaged: sweep.csv is damaged (UnicodeDecodeError" in texts(at)
        chooser = next(s for s in at.selectbox if s.label == "Sweep")
        assert chooser.value == "good-sweep" and all("(damaged)" in o for o in chooser.options[-2:])
        assert "No combination has finished yet." in texts(at)
        for damaged, reason in (("bad-sweep", "cannot be used: sweep.json is damaged"),
                                ("bad-table", "sweep.csv is damaged (UnicodeDecodeError")):
            chooser = next(s for s in at.selectbox if s.label == "Sweep")
            chooser.set_value(damaged).run()
            assert_no_exception(at)
            assert reason in "\n".join(e.value for e in at.error)
