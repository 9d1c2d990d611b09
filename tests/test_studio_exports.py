"""Each export kept under its own name beside its manifest (studio.exports), its scores linked to
the zip they scored, and deleting one export safely; then the same through the Export & score
page. Small exports (6 images) of the tiny finished DCGAN run of studio_support; scoring is
replaced by a stand-in, so no Inception network is loaded."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from gan_core.export import export_zip
from gan_core.runs import Run
from studio import exports as studio_exports
from studio.exports import (delete_export, list_exports, manifest_path, new_export_path, score_and_record,
                            score_problem)
from studio_support import (assert_no_exception, finished_run_root, image_folder, open_page, point_studio_at,
                            rerun_until, reset_studio)

COUNT = 6


@pytest.fixture
def run(tmp_path) -> Run:
    """A copy of the tiny finished run (checkpoints at steps 2 and 3), in its own runs root."""
    shutil.copytree(finished_run_root() / "runs" / "tiny", tmp_path / "runs" / "tiny")
    return Run(tmp_path / "runs" / "tiny")


def export(run: Run, seed: int = 0, checkpoint: str = "latest", now: float | None = None) -> Path:
    """What the page does: a new name for the export, its manifest beside it."""
    path = run.resolve_checkpoint(checkpoint)
    out = new_export_path(run, path, now=now)
    export_zip(run.path, count=COUNT, out=out, manifest=manifest_path(out), seed=seed, checkpoint=path,
               batch_size=8, device="cpu")
    return out


def fake_evaluate(images, reference, max_images=None, callbacks=None, control=None) -> dict:
    """evaluate's result, without Inception: what score_and_record records."""
    return {"fid": 111.0, "kid_mean": 0.05, "kid_std": 0.01, "mifid": 112.0, "memorisation_distance": 0.4,
            "memorisation": [], "images": str(images), "reference": str(reference), "n_generated": COUNT,
            "n_reference": 4, "skipped": {"images": [], "reference": []}, "estimate": max_images is not None}


def test_a_new_export_is_named_by_step_and_time_and_never_takes_an_existing_name(run):
    now = 1_796_140_000.0
    latest, earlier = run.resolve_checkpoint("latest"), run.checkpoints_dir / "step_000002.pt"
    first = new_export_path(run, latest, now=now)
    made = time.strftime("%Y%m%d-%H%M", time.localtime(now))
    assert first.parent == run.path / "exports" and first.name == f"images-step000003-{made}.zip"
    assert new_export_path(run, earlier, now=now).name == f"images-step000002-{made}.zip"
    first.parent.mkdir()
    first.write_bytes(b"taken")
    assert new_export_path(run, latest, now=now).name == first.stem + "-2.zip"
    manifest_path(first.with_name(first.stem + "-2.zip")).write_text("{}")  # a manifest alone takes a name too
    assert new_export_path(run, latest, now=now).name == first.stem + "-3.zip"


def test_two_exports_are_both_kept_each_with_its_manifest(run):
    first = export(run, seed=0)
    second = export(run, seed=1)
    assert first != second and first.exists() and second.exists(), "the second export replaced the first"
    listed = list_exports(run)
    assert [e.path for e in listed] == [second, first], "newest first"
    for e, seed in zip(listed, (1, 0)):
        assert e.manifest_path == manifest_path(e.path) and e.manifest_path.exists()
        assert e.details["output"] == str(e.path.resolve()) and e.details["seed"] == seed
        assert e.details["count"] == COUNT and e.step == 3 and e.size == e.path.stat().st_size
    assert listed[0].details["sha256"] != listed[1].details["sha256"]
    table = studio_exports.exports_table(listed)
    assert table["export"].tolist() == [second.name, first.name] and table["scored"].tolist() == ["not yet"] * 2
    assert table["options"][0].startswith("JPEG 4:2:0 q75")


