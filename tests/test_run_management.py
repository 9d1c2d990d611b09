"""Renaming, tagging and deleting runs: refused while a process trains the run, and for names that
cannot be a run folder; the Runs page drives them, with a confirmation before a delete."""
from __future__ import annotations

import json

import pytest

from gan_core.runs import Run, claim_run, create_run, delete_run, list_runs, rename_run


def idle_run(root, run_id="old", state="finished"):
    run = create_run(root, run_id)
    (run.path / "config.json").write_text(json.dumps({"model": "dcgan", "run_id": run_id}))
    run.set_status(state, "")
    (run.path / "metrics.jsonl").write_text(json.dumps({"step": 1, "loss_d": 1.0, "loss_g": 2.0}) + "\n")
    return run


def test_rename_moves_the_folder_and_its_id(tmp_path):
    run = idle_run(tmp_path)
    renamed = rename_run(run, "new")
    assert not run.path.exists() and renamed.path == tmp_path / "new"
    assert renamed.config()["run_id"] == "new" and renamed.metrics()[0]["step"] == 1
    assert [r.id for r in list_runs(tmp_path)] == ["new"]


@pytest.mark.parametrize("name", ["a/b", "..", ".hidden", " padded", ""])
def test_rename_refuses_names_that_are_not_one_folder(tmp_path, name):
    with pytest.raises(ValueError, match="cannot name a run"):
        rename_run(idle_run(tmp_path), name)


def test_rename_never_replaces_another_run(tmp_path):
    idle_run(tmp_path, "taken")
    with pytest.raises(ValueError, match="already exists"):
        rename_run(idle_run(tmp_path), "taken")


def test_a_run_being_trained_is_neither_renamed_nor_deleted(tmp_path):
    run = idle_run(tmp_path, state="running")
    with claim_run(run.path):
        for action in (lambda: rename_run(run, "new"), lambda: delete_run(run)):
            with pytest.raises(ValueError, match="being trained right now: stop it"):
                action()
    assert run.path.exists()
    # Its process gone (lock released), the interrupted run can go.
    delete_run(run)
    assert not run.path.exists()


def test_delete_refuses_a_folder_that_is_not_a_run(tmp_path):
    (tmp_path / "stuff").mkdir()
    with pytest.raises(ValueError, match="not a run folder"):
        delete_run(Run(tmp_path / "stuff"))
    assert (tmp_path / "stuff").exists()


def test_tags_are_cleaned_kept_and_listed(tmp_path):
    run = idle_run(tmp_path)
    assert run.tags() == []
    assert run.set_tags([" baseline ", "", "cpu", "baseline"]) == ["baseline", "cpu"]
    assert Run(run.path).tags() == ["baseline", "cpu"] and run.summary()["tags"] == "baseline, cpu"
    (run.path / "tags.json").write_text("{torn")
    assert run.tags() == [], "a damaged tags file reads as no tags"


def test_the_runs_page_renames_tags_and_deletes_with_confirmation(tmp_path, monkeypatch):
    from studio_support import assert_no_exception, open_page, reset_studio

    idle_run(tmp_path, "keep")
    idle_run(tmp_path, "old")
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path))
    reset_studio()
    at = open_page("runs")
    at.selectbox(key="manage_run").set_value("old").run()
    at.text_input(key="manage_tags").set_value("baseline, cpu").run()
    at.button(key="manage_save_tags").click().run()
    assert_no_exception(at)
    assert Run(tmp_path / "old").tags() == ["baseline", "cpu"]
    at.text_input(key="manage_new_id").set_value("renamed").run()
    at.button(key="manage_rename").click().run()
    assert_no_exception(at)
    assert (tmp_path / "renamed").exists() and not (tmp_path / "old").exists()
    at.selectbox(key="manage_run").set_value("renamed").run()
    at.button(key="manage_delete").click().run()
    assert (tmp_path / "renamed").exists(), "no delete without the confirmation"
    at.checkbox(key="manage_confirm").check().run()
    at.button(key="manage_delete").click().run()
    assert_no_exception(at)
    assert not (tmp_path / "renamed").exists() and (tmp_path / "keep").exists()
    reset_studio()
