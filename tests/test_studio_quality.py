"""The quality probe in the studio (AppTest through studio/app.py): the Train page's Quality chart
with the best step marked and the collapse warnings, the probe FID in the Home and Runs tables and
the Runs comparison, best first in the checkpoint pickers, and "Fork from this checkpoint" filling
the New run form. The runs are real ones (an MLP GAN trained here on MNIST); their probe rows and
best checkpoint are written by the test, so no Inception network runs."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from gan_core.config import build_config
from gan_core.fork import fork_values
from gan_core.runs import Run
from gan_core.trainer import train
from studio.fork_view import FORK_KEY
from studio.quality_view import NO_PROBE, collapse_warnings
from studio.runs_view import config_table, differing_rows
from studio_support import assert_no_exception, open_page, reset_studio, texts, widget

STEPS = 4
PROBES = [  # step 2 is the best (kept as best.pt); step 4 healthy but worse
    {"step": 2, "fid": 310.5, "kid_mean": 0.291, "kid_std": 0.012, "n": 64, "seconds": 3.2, "diversity": 0.93,
     "input_distance": None, "time": 1.0},
    {"step": 4, "fid": 325.25, "kid_mean": 0.305, "kid_std": 0.011, "n": 64, "seconds": 3.1, "diversity": 0.88,
     "input_distance": None, "time": 2.0},
]


def write_probes(run: Run, rows: list[dict], best: dict | None) -> None:
    run.quality_path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    if best is not None:
        shutil.copy2(run.checkpoints_dir / f"step_{best['step']:06d}.pt", run.best_path)
        (run.checkpoints_dir / "best.json").write_text(json.dumps(best))


@pytest.fixture(scope="module")
def probe_runs(tmp_path_factory, mnist_raw) -> Path:
    """runs/probe: 4 MLP steps on MNIST at 28 px with two probes and best.pt (step 2); copies of it:
    collapsed (its last probe's diversity 0.05), plain (no probe at all) and failed (status failed);
    and child, a real 2-step fork of probe's best checkpoint, with probes at its steps 1 and 2."""
    root = tmp_path_factory.mktemp("quality")
    runs = root / "runs"
    common = dict(batch_size=16, sample_every=2, checkpoint_every=2, num_samples=16, device="cpu",
                  runs_dir=str(runs))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GAN_STUDIO_CACHE", str(root / "cache"))
        train(build_config(dict(common, data=str(mnist_raw), model="mlp", image_size=28, mlp_hidden=64, latent_dim=16,
                                steps=STEPS, lr_g=3e-4, lr_d=1e-4, run_id="probe")))
        probe = Run(runs / "probe")
        for name in ("collapsed", "plain", "failed"):
            shutil.copytree(probe.path, runs / name)
        write_probes(probe, PROBES, PROBES[0])
        write_probes(Run(runs / "collapsed"), [PROBES[0], {**PROBES[1], "diversity": 0.05}], PROBES[0])
        write_probes(Run(runs / "failed"), PROBES[:1], PROBES[0])
        Run(runs / "failed").set_status("failed", "loss_d is NaN at step 4: fork with lower learning rates")
        spec = f"{probe.path}:best"
        train(build_config({**fork_values(spec), **common, "steps": 2, "lr_g": 1e-4, "run_id": "child"}))
    child_rows = [{**PROBES[0], "step": 1, "fid": 305.0}, {**PROBES[1], "step": 2, "fid": 301.0}]
    write_probes(Run(runs / "child"), child_rows, child_rows[1])
    return root


@pytest.fixture
def studio(probe_runs, monkeypatch, mnist_raw):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(probe_runs / "runs"))
    monkeypatch.setenv("GAN_STUDIO_DATA", str(mnist_raw))
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(probe_runs / "cache"))
    reset_studio()
    yield probe_runs / "runs"
    reset_studio()


def train_page(run_id: str):
    at = open_page("train")
    at.selectbox(key="train_run").set_value(run_id).run()
    assert_no_exception(at)
    return at


def chart_keys(at) -> set[str]:
    return {chart.key for chart in at.get("plotly_chart")}