def test_a_score_stays_linked_to_the_zip_it_scored(run, monkeypatch):
    monkeypatch.setattr(studio_exports.metrics, "evaluate", fake_evaluate)
    first = export(run, seed=0)
    (listed,) = list_exports(run)
    score_and_record(run.path, first, Path("/paintings"), None, listed.details, None, None)
    second = export(run, seed=1)
    newest, oldest = list_exports(run)
    assert (newest.path, oldest.path) == (second, first)
    assert newest.scores == [] and len(oldest.scores) == 1
    score = oldest.latest_score
    assert score["images"] == str(first.resolve()) and score["sha256"] == oldest.details["sha256"]
    assert score["step"] == 3 and score["seed"] == 0 and score_problem(score) is None
    assert studio_exports.exports_table([newest, oldest])["latest FID"].tolist()[1] == 111.0


def test_a_zip_exported_again_under_its_name_loses_its_old_scores(run, monkeypatch):
    """`gan_core export --out <run>/exports/images.zip` twice: its manifests are <time>.json, and the
    first score was of other bytes."""
    monkeypatch.setattr(studio_exports.metrics, "evaluate", fake_evaluate)
    out = run.path / "exports" / "images.zip"
    export_zip(run.path, count=COUNT, out=out, seed=0, device="cpu")
    (legacy,) = list_exports(run)
    assert legacy.manifest_path.parent == out.parent and legacy.manifest_path.name != "images.json"
    score_and_record(run.path, out, Path("/paintings"), 4, legacy.details, None, None)
    assert len(list_exports(run)[0].scores) == 1
    export_zip(run.path, count=COUNT, out=out, seed=1, device="cpu")
    (again,) = list_exports(run)
    assert again.details["seed"] == 1 and again.scores == []
    assert "exported again" in score_problem(run.scores()[0])


def test_delete_needs_confirming_and_removes_only_the_chosen_export(run):
    first, second = export(run, seed=0), export(run, seed=1)
    with pytest.raises(ValueError, match="needs confirming"):
        delete_export(run.path, first)
    assert first.exists() and manifest_path(first).exists()
    removed = delete_export(run.path, first, confirmed=True)
    assert set(removed) == {first.resolve(), manifest_path(first).resolve()}
    assert not first.exists() and not manifest_path(first).exists()
    assert second.exists() and manifest_path(second).exists()
    assert [e.path for e in list_exports(run)] == [second]
    with pytest.raises(FileNotFoundError):
        delete_export(run.path, first, confirmed=True)


def test_delete_removes_an_older_exports_time_named_manifest(run):
    out = run.path / "exports" / "images.zip"
    report = export_zip(run.path, count=COUNT, out=out, device="cpu")
    kept = export(run)
    delete_export(run.path, "images.zip", confirmed=True)  # a name: in the run's exports/
    assert not out.exists() and not Path(report["manifest"]).exists()
    assert kept.exists() and manifest_path(kept).exists()


def test_delete_refuses_anything_outside_the_runs_exports_folder(run, tmp_path):
    kept = export(run)
    outside = tmp_path / "elsewhere.zip"
    shutil.copy(kept, outside)
    in_run = run.path / "elsewhere.zip"
    shutil.copy(kept, in_run)
    (tmp_path / "runs" / "other" / "exports").mkdir(parents=True)
    other_zip = tmp_path / "runs" / "other" / "exports" / "theirs.zip"  # another run's export
    shutil.copy(kept, other_zip)
    for path in (outside, in_run, "../elsewhere.zip", other_zip, run.path / "exports" / "../elsewhere.zip",
                 run.path / "config.json", manifest_path(kept)):
        with pytest.raises(ValueError, match="not an export of this run"):
            delete_export(run.path, path, confirmed=True)
    assert outside.exists() and in_run.exists() and other_zip.exists() and (run.path / "config.json").exists()
    assert kept.exists() and manifest_path(kept).exists()

    link = run.path / "exports" / "link.zip"  # a link named like an export: the link goes, never its target
    link.symlink_to(outside)
    assert delete_export(run.path, link, confirmed=True) == [link]
    assert not link.is_symlink() and outside.exists()


