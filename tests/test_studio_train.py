"""The Train page end to end (AppTest): launch a short run in the background, watch its metrics
arrive, refuse a second launch, stop it, resume it; and report invalid settings."""
import time

import pytest

from gan_core.runs import Run
from studio.jobs import registry
from studio.train_form import field_label
from studio_support import TINY, assert_no_exception, image_folder, open_page, reset_studio, texts, widget


@pytest.fixture
def studio(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GAN_STUDIO_DATA", str(image_folder(tmp_path / "images")))
    reset_studio()
    yield tmp_path
    reset_studio()


def fill(at, **values):
    for name, value in values.items():
        for elements in (at.number_input, at.selectbox, at.text_input):
            if any(w.label in (name, field_label(name)) for w in elements):
                widget(elements, name).set_value(value)
                break
        else:
            raise KeyError(name)
    return at


def wait_for(condition, timeout=60, what="condition"):
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def test_launch_watch_stop_and_resume(studio):
    at = open_page("train")
    settings = {k: v for k, v in TINY.items() if k != "model"}
    fill(at, **settings, steps=500, sample_every=2, checkpoint_every=3, run_id="studio-run")
    widget(at.button, "Launch training").click().run()
    assert_no_exception(at)
    run = Run(studio / "runs" / "studio-run")
    wait_for(lambda: len(run.metrics()) >= 3, what="the first metrics")
    job = registry().for_run(run.path, "train")
    assert job.state == "running" and registry().active("train") == [job]

    at.run()  # the page follows the new run; a rerun neither loses nor duplicates the job
    assert at.selectbox(key="train_run").value == "studio-run"
    assert "studio-run :blue-badge[running]" in texts(at)
    assert "losses_studio-run" in {chart.key for chart in at.get("plotly_chart")}
    assert registry().active("train") == [job]

    widget(at.text_input, "run_id").set_value("another-run")
    widget(at.button, "Launch training").click().run()
    assert "is already running on cpu: stop it or wait" in " ".join(e.value for e in at.error)

    at.button(key="stop_studio-run").click().run()
    job.thread.join(60)
    assert job.state == "stopped" and run.status()["state"] == "stopped"
    at.run()
    assert "studio-run :gray-badge[stopped]" in texts(at)
    stopped_at = run.status()["step"]
    assert run.latest_checkpoint().name == f"step_{stopped_at:06d}.pt"

    widget(at.button, f"Resume from step {stopped_at}").click().run()
    resumed = registry().for_run(run.path, "train")
    assert resumed is not job and resumed.label == "Resuming studio-run"
    wait_for(lambda: run.metrics()[-1]["step"] > stopped_at + 1, what="steps after resuming")
    at.run()
    at.button(key="stop_studio-run").click().run()
    resumed.thread.join(60)
    assert resumed.state == "stopped"
    steps = [row["step"] for row in run.metrics()]
    assert steps == list(range(1, steps[-1] + 1))  # resumed exactly: no gap, no duplicate


def test_invalid_settings_are_reported_not_launched(studio):
    at = open_page("train")
    fill(at, image_size=30)
    widget(at.button, "Launch training").click().run()
    assert_no_exception(at)
    assert "image_size=30: DCGAN supports 28, 32, 64, 128 or 256" in " ".join(e.value for e in at.error)
    assert registry().jobs() == []


def test_cyclegan_fields_appear_only_for_cyclegan(studio):
    at = open_page("train")
    labels = {w.label for w in at.number_input}
    assert field_label("latent_dim") in labels and field_label("lambda_cycle") not in labels
    at.selectbox(key="train_model_").set_value("cyclegan").run()
    labels = {w.label for w in at.number_input}
    assert {field_label(n) for n in ("lambda_cycle", "lambda_identity", "pool_size", "n_blocks")} <= labels
    assert field_label("latent_dim") not in labels
    at.selectbox(key="train_preset").set_value("cpu-preview").run()
    assert widget(at.number_input, "image_size").value == 128
    assert widget(at.number_input, "n_blocks").value == 6


def test_a_launch_that_fails_before_its_first_step_says_why(studio):
    at = open_page("train")
    fill(at, image_size=32, ngf=8, ndf=8, batch_size=64, device="cpu")
    widget(at.button, "Launch training").click().run()
    job = registry().jobs("train")[0]
    job.thread.join(60)
    at.run()
    assert_no_exception(at)
    assert "failed before its first step: ValueError: batch_size=64 is larger than the 24 training images" in \
        " ".join(e.value for e in at.error)
    assert "Traceback" not in texts(at)


def test_cut_preset_fills_the_form_with_its_own_fields(studio):
    at = open_page("train")
    widget(at.selectbox, "Preset").set_value("fastcut-cpu-preview").run()
    assert_no_exception(at)
    assert at.selectbox(key="train_model_fastcut-cpu-preview").value == "fastcut"
    labels = {w.label: w.value for kind in (at.selectbox, at.number_input, at.checkbox, at.text_input) for w in kind}
    assert labels[field_label("generator")] == "unet" and labels[field_label("upsample")] == "resize"
    assert labels[field_label("lambda_nce")] == 10.0 and labels[field_label("nce_idt")] is False
    assert field_label("lambda_cycle") not in labels and field_label("latent_dim") not in labels
    # FastCUT's own defaults apply without a preset too.
    widget(at.selectbox, "Preset").set_value("").run()
    at.selectbox(key="train_model_").set_value("fastcut").run()
    labels = {w.label: w.value for w in at.number_input}
    assert labels[field_label("lambda_nce")] == 10.0


def test_check_and_estimate_before_launch(studio):
    """24 images at batch 8: 3 steps per epoch, 5 epochs: 15 steps, timed on this machine; nothing launched."""
    at = open_page("train")
    settings = {k: v for k, v in TINY.items() if k != "model"}
    fill(at, **settings, epochs=5, steps=0, run_id="planned")
    widget(at.button, "Check and estimate time").click().run()
    assert_no_exception(at)
    job = registry().jobs("estimate")[0]
    job.thread.join(60)
    at.run()
    said = " ".join(i.value for i in at.info)
    assert "**15 steps**: 24 training images, 3 steps per epoch. Measured on cpu:" in said
    assert registry().jobs("train") == [] and not (studio / "runs" / "planned").exists()

    fill(at, image_size=30)
    widget(at.button, "Check and estimate time").click().run()
    assert "Cannot estimate: invalid training settings: image_size=30: DCGAN supports" in " ".join(e.value for e in at.error)
    assert len(registry().jobs("estimate")) == 1
