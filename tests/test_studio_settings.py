"""What the studio remembers across restarts (studio.settings: <runs root>/studio-settings.json),
uploads kept outside the default dataset folder, and datasets that cannot be read: never "In use",
refused in one line, and Launch disabled with the reason."""
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from studio import datasets, settings
from studio_support import (assert_no_exception, finished_run_root, image_folder, open_page, point_studio_at,
                            rerun_until, reset_studio, texts, widget)


def competition_zip(path: Path, competition: Path, per_domain: int = 4) -> Path:
    """A small zip laid out as gan-getting-started.zip: a few real files of monet_jpg/ and photo_jpg/."""
    with zipfile.ZipFile(path, "w") as archive:
        for domain in ("monet_jpg", "photo_jpg"):
            for image in sorted((competition / domain).glob("*.jpg"))[:per_domain]:
                archive.write(image, f"{domain}/{image.name}")
    return path


def named_zip(path: Path) -> Path:
    """A zip whose member names make a dataset (the quick check reads nothing else)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("monet_jpg/a.jpg", b"not decoded by the quick check")
    return path


def corrupt_zip(path: Path) -> Path:
    path.write_bytes(b"PK\x03\x04 this was a zip until the download stopped" + bytes(200))
    return path


@pytest.fixture
def studio(monkeypatch, tmp_path):
    """Its own runs root (and so settings file), uploads and cache; $GAN_STUDIO_DATA a small image
    folder, so a dataset in use that is not the environment's was chosen and remembered."""
    monkeypatch.delenv("GAN_STUDIO_MNIST", raising=False)
    point_studio_at(monkeypatch, runs=tmp_path / "runs", uploads=tmp_path / "uploads", cache=tmp_path / "cache",
                    data=image_folder(tmp_path / "env-images", count=4, size=16))
    yield tmp_path
    reset_studio()


def in_use(at) -> str | None:
    said = [m.value for m in at.markdown if str(m.value).startswith("**In use:**")]
    return said[0].removeprefix("**In use:** ").strip("`") if said else None


def saved(studio: Path) -> dict:
    return json.loads((studio / "runs" / settings.SETTINGS_NAME).read_text())


def choose_by_path(at, path, inspected: bool = False) -> None:
    at.text_input[0].set_value(str(path))
    widget(at.button, "Use this dataset").click().run()
    assert_no_exception(at)
    if inspected:  # as a user would: the report is shown before the next choice
        rerun_until(at, lambda at: any(m.label == "Usable images" for m in at.metric))


# --- studio.settings on its own -----------------------------------------------------------------
def test_settings_remember_the_dataset_and_the_recent_ones(studio):
    assert settings.settings_path() == studio / "runs" / "studio-settings.json"
    assert settings.load() == settings.Settings()  # no file yet: nothing remembered, no complaint
    for path in ("/data/a", "/data/b", "/data/a"):
        settings.remember_dataset(path)
    loaded = settings.load()
    assert loaded.dataset == "/data/a" and loaded.recent == ["/data/a", "/data/b"] and loaded.problem is None
    for i in range(20):
        settings.remember_dataset(f"/data/{i}")
    assert len(settings.load().recent) == settings.MAX_RECENT and settings.load().recent[0] == "/data/19"
    assert not [p.name for p in (studio / "runs").iterdir() if p.name != "studio-settings.json"]  # no temporaries


@pytest.mark.parametrize("content", ["{\"dataset\": \"/data/a\", \"rec", "[1, 2]", "{\"dataset\": 3}",
                                     "{\"recent\": \"/data/a\"}", "\xff\xfe garbage"])
def test_a_damaged_settings_file_is_ignored_in_one_line_then_rewritten(studio, content):
    path = studio / "runs" / settings.SETTINGS_NAME
    path.write_bytes(content.encode("latin-1"))
    loaded = settings.load()
    assert loaded.dataset is None and loaded.recent == []
    assert loaded.problem.startswith(f"Ignoring the studio's settings {path}: studio-settings.json is damaged")
    assert "\n" not in loaded.problem and "rewritten" in loaded.problem
    settings.remember_dataset("/data/b")
    assert settings.load() == settings.Settings(dataset="/data/b", recent=["/data/b"])


