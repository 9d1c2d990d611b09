"""Inception on real Monet images: offline weights, evaluate() end to end, the CLI."""
from __future__ import annotations

import json
import zipfile
from fractions import Fraction

import pytest
import torch
from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

from gan_core.cli import main
from gan_core.estimate import estimate_scoring
from gan_core.events import CancelledError, Control
from gan_core.metrics import evaluate, scoring
from gan_core.metrics.feature_cache import cache_path
from gan_core.metrics.inception import TORCH_FIDELITY_WEIGHTS, load_extractor, resolve_weights, torchscript_path
from gan_core.metrics.sources import open_images


@pytest.fixture
def cache(scoring_cache):
    return scoring_cache


@pytest.mark.inception
def test_weights_precedence(cache, tmp_path, converted, monkeypatch):
    assert resolve_weights().source == "converted"
    hub = tmp_path / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    (hub / TORCH_FIDELITY_WEIGHTS).symlink_to(converted)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    assert resolve_weights().source == "torch-hub"
    assert resolve_weights(converted).source == "user"
    with pytest.raises(FileNotFoundError):
        resolve_weights(tmp_path / "missing.pth")


def test_unsafe_weights_file_refused(tmp_path):
    path = tmp_path / "foreign.pth"
    torch.save({"fc.weight": Fraction(1, 3)}, path)  # any class outside torch's allow-list
    with pytest.raises(ValueError, match="plain state dict"):
        resolve_weights(path)


def linked_folder(folder, files):
    folder.mkdir()
    for f in files:
        (folder / f.name).symlink_to(f)
    return folder


@pytest.fixture
def monet_files(monet_dir):
    return sorted(monet_dir.glob("*.jpg"))


@pytest.mark.inception
@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")
def test_converted_extractor_matches_torchscript(cache, monet_dir):
    weights = resolve_weights()
    assert weights.source == "converted" and not weights.has_classifier
    extractor = load_extractor(weights, torch.device("cpu"))
    images = torch.stack(next(open_images(monet_dir).batches(8)))
    scripted = torch.jit.load(str(torchscript_path()), map_location="cpu").eval()
    with torch.no_grad():
        ours = extractor(images)[0]
        # fid-helper's network takes images already resized to 299 and scaled to [-1, 1)
        resized = interpolate_bilinear_2d_like_tensorflow1x(images.float(), size=(299, 299), align_corners=False)
        theirs = scripted((resized - 128) / 128)
    assert ours.shape == theirs.shape == (8, 2048)
    assert torch.allclose(ours, theirs, rtol=0, atol=1e-5)


@pytest.mark.inception
def test_evaluate_then_cli_reuses_cached_reference(cache, tmp_path, monet_files, monkeypatch, capsys):
    """evaluate() on a folder, then the CLI on a zip of the reference itself: features not recomputed."""
    reference = linked_folder(tmp_path / "reference", monet_files[:20])
    generated = linked_folder(tmp_path / "generated", monet_files[20:40])
    extracted = []  # (source, images) per feature extraction
    real_extract = scoring.extract
    monkeypatch.setattr(scoring, "extract", lambda batches, total, *args, **kwargs: (
        extracted.append((kwargs["source"], total)), real_extract(batches, total, *args, **kwargs))[1])
    events = []
    result = evaluate(generated, reference, max_images=10, callbacks=[events.append], device="cpu")
    assert extracted == [("the paintings", 20), ("the generated images", 10)]
    assert result["estimate"] is True and result["n_generated"] == 10 and result["n_reference"] == 20
    assert result["fid"] > 0 and result["mifid"] == result["fid"]  # different paintings: no penalty
    assert result["reference"] == str(reference) and "converted" in result["feature_extractor"]
    assert len(result["memorisation"]) == 10 and result["reference_cached"] is False
    assert [e.data["done"] for e in events if e.data.get("source") == "the paintings"][-1] == 20
    # Each phase has its own name (so its own rate and ETA in the studio), the statistics included.
    tasks = list(dict.fromkeys(e.data["task"] for e in events if e.kind == "progress"))
    assert tasks == ["features of the paintings", "features of the generated images", "FID, KID and memorisation"]

    cached = cache_path(open_images(reference), resolve_weights())
    mtime = cached.stat().st_mtime_ns
    archive = tmp_path / "copies.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in monet_files[:20]:
            z.write(f, f"images/{f.name}")
    extracted.clear()
    assert main(["evaluate", "--images", str(archive), "--reference", str(reference), "--json"]) == 0
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert extracted == [("the generated images", 20)]  # the reference came from the cache
    assert again["reference_cached"] is True and cached.stat().st_mtime_ns == mtime
    assert again["estimate"] is False and again["n_generated"] == 20
    assert abs(again["fid"]) < 1e-2  # a set against itself
    assert again["memorisation_distance"] < 1e-6
    assert again["mifid"] == pytest.approx(again["fid"] / (again["memorisation_distance"] + 1e-14))
    assert all(p["generated"] == f"images/{p['reference']}" for p in again["memorisation"])


@pytest.mark.inception
def test_evaluate_stops_when_asked(cache, tmp_path, monet_files):
    folder = linked_folder(tmp_path / "images", monet_files[:4])
    control = Control()
    control.stop.set()
    with pytest.raises(CancelledError):
        evaluate(folder, folder, control=control, device="cpu")


@pytest.mark.inception
def test_inception_score_refused_without_classifier(cache, tmp_path, monet_files):
    folder = linked_folder(tmp_path / "images", monet_files[:4])
    with pytest.raises(ValueError, match="classifier"):
        evaluate(folder, folder, inception_score=True)


@pytest.mark.parametrize("make_path", [
    lambda tmp: tmp / "missing",
    lambda tmp: _zip_without_images(tmp / "empty.zip"),
])
def test_cli_bad_paths_exit_2_with_one_line(tmp_path, monet_dir, capsys, make_path):
    code = main(["evaluate", "--images", str(make_path(tmp_path)), "--reference", str(monet_dir)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error:") and "\n" not in err


def _zip_without_images(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "no images here")
    return path


@pytest.mark.inception
def test_a_scoring_estimate_counts_what_evaluate_will_extract(cache, tmp_path, monet_files):
    """Before the score: 30 generated images (10 in an estimate), the 20 paintings until their features are
    cached; then the same counts without them. Nothing is extracted beyond the timed batches."""
    reference = linked_folder(tmp_path / "reference", monet_files[:20])
    generated = linked_folder(tmp_path / "generated", monet_files[20:50])
    first = estimate_scoring(generated, reference, device="cpu", timed_batches=1)
    assert (first.n_generated, first.n_reference, first.reference_cached) == (30, 20, False)
    assert first.seconds == pytest.approx(50 * first.seconds_per_image) and first.seconds_per_image > 0
    assert not cache_path(open_images(reference), resolve_weights()).exists()
    evaluate(generated, reference, max_images=4, device="cpu")
    quick = estimate_scoring(generated, reference, max_images=10, device="cpu", timed_batches=1)
    assert (quick.n_generated, quick.reference_cached) == (10, True)
    assert quick.seconds == pytest.approx(10 * quick.seconds_per_image)
    with pytest.raises(ValueError, match="8 images are too few to time a batch of 8"):
        estimate_scoring(linked_folder(tmp_path / "few", monet_files[:8]), reference, device="cpu")
