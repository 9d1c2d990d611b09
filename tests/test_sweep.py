"""Sweeps on the real Monet paintings: a 2x1 grid stopped in its second run and started again, its
table and plan, the command line, and the Sweep page (AppTest): without sweeps, with the finished
sweep, and launching one in the background."""
import math

import pytest
from streamlit.testing.v1 import AppTest

from gan_core.cli import build_parser, main
from gan_core.config import build_config
from gan_core.events import Control
from gan_core.runs import Run, list_runs
from gan_core.runs import load_sweep
from gan_core.sweep import DEFAULT_KID_SAMPLES, plan_sweep, read_plan, run_sweep
from studio_support import REPO, assert_no_exception, reset_studio, texts, widget

# Inception on the CPU takes seconds an image on busy cores: a few images say KID is computed.
KID_SAMPLES = 10
GRID = dict(batch_sizes=[8, 16], lrs=[2e-4])


def base_config(data, runs_dir):
    return build_config(dict(data=str(data), model="dcgan", image_size=32, ngf=8, ndf=8, steps=2, sample_every=10,
                             checkpoint_every=10, device="cpu", seed=2, runs_dir=str(runs_dir)))


@pytest.fixture(scope="module")
def sweep(competition_data, tmp_path_factory):
    """The sweep "s", stopped at the first step of its second run, then started again."""
    runs_dir = tmp_path_factory.mktemp("sweep") / "runs"
    cfg = base_config(competition_data, runs_dir)
    control, first = Control(), []

    def stop_in_second_run(event):
        first.append(event)
        in_second = any(e.kind == "log" and e.data["message"].startswith("[2/2]") for e in first)
        if in_second and event.kind == "step":
            control.stop.set()
    run_sweep(cfg, **GRID, sweep_id="s", kid_samples=KID_SAMPLES, callbacks=[stop_in_second_run], control=control)
    folder = runs_dir / "s"
    after_stop = {"rows": len(load_sweep(folder)), "second": Run(runs_dir / "s-bs16-lr0.0002").status()["state"]}
    second = []
    assert run_sweep(cfg, **GRID, sweep_id="s", kid_samples=KID_SAMPLES, callbacks=[second.append]) == folder
    return dict(folder=folder, runs_dir=runs_dir, first=first, after_stop=after_stop, second=second)


@pytest.mark.inception
def test_every_combination_is_an_ordinary_run_with_a_row(sweep):
    table = load_sweep(sweep["folder"])
    assert list(table["run"]) == ["s-bs8-lr0.0002", "s-bs16-lr0.0002"]
    assert list(table["batch_size"]) == [8, 16] and list(table["lr"]) == [2e-4, 2e-4]
    assert set(table["state"]) == {"finished"} and list(table["steps"]) == [2, 2]
    assert list(table["kid_samples"]) == [KID_SAMPLES] * 2 and list(table["kid_reference_images"]) == [KID_SAMPLES] * 2
    for column in ("loss_g_final", "loss_g_mean", "loss_d_final", "loss_d_mean", "d_x_final", "d_g_z1_mean",
                   "d_g_z2_final", "images_per_s", "kid_mean"):
        assert table[column].map(math.isfinite).all(), column
    runs = {r.id: r for r in list_runs(sweep["runs_dir"])}
    assert set(runs) == set(table["run"])  # the sweep folder is not a run
    for run in runs.values():
        config = run.config()
        assert run.status()["state"] == "finished" and config["lr_g"] == config["lr_d"] == 2e-4
        assert run.tags() == ["sweep:s"], "a sweep's runs carry its tag (once, though the first was resumed)"
    plan = read_plan(sweep["folder"])
    assert plan["batch_sizes"] == [8, 16] and plan["kid_samples"] == KID_SAMPLES and plan["runs"] == list(table["run"])