def test_an_unwritable_settings_file_raises_oserror(studio, monkeypatch):
    (studio / "a-file").write_text("")
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(studio / "a-file"))
    with pytest.raises(OSError):
        settings.remember_dataset("/data/a")


# --- the quick dataset check and the uploads folder ---------------------------------------------
def test_a_zip_must_open_and_hold_images(studio, competition_data):
    good = competition_zip(studio / "good.zip", competition_data, per_domain=1)
    assert datasets.dataset_problem(good) is None
    broken = corrupt_zip(studio / "broken.zip")
    problem = datasets.dataset_problem(broken)
    assert problem.startswith(f"{broken} is not a readable zip archive") and "\n" not in problem
    with zipfile.ZipFile(studio / "text.zip", "w") as archive:
        archive.writestr("README.txt", "hello")
    assert datasets.dataset_problem(studio / "text.zip") == (f"{studio / 'text.zip'} holds no images, .tfrec or "
                                                             f"MNIST files (1 other file(s), e.g. 'README.txt')")
    zipfile.ZipFile(studio / "empty.zip", "w").close()
    assert datasets.dataset_problem(studio / "empty.zip") == f"{studio / 'empty.zip'} is an empty zip archive"
    # The check follows the file: the good zip truncated (an interrupted copy) is refused at once.
    good.write_bytes(good.read_bytes()[:100])
    assert "is not a readable zip archive" in datasets.dataset_problem(good)


def test_uploads_are_kept_outside_the_default_dataset_folder(studio, monkeypatch):
    monkeypatch.delenv("GAN_STUDIO_UPLOADS")
    monkeypatch.delenv("GAN_STUDIO_DATA")
    from gan_core.config import default_data_path

    assert not datasets.uploads_dir().resolve().is_relative_to(Path(default_data_path()).resolve())
    assert datasets.uploads_dir() == datasets.REPO / "uploads"
    # A data folder holding nothing but uploads (now's or the old data/uploads) is no dataset.
    data = studio / "data"
    monkeypatch.setattr(datasets, "default_data_path", lambda: str(data))
    monkeypatch.setattr(datasets, "LEGACY_UPLOADS", data / "uploads")
    named_zip(data / "uploads" / "old.zip")
    assert datasets.environment_dataset() is None
    assert "uploaded old.zip" in next(iter(datasets.known_datasets()))  # still offered, by itself
    monkeypatch.setenv("GAN_STUDIO_UPLOADS", str(data / "mine"))
    (data / "mine").mkdir()
    shutil.copy(data / "uploads" / "old.zip", data / "mine" / "new.zip")
    assert datasets.environment_dataset() is None
    image_folder(data / "paintings", count=1)
    assert datasets.environment_dataset() == str(data)


# --- the studio ------------------------------------------------------------------------------------
def test_a_restart_keeps_the_uploaded_dataset(studio, competition_data):
    upload = competition_zip(studio / "gan-getting-started.zip", competition_data)
    at = open_page("home")
    at.file_uploader[0].set_value(("gan-getting-started.zip", upload.read_bytes(), "application/zip")).run()
    assert_no_exception(at)
    kept = studio / "uploads" / "gan-getting-started.zip"
    at = rerun_until(at, lambda at: any(m.label == "monet" for m in at.metric))
    assert in_use(at) == str(kept) and saved(studio)["dataset"] == str(kept)

    # An Export & score page with something to score: a copy of the small finished run, exported.
    shutil.copytree(finished_run_root() / "runs" / "tiny", studio / "runs" / "tiny")
    (studio / "runs" / "tiny" / "exports").mkdir(exist_ok=True)
    (studio / "runs" / "tiny" / "exports" / "images.zip").write_bytes(upload.read_bytes())

    reset_studio()  # a restart: no session, no server-wide choice, no job; only the files remain
    at = open_page("home")
    assert in_use(at) == str(kept) and not at.error and not at.warning, texts(at)
    at = rerun_until(at, lambda at: any(m.label == "monet" for m in at.metric))
    assert {m.label: m.value for m in at.metric}["photo"] == "4" and not at.error

    at = open_page("export_score")
    said = texts(at)
    # Scored against the remembered upload (its monet_jpg/ members), not refused for want of paintings.
    assert f"against `{kept}`" in said.lower() and "Scoring needs the Monet paintings" not in said, said
    assert not at.error, said


