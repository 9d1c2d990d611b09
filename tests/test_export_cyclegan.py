"""CycleGAN export: translations of the run's photos, then of the mirrored photos, never more than 2x."""
from __future__ import annotations

import io
import shutil
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core import checkpoint
from gan_core.config import build_config
from gan_core.data import load_images
from gan_core.export import export_zip, to_export_pixels
from gan_core.models import load_model
from gan_core.models.base import to_model_range
from gan_core.runs import Run
from gan_core.trainer import train
from test_cyclegan import small_competition

PHOTOS = 6


@pytest.fixture(scope="module")
def cyclegan_run(competition_data, tmp_path_factory):
    """A one-step CycleGAN run on a small competition layout: 4 paintings, 6 photos."""
    data = small_competition(competition_data, tmp_path_factory.mktemp("competition"), 4, PHOTOS)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GAN_STUDIO_CACHE", str(tmp_path_factory.mktemp("cache")))
        cfg = build_config(dict(data=str(data), model="cyclegan", image_size=32, ngf=8, ndf=8, n_blocks=1,
                                batch_size=2, steps=1, runs_dir=str(tmp_path_factory.mktemp("runs")), run_id="cyc"))
        run = train(cfg)
        photos = load_images(data, 32).select("photo")
        yield run, photos


def decoded(path) -> list[np.ndarray]:
    with zipfile.ZipFile(path) as archive:
        return [np.asarray(Image.open(io.BytesIO(archive.read(n)))).astype(int) for n in archive.namelist()]


def test_photos_then_mirrored_photos(cyclegan_run, tmp_path):
    run, photos = cyclegan_run
    report = export_zip(run.path, count=PHOTOS + 3, out=tmp_path / "images.zip", resolution="training")
    assert report["validation"]["ok"] and report["count"] == PHOTOS + 3
    model, _ = load_model(run.path)
    x = to_model_range(photos.images, model.device)
    with torch.no_grad():
        straight = to_export_pixels(model.translate(x)).astype(int)
        mirrored = to_export_pixels(model.translate(x.flip(-1))).astype(int)
    expected = list(straight) + list(mirrored[:3])
    # JPEG and bf16 move pixels by about 2 levels; another photo's translation by about 20.
    for got, want in zip(decoded(report["path"]), expected):
        assert np.abs(got - want).mean() < 5


def test_more_than_twice_the_photos_is_refused(cyclegan_run, tmp_path):
    run, _ = cyclegan_run
    assert export_zip(run.path, count=2 * PHOTOS, out=tmp_path / "all.zip")["count"] == 2 * PHOTOS
    with pytest.raises(ValueError, match=f"twice the {PHOTOS} photos"):
        export_zip(run.path, count=2 * PHOTOS + 1, out=tmp_path / "too_many.zip")
    assert not (tmp_path / "too_many.zip").exists()


def test_the_export_translates_with_the_ema_generator(cyclegan_run, tmp_path):
    """A one-step run with --ema whose average is then set far from the live G_monet (last layer x -4)."""
    first, photos = cyclegan_run
    cfg = build_config(dict(data=first.config()["data"], model="cyclegan", image_size=32, ngf=8, ndf=8, n_blocks=1,
                            batch_size=2, steps=1, ema=True, runs_dir=str(tmp_path / "runs"), run_id="ema"))
    run = Run(shutil.copytree(train(cfg).path, tmp_path / "edited"))
    path = run.latest_checkpoint()
    ckpt = checkpoint.load(path)
    live = ckpt["state"]["nets"]["G_monet"]
    last = [k for k, v in live.items() if k.endswith(".weight") and v.dim() == 4][-1]
    ema = ckpt["state"]["ema"]["weights"] = {k: v.clone() for k, v in live.items()}
    ema[last] = live[last] * -4
    checkpoint.save_atomic(ckpt, path)

    report = export_zip(run.path, count=PHOTOS, out=tmp_path / "images.zip", resolution="training", fp32=True)
    model, _ = load_model(run.path)
    assert model.translator() is model.ema.model
    assert all(torch.equal(w, ema[name]) for name, w in model.translator().named_parameters())
    x = to_model_range(photos.images, model.device)
    from_ema = to_export_pixels(model.translate(x)).astype(int)
    from_live = to_export_pixels(model._run(model.nets["G_monet"], x)).astype(int)
    got = np.stack(decoded(report["path"]))
    assert np.abs(got - from_ema).mean() < 5  # JPEG
    assert np.abs(got - from_live).mean() > 10 * np.abs(got - from_ema).mean()
