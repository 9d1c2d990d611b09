"""Helpers shared by the studio's tests: a tiny image folder, a small finished run, and opening
a page of the real entry point (studio/app.py) in Streamlit's AppTest."""
from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

from gan_core.config import build_config
from gan_core.trainer import train

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "studio" / "app.py"
TINY = dict(model="dcgan", image_size=32, ngf=8, ndf=8, batch_size=8, num_samples=16, device="cpu")


def image_folder(path: Path, count: int = 24, size: int = 40) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(path / f"img_{i:02d}.png")
    return path


@functools.cache
def finished_run_root() -> Path:
    """A temporary folder with images/, cache/ and runs/tiny: a 3-step DCGAN run, trained once per session."""
    root = Path(tempfile.mkdtemp(prefix="studio-test-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    images = image_folder(root / "images")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GAN_STUDIO_CACHE", str(root / "cache"))
        train(build_config(dict(TINY, data=str(images), steps=3, sample_every=1, checkpoint_every=2,
                                runs_dir=str(root / "runs"), run_id="tiny")))
    return root


STUDIO_FOLDERS = {"runs": "GAN_STUDIO_RUNS", "data": "GAN_STUDIO_DATA", "cache": "GAN_STUDIO_CACHE",
                  "uploads": "GAN_STUDIO_UPLOADS"}


def point_studio_at(monkeypatch, **folders: Path) -> None:
    """Point the studio at these folders (runs, data, cache, uploads: created if missing, data
    excepted), then forget what the server remembered (reset_studio)."""
    for key, path in folders.items():
        if key != "data":
            Path(path).mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(STUDIO_FOLDERS[key], str(path))
    reset_studio()


def reset_studio() -> None:
    """Stop any job left running, then forget the server-wide caches (job registry, dataset choice)."""
    from studio.jobs import registry

    for job in registry().active():
        job.control.stop.set()
        job.thread.join(60)
    st.cache_data.clear()
    st.cache_resource.clear()


def open_page(name: str, timeout: float = 120) -> AppTest:
    """The studio's page `name` (a file stem in pages/), run through studio/app.py."""
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    if name != "home":
        at.switch_page(f"../pages/{name}.py")  # before the first run: Home (and its jobs) never runs
    at.run()
    assert_no_exception(at)
    return at


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def widget(elements, name: str):
    """The widget labelled `name`, or the Train form's widget for the config field `name`."""
    from studio.train_form import field_label
    return next(w for w in elements if w.label in (name, field_label(name)))


def texts(at: AppTest) -> str:
    """Everything the page says in markdown, captions, alerts and titles, as one string."""
    groups = (at.title, at.header, at.subheader, at.markdown, at.caption, at.info, at.warning, at.error, at.success)
    progress = [p.proto.text for p in at.get("progress")]
    return "\n".join([str(e.value) for group in groups for e in group] + progress)


def rerun_until(at: AppTest, condition, timeout: float = 90, pause: float = 1.0) -> AppTest:
    """Rerun the page until condition(at) holds (a background job is doing the work)."""
    deadline = time.time() + timeout
    while not condition(at):
        assert time.time() < deadline, f"timed out; page says:\n{texts(at)}"
        time.sleep(pause)
        at.run()
        assert_no_exception(at)
    return at
