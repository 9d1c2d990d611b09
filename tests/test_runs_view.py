"""The scores table both pages show: readable times, the zip scored, the estimate flag, no raw
fields (JSON lists, epoch seconds, None)."""
from __future__ import annotations

import json
import time

from gan_core.runs import create_run
from studio.runs_view import scores_frame, scores_table

ROW = {"time": 1_796_140_000.0, "fid": 103.6, "kid_mean": 0.0296, "kid_std": 0.002, "mifid": 103.6,
       "memorisation_distance": 0.31, "memorisation": [{"generated": "a.jpg", "reference": "b.jpg"}],
       "images": "/runs/r/exports/images.zip", "n_generated": 1000, "estimate": True, "skipped": {"images": []}}


def test_scores_read_as_people_read_them():
    table = scores_table([ROW, {**ROW, "fid": 90.0, "estimate": False, "n_generated": 7000, "step": 500}])
    assert list(table.columns) == ["time", "FID", "KID", "KID std", "MiFID", "memorisation d", "step", "zip", "scored"]
    assert table["FID"].tolist() == [90.0, 103.6], "newest first"
    assert table["scored"].tolist() == ["7,000 images", "estimate: 1,000 images"]
    assert table["time"][0] == time.strftime("%Y-%m-%d %H:%M", time.localtime(ROW["time"]))
    assert table["zip"][0] == "images.zip" and table["step"].tolist() == [500, ""]
    assert "None" not in table.astype(str).to_string()


def test_the_runs_page_table_names_each_run(tmp_path):
    for run_id, fid in (("a", 120.0), ("b", 100.0)):
        run = create_run(tmp_path, run_id)
        (run.path / "scores.jsonl").write_text(json.dumps({**ROW, "fid": fid}) + "\n")
    empty = create_run(tmp_path, "unscored")
    frame = scores_frame([create_run(tmp_path, "a"), create_run(tmp_path, "b"), empty])
    assert frame["run"].tolist() == ["a", "b"] and frame["FID"].tolist() == [120.0, 100.0]
    assert scores_frame([empty]).empty


def test_common_sample_steps_are_those_every_run_drew(tmp_path):
    from studio.runs_view import common_sample_steps

    runs = [create_run(tmp_path, name) for name in ("a", "b")]
    for run, steps in zip(runs, ([100, 200, 300], [200, 300, 400])):
        for step in steps:
            (run.samples_dir / f"step_{step:06d}.png").write_bytes(b"")
    assert common_sample_steps(runs) == [200, 300] and common_sample_steps([]) == []