def chart_spec(at, key: str) -> dict:
    return json.loads(next(c for c in at.get("plotly_chart") if c.key == key).proto.spec)


def test_train_page_shows_the_quality_chart_with_the_best_step(studio):
    at = train_page("probe")
    assert {"losses_probe", "quality_probe"} <= chart_keys(at)
    spec = chart_spec(at, "quality_probe")
    names = [trace.get("name") for trace in spec["data"]]
    assert names == ["FID", "KID × 1000", "best FID 310.5 at step 2"]
    assert spec["data"][1]["yaxis"] == "y2"  # KID on its own axis
    assert (spec["data"][2]["x"], spec["data"][2]["y"]) == ([2], [310.5])  # the star on the best probe
    assert [a["text"] for a in spec["layout"]["annotations"]] == ["best FID 310.5 at step 2"]
    said = texts(at)
    assert "best FID 310.5 at step 2** (kept as checkpoints/best.pt)" in said
    assert "Last probe, step 4: FID 325.2" in said and "diversity 0.88" in said
    assert "input distance" not in said  # a noise model: no input photo
    assert not at.warning


def test_a_collapsed_probe_is_warned_about(studio):
    at = train_page("collapsed")
    expected = collapse_warnings(Run(studio / "collapsed").quality())
    assert expected, "diversity 0.05 should be called a collapse"
    assert [w.value for w in at.warning] == expected
    assert "diversity 0.05" in texts(at)


def test_a_run_without_a_probe_says_how_to_get_one(studio):
    at = train_page("plain")
    assert NO_PROBE in texts(at)
    assert "quality_plain" not in chart_keys(at) and "losses_plain" in chart_keys(at)


def test_runs_and_home_tables_show_the_best_probe_fid(studio):
    at = open_page("runs")
    table = at.dataframe[0].value.set_index("run")
    assert table.loc["probe", "probe_fid"] == 310.5 and table.loc["probe", "probe_step"] == 2
    assert table.loc["plain", "probe_fid"] != table.loc["plain", "probe_fid"]  # NaN: no probe

    at.multiselect(key="compare_runs").set_value(["probe", "collapsed", "plain"]).run()
    assert_no_exception(at)
    spec = chart_spec(at, "compare_quality_chart")
    curves = [t for t in spec["data"] if t.get("mode") == "lines+markers"]
    assert [t["name"] for t in curves] == ["probe", "collapsed"]
    assert len({t["line"]["color"] for t in curves}) == 2  # one colour per run
    probes = next(d.value for d in at.dataframe if "best_step" in d.value.columns).set_index("run")
    assert probes.loc["probe", "best_fid"] == 310.5 and probes.loc["probe", "best_step"] == 2
    assert probes.loc["collapsed", "diversity"] == 0.05
    assert "No quality probe in plain." in texts(at)

    # A fork's curve continues from its parent's checkpoint step (2) unless that is turned off.
    at.multiselect(key="compare_runs").set_value(["probe", "child"]).run()
    assert_no_exception(at)
    curves = {t["name"]: t for t in chart_spec(at, "compare_quality_chart")["data"] if t.get("mode") == "lines+markers"}
    assert curves["child"]["x"] == [3, 4]
    probes = next(d.value for d in at.dataframe if "best_step" in d.value.columns).set_index("run")
    assert probes.loc["child", "fork_of"] == "probe @ step 2" and probes.loc["child", "best_step"] == 2
    at.toggle(key="compare_quality_fork_steps").set_value(False).run()
    curves = {t["name"]: t for t in chart_spec(at, "compare_quality_chart")["data"] if t.get("mode") == "lines+markers"}
    assert curves["child"]["x"] == [1, 2]

    home = open_page("home")
    table = home.dataframe[-1].value.set_index("run")
    assert table.loc["probe", "probe_fid"] == 310.5 and table.loc["probe", "probe_step"] == 2


