"""A run's address opens it (?run=ID on the Train, Latent explorer and Export pages, written back when
another run is chosen),
and the Train and Runs pages' chart controls (TensorBoard's smoothing, a log scale) and colours,
through studio/app.py in AppTest. The runs are copies of the small finished run of studio_support."""
from __future__ import annotations

import json
import os
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from studio import charts
from studio_support import APP, assert_no_exception, finished_run_root, open_page, point_studio_at, reset_studio, texts

PROBES = {"older": [{"step": 1, "fid": 320.0, "kid_mean": 0.3}, {"step": 3, "fid": 300.0, "kid_mean": 0.25}],
          "newer": [{"step": 2, "fid": 310.0, "kid_mean": 0.28}]}


@pytest.fixture
def two_runs(tmp_path, monkeypatch):
    """runs/older and runs/newer (newest first in the pickers), each with quality probe rows."""
    root = finished_run_root()
    runs = tmp_path / "runs"
    for age, run_id in ((1000, "older"), (0, "newer")):
        shutil.copytree(root / "runs" / "tiny", runs / run_id)
        (runs / run_id / "quality.jsonl").write_text("".join(json.dumps(r) + "\n" for r in PROBES[run_id]))
        config = runs / run_id / "config.json"
        stamp = config.stat().st_mtime - age
        os.utime(config, (stamp, stamp))
    point_studio_at(monkeypatch, runs=runs, data=root / "images", cache=root / "cache")
    yield runs
    reset_studio()


def page_at(query: dict | None = None, page: str = "train") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.switch_page(f"../pages/{page}.py")
    at.query_params.update(query or {})
    at.run()
    assert_no_exception(at)
    return at


def chart_spec(at: AppTest, key: str) -> dict:
    return json.loads(next(c for c in at.get("plotly_chart") if c.key == key).proto.spec)


def test_the_url_opens_a_run_and_follows_the_choice(two_runs):
    at = page_at({"run": "older"})
    assert at.selectbox(key="train_run").value == "older" and "older :green-badge[finished]" in texts(at)
    command = at.code[0].value  # the run's exact settings as a command, to copy
    assert command.startswith("python -m gan_core train --model dcgan") and "--run-id tiny" in command
    at.selectbox(key="train_run").set_value("newer").run()
    assert_no_exception(at)
    assert at.selectbox(key="train_run").value == "newer" and at.query_params["run"] == "newer"
    at.run()  # the URL now says newer: the choice stays
    assert at.selectbox(key="train_run").value == "newer"
    at.query_params["run"] = "older"  # another address in the same tab
    at.run()
    assert at.selectbox(key="train_run").value == "older"


def test_without_a_run_in_the_url_the_newest_is_shown_and_written_to_it(two_runs):
    at = page_at()
    assert at.selectbox(key="train_run").value == "newer" and at.query_params["run"] == "newer"


def test_an_unknown_run_in_the_url_is_said_in_one_line(two_runs):
    at = page_at({"run": "no-such-run"})
    assert [w.value for w in at.warning] == [f"No run `no-such-run` in `{two_runs}`: showing `newer`."]
    assert not at.error and at.selectbox(key="train_run").value == "newer" and at.query_params["run"] == "newer"
    at.run()
    assert not at.warning  # said once; the URL names the run shown


@pytest.mark.parametrize("page,key", [("latent_explorer", "latent_run"), ("export_score", "export_run")])
def test_the_url_opens_a_run_on_the_pages_that_pick_one(two_runs, page, key):
    at = page_at({"run": "older"}, page)
    assert at.selectbox(key=key).value == "older"
    at.selectbox(key=key).set_value("newer").run()
    assert_no_exception(at)
    assert at.query_params["run"] == "newer"


def test_train_page_charts_smooth_and_go_log_scale(two_runs):
    at = page_at({"run": "older"})
    assert at.slider(key="train_smoothing").value == charts.SMOOTHING_DEFAULT
    spec = chart_spec(at, "losses_older")
    shown = [t for t in spec["data"] if t.get("showlegend") is not False]
    assert [t["name"] for t in shown] == ["loss_d", "loss_g"]
    assert len(spec["data"]) == 4  # each smoothed series over its faint raw values
    assert shown[0]["line"]["color"] == charts.series_colour("loss_d")
    lr = chart_spec(at, "lr_older")["layout"]["yaxis"]
    assert lr["range"][0] < 2e-4 < lr["range"][1] and lr["range"] != [-1, 1]
    at.slider(key="train_smoothing").set_value(0.0)
    at.toggle(key="train_log_y").set_value(True).run()
    assert_no_exception(at)
    spec = chart_spec(at, "losses_older")
    assert len(spec["data"]) == 2 and spec["layout"]["yaxis"]["type"] == "log"


def test_runs_page_gives_each_run_one_colour_in_every_chart(two_runs):
    at = open_page("runs")
    assert at.multiselect(key="compare_runs").value == ["newer", "older"]
    assert at.multiselect(key="compare_metrics").value == ["loss_d", "loss_g"]
    metrics = [t for t in chart_spec(at, "compare_chart")["data"] if t.get("showlegend") is not False]
    by_run = {}
    for trace in metrics:
        by_run.setdefault(trace["name"].split(" · ")[0], set()).add(trace["line"]["color"])
    quality = {t["name"]: t["line"]["color"] for t in chart_spec(at, "compare_quality_chart")["data"]
               if t.get("mode") == "lines+markers"}
    assert by_run == {run: {colour} for run, colour in quality.items()} and len(set(quality.values())) == 2
    at.toggle(key="compare_log_y").set_value(True).run()
    assert chart_spec(at, "compare_chart")["layout"]["yaxis"]["type"] == "log"


def test_runs_page_shows_two_runs_samples_side_by_side_at_one_step(two_runs):
    at = open_page("runs")
    assert at.select_slider(key="compare_step").value == 3  # the last step both drew
    at.select_slider(key="compare_step").set_value(1).run()
    assert_no_exception(at)
    captions = [c for image in at.image for c in image.captions]
    assert captions[-2:] == ["newer · step 1", "older · step 1"]
