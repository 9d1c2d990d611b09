"""Home, Train and Runs through studio/app.py (AppTest): without a dataset, with the real
competition data, and with a small finished run."""
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio_support import (assert_no_exception, finished_run_root, open_page, point_studio_at, rerun_until,
                            reset_studio, texts, widget)

MY_PAGES = ["home", "train", "runs"]


@pytest.fixture
def studio(monkeypatch, tmp_path):
    """Empty runs folder, uploads and cache in tmp_path; a studio with nothing remembered."""
    (tmp_path / "empty").mkdir()
    point_studio_at(monkeypatch, runs=tmp_path / "runs", uploads=tmp_path / "uploads", cache=tmp_path / "cache",
                    data=tmp_path / "empty")
    yield tmp_path
    reset_studio()


@pytest.fixture
def real_data(studio, monkeypatch, competition_data, session_folders):
    monkeypatch.setenv("GAN_STUDIO_DATA", str(competition_data))
    # The session's cache: the competition data is decoded once per session, not per test
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(session_folders / "cache"))
    return competition_data


@pytest.fixture
def finished_run(studio, monkeypatch):
    root = finished_run_root()
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(root / "runs"))
    monkeypatch.setenv("GAN_STUDIO_DATA", str(root / "images"))
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(root / "cache"))
    return root / "runs" / "tiny"


@pytest.mark.parametrize("page", MY_PAGES)
def test_without_a_dataset_every_page_says_how_to_get_one(studio, page):
    at = open_page(page)
    said = texts(at)
    if page == "runs":
        assert "No runs in" in said
        return
    assert "No dataset yet" in said and "GAN_STUDIO_DATA" in said
    if page == "train":
        assert widget(at.button, "Launch training").disabled


def test_home_inspects_the_competition_data(real_data):
    at = rerun_until(open_page("home"), lambda at: any(m.label == "Usable images" for m in at.metric), timeout=180)
    counts = {m.label: m.value for m in at.metric}
    assert f"`{real_data}`" in texts(at)
    assert counts["monet"] == "300" and counts["photo"] == "7,038" and counts["Skipped"] == "0"


@pytest.mark.parametrize("page", ["train", "runs"])
def test_pages_with_the_competition_data(real_data, page):
    at = open_page(page)
    if page == "train":
        assert widget(at.text_input, "data").value == str(real_data)
        assert not widget(at.button, "Launch training").disabled
        assert "No runs in" in texts(at)
    else:
        assert "No runs in" in texts(at)


def test_home_lists_runs_and_the_dataset_report(finished_run):
    at = rerun_until(open_page("home"), lambda at: any(m.label == "Usable images" for m in at.metric))
    assert {m.label: m.value for m in at.metric}["Usable images"] == "24"
    table = at.dataframe[-1].value
    assert table.loc[0, "run"] == "tiny" and table.loc[0, "state"] == "finished" and table.loc[0, "step"] == 3


def test_train_page_shows_the_finished_run(finished_run):
    at = open_page("train")
    said = texts(at)
    assert "tiny :green-badge[finished]" in said and "step 3 of 3 · epoch 1 of 1 (3 steps each)" in said
    assert {chart.key for chart in at.get("plotly_chart")} == {"losses_tiny", "d_outputs_tiny", "lr_tiny"}
    assert widget(at.select_slider, "Samples at step").options == ["1", "2", "3"]
    assert at.get("download_button")
    assert not any(b.label.startswith("Resume") for b in at.button)  # finished runs are not resumed


def test_runs_page_compares_runs(finished_run):
    at = open_page("runs")
    assert at.multiselect(key="compare_runs").value == ["tiny"]
    assert at.get("plotly_chart")
    settings = at.dataframe[1].value
    assert settings.loc["image_size", "tiny"] == "32"
    assert "No scores yet" in texts(at)
    runs_table = at.dataframe[0]
    assert runs_table.value["best_fid"].isna().all()  # never scored: the cell reads "–", not "None"
    assert {frame.proto.placeholder for frame in at.dataframe} == {"–"}