@pytest.mark.inception
def test_a_stopped_sweep_skips_what_is_done_and_resumes_the_run(sweep):
    assert sweep["after_stop"] == {"rows": 1, "second": "stopped"}
    assert [e.data["state"] for e in sweep["first"] if e.kind == "end"] == ["finished", "stopped", "stopped"]
    logs = [e.data["message"] for e in sweep["second"] if e.kind == "log"]
    assert logs[0] == "[1/2] s-bs8-lr0.0002: done before, skipped"
    assert logs[-1].startswith("[2/2] s-bs16-lr0.0002: finished, KID ")
    assert [e.data["resumed_from"] for e in sweep["second"] if e.kind == "start"] == [1]
    assert [e.data["state"] for e in sweep["second"] if e.kind == "end"][-1] == "finished"
    assert [r["step"] for r in Run(sweep["runs_dir"] / "s-bs16-lr0.0002").metrics()] == [1, 2]


@pytest.mark.inception
def test_a_sweep_keeps_its_plan(sweep, competition_data):
    cfg = base_config(competition_data, sweep["runs_dir"])
    with pytest.raises(ValueError, match=r"exists with other settings \(lrs\)"):
        plan_sweep(cfg, [8, 16], [1e-4], "s", KID_SAMPLES)
    with pytest.raises(ValueError, match="is a run, not a sweep"):
        plan_sweep(cfg, [8], [2e-4], "s-bs8-lr0.0002")


def test_the_command_line_refuses_swept_flags(capsys):
    args = ["sweep", "--data", "x", "--batch-sizes", "8,16", "--lrs", "1e-4", "--lr-g", "1e-3"]
    assert main(args) == 2
    assert "use --lrs" in capsys.readouterr().err
    parsed = build_parser().parse_args(["sweep", "--batch-sizes", "32,64,100", "--lrs", "1e-4,2e-4,3e-4"])
    assert (parsed.batch_sizes, parsed.lrs, parsed.kid_samples) == ([32, 64, 100], [1e-4, 2e-4, 3e-4],
                                                                     DEFAULT_KID_SAMPLES)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["sweep", "--batch-sizes", "a,b", "--lrs", "1e-4"])


@pytest.fixture
def studio(monkeypatch, competition_data, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_DATA", str(competition_data))
    reset_studio()
    yield tmp_path / "runs"
    reset_studio()


def open_sweep_page() -> AppTest:
    at = AppTest.from_file(str(REPO / "pages" / "sweep.py"), default_timeout=120)
    at.run()
    assert_no_exception(at)
    return at


def test_page_without_sweeps(studio):
    at = open_sweep_page()
    assert "No sweeps in" in texts(at)
    assert not widget(at.button, "Launch sweep").disabled


@pytest.mark.inception
def test_page_shows_the_table_and_a_heatmap(studio, sweep, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(sweep["runs_dir"]))
    at = open_sweep_page()
    assert widget(at.selectbox, "Sweep").value == "s"
    assert "2 of 2 combinations done" in texts(at)
    assert len(at.dataframe[0].value) == 2
    heatmap_of = widget(at.selectbox, "Heatmap of")
    assert heatmap_of.value == "kid_mean" and len(at.get("plotly_chart")) == 1
    heatmap_of.set_value("loss_g_final").run()
    assert_no_exception(at)
    assert "loss_g_final by batch size" in at.get("plotly_chart")[0].proto.spec


@pytest.mark.slow
def test_page_launches_a_sweep_in_the_background(studio):
    from studio.jobs import registry

    at = open_sweep_page()
    widget(at.text_input, "Sweep id").set_value("ui")
    widget(at.text_input, "Batch sizes").set_value("8")
    widget(at.text_input, "Learning rates (G and D)").set_value("2e-4")
    widget(at.number_input, "Steps (0: bounded by epochs)").set_value(1)
    widget(at.selectbox, "Image size").set_value(32)
    widget(at.selectbox, "Device").set_value("cpu")
    widget(at.button, "Launch sweep").click().run()
    assert_no_exception(at)
    job = registry().jobs("sweep")[0]
    assert job.label == "Sweep ui" and (studio / "ui" / "sweep.json").exists()
    assert widget(at.selectbox, "Sweep").value == "ui"
    job.control.stop.set()
    job.thread.join(120)
    assert job.state == "stopped"