# --- the page ---------------------------------------------------------------------------------------
@pytest.fixture
def studio(monkeypatch, tmp_path, run):
    """The page's runs root holding the tiny run; a dataset with monet_jpg/ (the scoring reference)."""
    data = tmp_path / "data"
    image_folder(data / "monet_jpg", count=4, size=16)
    image_folder(data / "photo_jpg", count=4, size=16)
    monkeypatch.setattr(studio_exports.metrics, "evaluate", fake_evaluate)
    point_studio_at(monkeypatch, runs=tmp_path / "runs", uploads=tmp_path / "uploads", cache=tmp_path / "cache",
                    data=data)
    yield run
    reset_studio()


def exports_frame(at):
    return next(d.value for d in at.dataframe if "export" in d.value.columns)


def scores_frame(at):
    return next(d.value for d in at.dataframe if "zip" in d.value.columns)


def export_on_the_page(at, run: Run, expected: int):
    at.number_input[0].set_value(COUNT)
    next(b for b in at.button if b.label == "Export").click().run()
    assert_no_exception(at)
    return rerun_until(at, lambda at: len(list((run.path / "exports").glob("*.zip"))) == expected
                       and any("Exported and validated" in str(s.value) for s in at.success)
                       and len(exports_frame(at)) == expected)


def test_the_page_keeps_lists_scores_and_deletes_exports(studio):
    run = studio
    at = open_page("export_score")
    assert "Export images.zip first" in " ".join(str(i.value) for i in at.info)

    export_on_the_page(at, run, 1)
    (first,) = list_exports(run)
    assert at.selectbox(key="export_choice").value == first.name
    assert at.download_button[0].proto.label.startswith("Download images.zip")
    export_on_the_page(at, run, 2)
    second, _ = list_exports(run)
    assert exports_frame(at)["export"].tolist() == [second.name, first.name]
    assert at.selectbox(key="export_choice").value == second.name, "the picker follows the new export"
    assert first.path.exists() and manifest_path(first.path).exists() and manifest_path(second.path).exists()

    at.selectbox(key="export_choice").set_value(first.name).run()
    assert_no_exception(at)
    next(b for b in at.button if b.label == "Score").click().run()
    rerun_until(at, lambda at: any(s.value == f"Latest score of `{first.name}`" for s in at.subheader))
    assert [m.value for m in at.metric][0] == "111.00"
    assert scores_frame(at)["zip"].tolist() == [first.name]
    assert exports_frame(at)["latest FID"].tolist()[1] == 111.0

    at.selectbox(key="export_choice").set_value(second.name).run()
    assert_no_exception(at)
    assert not at.metric and any(f"`{second.name}` has no score yet" in str(c.value) for c in at.caption)
    assert scores_frame(at)["zip"].tolist() == [first.name], "the run's table still names the zip scored"
    at.toggle(key="scores_only_chosen").set_value(True).run()
    assert not any("zip" in d.value.columns for d in at.dataframe), "no score of the second export"
    at.toggle(key="scores_only_chosen").set_value(False).run()

    at.button(key="export_delete").click().run()  # not confirmed: nothing goes
    assert_no_exception(at)
    assert "Tick “I'm sure”" in " ".join(str(w.value) for w in at.warning) and second.path.exists()
    at.checkbox(key=f"export_delete_sure__{second.name}").check().run()
    at.button(key="export_delete").click().run()
    assert_no_exception(at)
    assert not second.path.exists() and not manifest_path(second.path).exists()
    assert first.path.exists() and manifest_path(first.path).exists()
    assert f"Deleted `{second.name}`" in " ".join(str(s.value) for s in at.success)
    assert exports_frame(at)["export"].tolist() == [first.name]
    assert at.selectbox(key="export_choice").value == first.name
    assert any(s.value == f"Latest score of `{first.name}`" for s in at.subheader), "its score is still its own"
    assert json.loads(manifest_path(first.path).read_text())["output"] == str(first.path.resolve())