def test_every_table_goes_through_show_table():
    """One way to draw a table (studio.tables.show_table), so no table of the studio reads "None"."""
    root = Path(__file__).resolve().parents[1]
    drawn = [str(f.relative_to(root)) for folder in ("studio", "pages") for f in sorted((root / folder).glob("*.py"))
             if "st.dataframe(" in f.read_text() and f.name != "tables.py"]
    assert drawn == []


def test_choosing_mnist_by_path(studio, mnist_raw):
    at = open_page("home")
    at.text_input[0].set_value(str(mnist_raw))
    widget(at.button, "Use this dataset").click().run()
    assert_no_exception(at)
    at = rerun_until(at, lambda at: any(m.label == "digits" for m in at.metric))
    assert f"`{mnist_raw}`" in texts(at)
    assert {m.label: m.value for m in at.metric}["digits"] == "10,000"
    at.switch_page("../pages/train.py").run()
    assert widget(at.text_input, "data").value == str(mnist_raw)


def test_a_path_that_is_no_dataset_is_refused(studio):
    at = open_page("home")
    at.text_input[0].set_value(str(studio / "empty"))
    widget(at.button, "Use this dataset").click().run()
    assert "holds no images" in " ".join(e.value for e in at.error)
    assert "No dataset yet" in texts(at)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _jpeg(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_uploading_the_competition_zip(studio):
    at = open_page("home")
    evil = _zip({"monet_jpg/a.jpg": _jpeg(0), "../../outside.jpg": _jpeg(1)})
    at.file_uploader[0].set_value(("evil.zip", evil, "application/zip")).run()
    assert "member '../../outside.jpg' points outside the archive" in " ".join(e.value for e in at.error)
    assert not list((studio / "uploads").iterdir())

    members = {f"{domain}_jpg/{i}.jpg": _jpeg(i) for domain in ("monet", "photo") for i in range(3)}
    at.file_uploader[0].set_value(("gan-getting-started.zip", _zip(members), "application/zip")).run()
    assert_no_exception(at)
    at = rerun_until(at, lambda at: any(m.label == "monet" for m in at.metric))
    assert f"`{studio / 'uploads' / 'gan-getting-started.zip'}`" in texts(at)
    assert {m.label: m.value for m in at.metric}["photo"] == "3"


def test_an_unreadable_dataset_says_why_once(studio):
    # Passes the quick check (a corrupt zip does not: tests/test_studio_settings.py), fails the inspection.
    broken = studio / "broken"
    broken.mkdir()
    (broken / "train-images-idx3-ubyte").write_bytes(b"not an IDX file")
    at = open_page("home")
    at.text_input[0].set_value(str(broken))
    widget(at.button, "Use this dataset").click().run()
    at = rerun_until(at, lambda at: len(at.error) > 0)
    assert f"Cannot read {broken}" in at.error[0].value and "Traceback" not in at.error[0].value
    at.run()
    assert widget(at.button, "Inspect again") and len(at.error) == 1  # failed jobs are not retried by themselves


def test_runs_page_shows_comparison_reports_and_sweeps(studio):
    import json

    from PIL import Image

    runs = studio / "runs"
    report = runs / "compare-1"
    report.mkdir()
    Image.new("RGB", (8, 8), "navy").save(report / "mlp_evolution.gif")
    table = [{"model": "mlp", "state": "finished", "steps": 4, "kid_mean": 0.26, "kid_std": 0.004}]
    (report / "report.json").write_text(json.dumps({
        "table": table, "gifs": {"mlp": "mlp_evolution.gif"}, "grids": {"mlp": []},
        "runs": {"mlp": str(runs / "compare-1-mlp")}, "kid_samples": 123, "settings": {}}))
    sweep = runs / "sweep-1"
    sweep.mkdir()
    (sweep / "sweep.json").write_text(json.dumps({"batch_sizes": [32, 64], "lrs": [0.0002]}))
    (sweep / "sweep.csv").write_text("batch_size,lr,kid_mean\n32,0.0002,0.31\n64,0.0002,0.29\n")
    at = open_page("runs")
    assert_no_exception(at)
    said = texts(at)
    assert "123 generated samples" in said and "batch sizes [32, 64]" in said
    frames = [d.value for d in at.dataframe]
    assert any(list(f.get("model", [])) == ["mlp"] for f in frames)
    assert any(list(f.get("kid_mean", [])) == [0.31, 0.29] for f in frames)
