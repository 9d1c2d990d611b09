"""The Dataset EDA, Latent explorer and Export & score pages under streamlit's AppTest: without a
dataset or runs, with the real dataset, and with tiny DCGAN and CycleGAN runs trained here."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from gan_core.config import build_config
from gan_core.trainer import train

PAGES = Path(__file__).resolve().parent.parent / "pages"
TIMEOUT = 60


def page(name: str) -> AppTest:
    return AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=TIMEOUT)


def texts(elements) -> str:
    return " ".join(str(e.value) for e in elements)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory, competition_data) -> Path:
    """12 paintings and 8 photos in the competition layout: quick to decode, train on and score against."""
    root = tmp_path_factory.mktemp("tiny") / "data"
    for folder, count in (("monet_jpg", 12), ("photo_jpg", 8)):
        (root / folder).mkdir(parents=True)
        for source in sorted((competition_data / folder).iterdir())[:count]:
            (root / folder / source.name).symlink_to(source)
    return root


@pytest.fixture(scope="module")
def trained_runs(tmp_path_factory, tiny_data) -> Path:
    runs = tmp_path_factory.mktemp("runs")
    common = dict(data=str(tiny_data), image_size=32, ngf=8, ndf=8, steps=2, checkpoint_every=2, sample_every=2,
                  num_samples=4, runs_dir=str(runs), device="cpu")
    train(build_config({**common, "model": "dcgan", "run_id": "dcgan-tiny", "batch_size": 8, "ema": True}))
    train(build_config({**common, "model": "cyclegan", "run_id": "cyclegan-tiny", "batch_size": 1, "n_blocks": 1}))
    return runs


@pytest.fixture
def studio_env(monkeypatch, tmp_path):
    """Points the studio at a dataset and a runs folder (empty temporary ones by default)."""
    def point(data: Path | None = None, runs: Path | None = None) -> None:
        for variable, path, fallback in (("GAN_STUDIO_DATA", data, "empty-data"),
                                         ("GAN_STUDIO_RUNS", runs, "empty-runs")):
            if path is None:
                path = tmp_path / fallback
                path.mkdir(exist_ok=True)
            monkeypatch.setenv(variable, str(path))
    # The studio remembers the last dataset chosen in any session in st.cache_resource.
    st.cache_resource.clear()
    point()
    return point


def test_pages_without_dataset_or_runs_say_so(studio_env):
    eda = page("dataset_eda").run()
    assert not eda.exception and "No dataset yet" in texts(eda.info)
    for name in ("latent_explorer", "export_score"):
        at = page(name).run()
        assert not at.exception and "No " in texts(at.info) and "runs in" in texts(at.info)


def test_dataset_eda_on_the_real_competition_data(studio_env, competition_data):
    studio_env(data=competition_data)
    at = page("dataset_eda")
    at.run(timeout=300)  # the first run ever decodes 7,338 images into the cache
    assert not at.exception
    assert [s.value for s in at.subheader][:4] == ["Per-domain summary", "Image sizes", "Colour histograms",
                                                    "Per-image intensity"]
    summary = at.dataframe[0].value  # statistics as rows, domains as columns
    assert summary.loc["images"].tolist() == ["300", "7,038"]
    assert len(at.dataframe) == 1 and "Every image is **256×256** px (7,338 images)." in texts(at.markdown)
    assert len(at.get("plotly_chart")) == 3 and len(at.image) == 16
    before = [i.value for i in at.image]
    next(b for b in at.button if b.label == "Reshuffle").click().run()
    assert not at.exception and [i.value for i in at.image] != before


def test_dataset_eda_on_mnist(studio_env, mnist_raw):
    studio_env(data=mnist_raw)
    at = page("dataset_eda").run(timeout=120)
    assert not at.exception and "Intensity histogram" in texts(at.subheader)
    assert at.dataframe[0].value.columns.tolist() == ["digits"] and len(at.get("plotly_chart")) == 2


def test_latent_explorer_on_a_dcgan_run(studio_env, trained_runs, tiny_data):
    studio_env(data=tiny_data, runs=trained_runs)
    at = page("latent_explorer").run()
    at.selectbox(key="latent_run").set_value("dcgan-tiny").run()
    assert not at.exception and "EMA generator" in texts(at.caption)
    assert len(at.image) == 2 and len(at.download_button) == 2  # the edited image and the slerp strip
    first = at.image[0].value
    pc1 = next(s for s in at.slider if s.key and s.key.startswith("latent_pc0"))
    pc1.set_value(2.5).run()
    assert not at.exception and at.image[0].value != first
    at.number_input(key="latent_seed").set_value(7).run()
    assert not at.exception and len(at.image) == 2


def test_latent_explorer_translates_a_dataset_photo_with_a_cyclegan_run(studio_env, trained_runs, tiny_data):
    studio_env(data=tiny_data, runs=trained_runs)
    at = page("latent_explorer").run()
    at.selectbox(key="latent_run").set_value("cyclegan-tiny").run()
    assert not at.exception and len(at.image) == 0  # waiting for an upload
    at.radio[0].set_value("From the dataset").run()
    assert not at.exception
    assert [i.captions for i in at.image] == [["Photo"], ["Monet-style"], ["Reconstructed photo"]]


@pytest.mark.inception
def test_export_then_score_a_dcgan_run(studio_env, trained_runs, tiny_data):
    studio_env(data=tiny_data, runs=trained_runs)
    at = page("export_score").run()
    at.selectbox(key="export_run").set_value("dcgan-tiny").run()
    assert not at.exception and [n.label for n in at.number_input] == ["Images", "Seed", "JPEG quality"]
    assert at.number_input[0].value == 7000 and "Export images.zip first" in texts(at.info)
    assert at.number_input[2].value == 75  # the competition's own JPEG quality
    # A noise run: no resolution or TTA to choose, only the JPEG's subsampling and quality, the colour
    # calibration and the precision.
    assert [s.label for s in at.selectbox][2:] == ["JPEG chroma subsampling", "Colour calibration"]
    assert at.selectbox[3].value == "none" and len(at.toggle) == 1

    exports = trained_runs / "dcgan-tiny" / "exports"
    assert "images-step000002-" in texts(at.caption), "the export is named by its step and time"
    at.number_input[0].set_value(12)
    next(b for b in at.button if b.label == "Export").click().run()
    assert not at.exception
    zip_path = wait_for_export(exports)
    at.run()
    assert not at.exception and "valid" in texts(at.success) and len(at.download_button) == 1
    assert zip_path.name.startswith("images-step000002-") and zip_path.with_suffix(".json").exists()
    assert at.download_button[0].proto.label.startswith("Download images.zip")
    assert at.selectbox(key="export_choice").value == zip_path.name
    assert "12 images from step 2" in texts(at.caption) and "JPEG 4:2:0 q75" in texts(at.caption)

    scores = trained_runs / "dcgan-tiny" / "scores.jsonl"
    estimate_size = next(n for n in at.number_input if n.label == "Images in the estimate")
    assert estimate_size.disabled, "the estimate size only counts when estimating"
    next(c for c in at.checkbox if c.label == "Quick estimate on a random subset").check().run()
    estimate_size = next(n for n in at.number_input if n.label == "Images in the estimate")
    assert not estimate_size.disabled
    estimate_size.set_value(6)
    next(b for b in at.button if b.label == "Score").click().run()
    assert not at.exception
    wait_for(lambda: scores.exists(), timeout=240)
    at.run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert labels[0] == "FID (estimate)" and labels[2] == "MiFID (estimate)"
    assert labels[1].startswith("KID (estimate) ± ")
    table = next(d.value for d in at.dataframe if "zip" in d.value.columns)  # the run's scores
    assert table["scored"].tolist() == ["estimate: 6 images"] and table["zip"].tolist() == [zip_path.name]
    assert len(at.image) == 6  # the memorisation gallery: one generated/painting pair per scored image


def test_export_a_cyclegan_run_with_its_options(studio_env, trained_runs, tiny_data):
    studio_env(data=tiny_data, runs=trained_runs)
    at = page("export_score").run()
    at.selectbox(key="export_run").set_value("cyclegan-tiny").run()
    assert not at.exception
    choices = {s.label: s for s in at.selectbox}
    assert {"Resolution", "Test-time augmentation", "JPEG chroma subsampling"} <= set(choices)
    choices["Resolution"].set_value("native")
    choices["Test-time augmentation"].set_value("flip")
    choices["JPEG chroma subsampling"].set_value("444")
    at.toggle[0].set_value(True)
    at.number_input[0].set_value(12)
    next(n for n in at.number_input if n.label == "JPEG quality").set_value(90)
    next(b for b in at.button if b.label == "Export").click().run()
    assert not at.exception
    zip_path = wait_for_export(trained_runs / "cyclegan-tiny" / "exports")
    at.run()
    assert not at.exception and "valid" in texts(at.success) and zip_path.name in texts(at.success)
    assert "native resolution, TTA flip, JPEG 4:4:4 q90, fp32" in texts(at.caption)


def wait_for_export(exports: Path, timeout: float = 120) -> Path:
    """The zip a background export wrote to a run's exports/ (the first one there), once it and the
    manifest beside it are there."""
    wait_for(lambda: any(p.with_suffix(".json").exists() for p in exports.glob("images-step*.zip")), timeout)
    (zip_path,) = exports.glob("images-step*.zip")
    return zip_path


def wait_for(condition, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "the background job did not finish in time"
        time.sleep(0.5)