def test_recently_used_datasets_are_known_after_a_restart(studio):
    first, second = image_folder(studio / "first", count=2, size=16), image_folder(studio / "second", count=2, size=16)
    at = open_page("home")
    choose_by_path(at, first, inspected=True)
    choose_by_path(at, second, inspected=True)
    assert saved(studio)["recent"] == [str(second), str(first)]
    reset_studio()
    at = open_page("home")
    assert in_use(at) == str(second)
    widget(at.button, f"recently used: {first}").click().run()
    assert_no_exception(at)
    assert in_use(at) == str(first) and saved(studio)["recent"] == [str(first), str(second)]


def test_a_damaged_settings_file_warns_once_and_is_rewritten(studio):
    path = studio / "runs" / settings.SETTINGS_NAME
    path.write_text('{"dataset": "/somewhere", "recent": [')  # torn by a full disk, say
    at = open_page("home")
    (warning,) = at.warning
    assert warning.value.startswith(f"Ignoring the studio's settings {path}") and "\n" not in warning.value
    assert in_use(at) == str(studio / "env-images")  # the environment's dataset meanwhile
    choose_by_path(at, image_folder(studio / "chosen", count=2, size=16))
    assert saved(studio)["dataset"] == str(studio / "chosen")
    reset_studio()
    at = open_page("home")
    assert not at.warning and in_use(at) == str(studio / "chosen")


def test_a_corrupt_zip_typed_as_a_path_is_refused_and_never_in_use(studio):
    broken = corrupt_zip(studio / "broken.zip")
    at = open_page("home")
    before = in_use(at)
    choose_by_path(at, broken)
    (error,) = at.error
    assert error.value.startswith(f"{broken} is not a readable zip archive") and "\n" not in error.value
    assert in_use(at) == before != str(broken)
    assert not (studio / "runs" / settings.SETTINGS_NAME).exists()  # nothing remembered
    at.run()
    assert in_use(at) == before and not any(str(broken) in label for label in (b.label for b in at.button))


def test_a_remembered_dataset_gone_bad_is_not_in_use_and_launch_says_why(studio, monkeypatch):
    good = named_zip(studio / "mine.zip")
    settings.remember_dataset(str(good))
    corrupt_zip(good)  # overwritten by an interrupted copy while the studio was down
    monkeypatch.setenv("GAN_STUDIO_DATA", str(studio / "missing"))
    at = open_page("home")
    assert in_use(at) is None and "No dataset yet" in texts(at)
    assert any(w.value.startswith(f"The dataset chosen earlier cannot be used now: {good} is not a readable zip")
               for w in at.warning)

    at = open_page("train")
    assert widget(at.button, "Launch training").disabled
    caption = next(c.value for c in at.caption if "Launch is disabled" in c.value)
    assert f"the chosen dataset cannot be used: {good} is not a readable zip archive" in caption
    assert "Choose a dataset on the Home page" in caption and "\n" not in caption


def test_launch_without_any_dataset_says_why(studio, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_DATA", str(studio / "missing"))
    at = open_page("train")
    assert widget(at.button, "Launch training").disabled
    caption = next(c.value for c in at.caption if "Launch is disabled" in c.value)
    assert f"$GAN_STUDIO_DATA cannot be used: {studio / 'missing'} does not exist" in caption


def test_launch_refuses_a_data_field_edited_to_a_broken_path(studio):
    broken = corrupt_zip(studio / "broken.zip")
    at = open_page("train")
    assert not widget(at.button, "Launch training").disabled
    widget(at.text_input, "data").set_value(str(broken))
    widget(at.button, "Launch training").click().run()
    assert_no_exception(at)
    assert any(e.value.startswith(f"Cannot launch: {broken} is not a readable zip archive") for e in at.error)
    from studio.jobs import registry
    assert registry().jobs("train") == []
