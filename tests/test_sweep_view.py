"""The Sweep page's helpers (studio.sweep_view): the form's comma lists and planning, the choice
of sweeps, the caption, the heatmap's columns and figure. No training: planning only writes sweep.json,
and an estimate times a few steps and writes nothing."""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from gan_core.estimate import estimate_runs
from gan_core.sweep import combinations
from studio.estimate_view import describe_sweep
from studio.sweep_view import (heatmap, heatmap_columns, new_sweep, numbers, plan_caption, plan_new_sweep,
                               sweep_choices, sweep_id_or_default)
from studio_support import image_folder


def test_comma_lists_as_numbers():
    assert numbers("32,64,100", int, "batch sizes") == [32, 64, 100]
    assert numbers(" 8 , 16,", int, "batch sizes") == [8, 16]  # spaces and a trailing comma
    assert numbers("1e-4,2e-4", float, "learning rates") == [1e-4, 2e-4]
    assert numbers("", int, "batch sizes") == []
    with pytest.raises(ValueError, match=r"batch sizes: expected comma-separated numbers, got '32;64'"):
        numbers("32;64", int, "batch sizes")
    with pytest.raises(ValueError, match="batch sizes"):
        numbers("1.5", int, "batch sizes")


def test_an_empty_sweep_id_is_dated():
    assert sweep_id_or_default("  mine ") == "mine"
    assert re.fullmatch(r"sweep-\d{8}-\d{6}", sweep_id_or_default("  "))


def form(data, runs, **changes):
    fields = dict(dataset=str(data), model="dcgan", batch_sizes="8, 16", lrs="2e-4", image_size=32, epochs=1,
                  steps=1, kid_samples=4, sweep_id="s", device="cpu", runs=runs)
    return {**fields, **changes}


def test_planning_a_sweep_from_the_form_writes_its_plan(tmp_path):
    data, runs = image_folder(tmp_path / "images", count=4), tmp_path / "runs"
    sweep = plan_new_sweep(**form(data, runs))
    assert (sweep.batch_sizes, sweep.lrs, sweep.sweep_id, sweep.kid_samples) == ([8, 16], [2e-4], "s", 4)
    assert sweep.cfg.model == "dcgan" and sweep.cfg.steps == 1 and sweep.cfg.runs_dir == str(runs)
    plan = json.loads((runs / "s" / "sweep.json").read_text())
    assert plan["batch_sizes"] == [8, 16] and plan["runs"] == ["s-bs8-lr0.0002", "s-bs16-lr0.0002"]
    with pytest.raises(ValueError, match="s already exists: choose another sweep id"):
        plan_new_sweep(**form(data, runs))


@pytest.mark.parametrize("changes, message", [
    (dict(lrs="fast"), "learning rates: expected comma-separated numbers"),
    (dict(batch_sizes=""), "at least one batch size"),
    (dict(model="cyclegan"), "cyclegan"),
])
def test_a_bad_form_says_why_and_writes_nothing(tmp_path, changes, message):
    data, runs = image_folder(tmp_path / "images", count=4), tmp_path / "runs"
    with pytest.raises(ValueError, match=message):
        plan_new_sweep(**form(data, runs, **changes))
    assert not (runs / "s" / "sweep.json").exists()


def test_usable_sweeps_are_offered_first():
    assert sweep_choices(["a", "b", "c", "d"], {"a": "torn", "c": "torn"}) == ["b", "d", "a", "c"]


def test_plan_caption():
    plan = {"batch_sizes": [8, 16], "lrs": [0.0002], "kid_samples": 10, "runs": ["x", "y"],
            "base_config": {"model": "dcgan", "image_size": 32, "steps": 0, "epochs": 3}}
    assert plan_caption(plan, 1) == ("dcgan at 32 px, 3 epochs per run · batch sizes [8, 16] × learning rates "
                                     "[0.0002] · KID on 10 samples · 1 of 2 combinations done")
    plan["base_config"]["steps"] = 50
    assert "50 steps per run" in plan_caption(plan, 2)


def test_heatmap_of_a_numeric_column_kid_mean_first():
    table = pd.DataFrame({"run": ["a", "b", "c"], "batch_size": [8, 16, 8], "lr": [1e-4, 1e-4, 2e-4],
                          "state": ["finished"] * 3, "loss_g_final": [1.0, 2.0, 3.0], "kid_mean": [0.3, 0.2, 0.1]})
    assert heatmap_columns(table) == (["loss_g_final", "kid_mean"], 1)
    assert heatmap_columns(table.drop(columns="kid_mean")) == (["loss_g_final"], 0)
    fig = heatmap(table, "kid_mean")
    assert fig.layout.title.text == "kid_mean by batch size and learning rate"
    assert list(fig.data[0].x) == ["0.0001", "0.0002"] and list(fig.data[0].y) == ["8", "16"]
    assert fig.data[0].z[1][0] == 0.2 and fig.data[0].z[1][1] != fig.data[0].z[1][1]  # 16 x 2e-4 never ran


def test_estimating_a_sweep_times_each_batch_size_once_and_writes_nothing(tmp_path):
    data, runs = image_folder(tmp_path / "images", count=24), tmp_path / "runs"
    sweep = new_sweep(**form(data, runs, lrs="1e-4, 2e-4", steps=0, epochs=2))
    events = []
    estimates = estimate_runs(combinations(sweep.cfg, sweep.batch_sizes, sweep.lrs, sweep.sweep_id),
                              timed_steps=1, callbacks=[events.append])
    assert [(e.batch_size, e.total_steps) for e in estimates] == [(8, 6), (8, 6), (16, 2), (16, 2)]
    assert estimates[0] is estimates[1] and estimates[2] is estimates[3]  # a learning rate changes no work
    timings_started = [e for e in events if e.kind == "progress" and e.data == {"task": "timing a step", "done": 0,
                                                                                "total": 2}]
    assert len(timings_started) == 2
    assert not runs.exists()
    said = describe_sweep(estimates)
    assert said.startswith("**4 runs, 16 steps** in all. Measured on cpu: batch 8:") and "batch 16:" in said