def test_a_forks_origin_is_a_setting_that_differs(studio):
    table = config_table([Run(studio / "probe"), Run(studio / "child")])
    differs = table[differing_rows(table)]
    assert differs.loc["fork_of", "child"] == "probe @ step 2 (best.pt)" and differs.loc["fork_of", "probe"] == "–"
    assert differs.loc["lr_g", "child"] == "0.0001" and "fork" in differs.index


def test_checkpoint_pickers_offer_best_first(studio):
    at = open_page("export_score")
    at.selectbox(key="export_run").set_value("probe").run()
    assert_no_exception(at)
    picker = at.selectbox(key="export_checkpoint")
    assert picker.options == ["best (step 2, FID 310.5)", "latest (step 4)", "step_000004.pt", "step_000002.pt"]
    assert picker.value == "best"
    picker.set_value("latest").run()
    assert_no_exception(at)

    at = open_page("latent_explorer")
    at.selectbox(key="latent_run").set_value("probe").run()
    assert_no_exception(at)
    assert at.selectbox(key="latent_checkpoint").value == "best"
    assert "`probe` · mlp · step 2" in texts(at)  # best.pt (step 2) is what the explorer loaded

    at = open_page("export_score")
    at.selectbox(key="export_run").set_value("plain").run()
    assert at.selectbox(key="export_checkpoint").options[0] == "latest (step 4)"


def test_a_failed_run_suggests_a_fork(studio):
    at = train_page("failed")
    said = texts(at)
    assert "loss_d is NaN at step 4" in said
    assert "Fork this run from its best (or latest) checkpoint with lower learning rates: Train page → Fork" in said
    assert at.selectbox(key="fork_checkpoint_failed").value == "best"


def test_fork_button_fills_the_new_run_form(studio):
    at = train_page("probe")
    assert at.selectbox(key="fork_checkpoint_probe").value == "best"
    at.selectbox(key="fork_checkpoint_probe").set_value("latest").run()
    at.button(key="fork_probe").click().run()
    assert_no_exception(at)
    fork = at.session_state[FORK_KEY]
    assert fork["spec"] == f"{studio / 'probe'}:latest" and fork["parent"] == "probe"
    assert "Fork of `probe`" in texts(at) and "latest (step 4)" in texts(at)
    assert widget(at.text_input, "run_id").value == "probe-fork"
    assert widget(at.number_input, "lr_g").value == pytest.approx(3e-4)
    assert widget(at.number_input, "lr_d").value == pytest.approx(1e-4)
    assert widget(at.number_input, "mlp_hidden").value == 64 and widget(at.number_input, "mlp_hidden").disabled
    assert widget(at.number_input, "image_size").disabled and not widget(at.number_input, "lr_g").disabled
    assert widget(at.text_input, "data").value == Run(studio / "probe").config()["data"]
    assert widget(at.text_input, "fork").value == fork["spec"]

    widget(at.button, "Cancel fork").click().run()
    assert FORK_KEY not in at.session_state
    assert widget(at.text_input, "run_id").value == ""  # a new run's defaults again


def test_launching_the_fork_makes_a_new_run_from_the_checkpoint(studio):
    at = train_page("probe")
    at.button(key="fork_probe").click().run()
    widget(at.number_input, "lr_g").set_value(1e-4)
    widget(at.number_input, "steps").set_value(2)
    widget(at.text_input, "run_id").set_value("probe-fork-test")
    widget(at.button, "Launch training").click().run()
    assert_no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert FORK_KEY not in at.session_state
    child = Run(studio / "probe-fork-test")
    try:
        deadline = time.time() + 60
        while child.status().get("state") not in ("finished", "failed"):
            assert time.time() < deadline, "the fork did not finish"
            time.sleep(0.5)
        assert child.status()["state"] == "finished", child.status()
        config = child.config()
        assert config["lr_g"] == pytest.approx(1e-4)
        assert config["fork_of"]["run"].endswith("probe") and "best" in str(config["fork_of"]["checkpoint"])
        assert config["fork_of"]["step"] == 2
        assert [r["step"] for r in child.metrics()] == [1, 2]  # a fork counts its steps from 0
    finally:
        reset_studio()
        shutil.rmtree(child.path, ignore_errors=True)
