"""Faults of the data layer and of scoring, on real files: concurrent builders of one cache (threads
and processes), zip members with an unsupported compression method or encryption, a junk image in
a scoring folder; and the single definitions they rely on (image extensions, the cache folder)."""
from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import platformdirs
import pytest
import torch
from PIL import Image

from gan_core import image_files, locations
from gan_core.cli import main
from gan_core.data import cache, inspect_dataset, layout, load_images
from gan_core.data.layout import find_dataset
from gan_core.metrics import evaluate, inception, sources
from gan_core.metrics.sources import open_images

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def photos(competition_data, tmp_path) -> Path:
    """20 of the competition's photos, copied into a folder of the test's own."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for path in sorted((competition_data / "photo_jpg").glob("*.jpg"))[:20]:
        shutil.copy(path, folder / path.name)
    return folder


def decode_events(events) -> list:
    return [e for e in events if e.kind == "progress" and e.data.get("task") == "decode"]


# --- two builders of one cache -------------------------------------------------------------------

def test_two_threads_one_waiting_for_the_other_reuse_its_build(photos, tmp_path):
    cache_dir = tmp_path / "cache"
    first_events, second_events, results, errors = [], [], {}, []
    building = threading.Event()

    def slow_first(event):  # holds the build (and its lock) open long enough for the second to arrive
        first_events.append(event)
        if event.kind == "progress" and not building.is_set():
            building.set()
            time.sleep(1.0)

    def load(name, callbacks):
        try:
            results[name] = load_images(photos, 32, cache_dir=cache_dir, callbacks=callbacks)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    first = threading.Thread(target=load, args=("first", [slow_first]))
    first.start()
    assert building.wait(60)
    second = threading.Thread(target=load, args=("second", [second_events.append]))
    second.start()
    first.join()
    second.join()

    assert errors == []
    assert decode_events(first_events)[-1].data == {"task": "decode", "done": 20, "total": 20}
    assert decode_events(second_events) == []  # it decoded nothing
    assert [e.kind for e in second_events] == ["log"] and "waiting for another build" in second_events[0].data["message"]
    assert torch.equal(results["first"].images, results["second"].images)
    assert results["first"].names == results["second"].names and len(results["second"].names) == 20
    assert len(list(cache_dir.glob("*.npy"))) == 1 and len(list(cache_dir.glob("*.json"))) == 1
    assert [p.name for p in cache_dir.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock")] == []


def test_many_threads_started_together_build_once(photos, tmp_path):
    cache_dir = tmp_path / "cache"
    barrier = threading.Barrier(4)
    events = {i: [] for i in range(4)}
    results, errors = {}, []

    def load(i):
        barrier.wait()
        try:
            results[i] = load_images(photos, 32, cache_dir=cache_dir, callbacks=[events[i].append])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=load, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    builders = [i for i in range(4) if decode_events(events[i])]
    assert len(builders) == 1  # the others waited for it, or found its finished cache
    for i in range(1, 4):
        assert torch.equal(results[0].images, results[i].images) and results[i].names == results[0].names


BUILDER = """
import json, os, sys, time
from pathlib import Path
from gan_core.data import load_images
photos, cache_dir, marker = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
events = []
def callback(event):
    events.append(event)
    if event.kind == "progress" and not marker.exists():  # first builder: announce, then hold the lock
        marker.write_text("building")
        time.sleep(float(sys.argv[4]))
images = load_images(photos, 32, cache_dir=cache_dir, callbacks=[callback])
(npy,) = cache_dir.glob("*.npy")
stat = npy.stat()
print(json.dumps({"decoded": sum(e.kind == "progress" for e in events),
                  "waited": any(e.kind == "log" and "waiting" in e.data["message"] for e in events),
                  "n": len(images.names), "sum": int(images.images.sum()), "inode": stat.st_ino,
                  "mtime": stat.st_mtime_ns}))
"""


def _builder(photos, cache_dir, marker, hold_s):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-c", BUILDER, str(photos), str(cache_dir), str(marker), str(hold_s)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.subprocess
def test_two_processes_building_one_cache_build_it_once(photos, tmp_path):
    cache_dir, marker = tmp_path / "cache", tmp_path / "first-is-building"
    first = _builder(photos, cache_dir, marker, hold_s=4)
    deadline = time.time() + 120
    while not marker.exists() and first.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert marker.exists(), first.communicate()
    second = _builder(photos, cache_dir, marker, hold_s=0)
    outputs = []
    for proc in (first, second):
        stdout, stderr = proc.communicate(timeout=180)
        assert proc.returncode == 0, stderr
        outputs.append(json.loads(stdout.strip().splitlines()[-1]))
    built, reused = outputs
    assert built["decoded"] > 0 and not built["waited"]
    assert reused["decoded"] == 0 and reused["waited"]  # it waited on the lock, then read the first's cache
    assert built["n"] == reused["n"] == 20 and built["sum"] == reused["sum"]
    assert (built["inode"], built["mtime"]) == (reused["inode"], reused["mtime"])  # the same file: one build
    assert len(list(cache_dir.glob("*.npy"))) == 1
    assert [p.name for p in cache_dir.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock")] == []


# --- zip members zipfile cannot read -------------------------------------------------------------

def patch_member(path: Path, name: str, *, method: int | None = None, flag: int = 0) -> None:
    """Rewrite a member's compression method and/or set general-purpose flag bits, in its local
    header and in its central-directory entry (where readers look first)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        local = archive.getinfo(name).header_offset
    assert data[local:local + 4] == b"PK\x03\x04"
    end = data.rfind(b"PK\x05\x06")
    (entries,), (position,) = struct.unpack_from("<H", data, end + 10), struct.unpack_from("<I", data, end + 16)
    central = None
    for _ in range(entries):
        assert data[position:position + 4] == b"PK\x01\x02"
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, position + 28)
        if data[position + 46:position + 46 + name_len].decode() == name:
            central = position
        position += 46 + name_len + extra_len + comment_len
    assert central is not None
    for header, flag_at, method_at in ((local, 6, 8), (central, 8, 10)):
        if method is not None:
            struct.pack_into("<H", data, header + method_at, method)
        (flags,) = struct.unpack_from("<H", data, header + flag_at)
        struct.pack_into("<H", data, header + flag_at, flags | flag)
    path.write_bytes(bytes(data))


def zip_of(files: list[Path], path: Path, folder: str) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for f in files:
            archive.write(f, f"{folder}/{f.name}")
    return path


def damaged_zip(files: list[Path], path: Path, folder: str) -> tuple[Path, str, str]:
    """A zip of `files` whose second member claims deflate64 and third is flagged encrypted."""
    zip_of(files, path, folder)
    deflate64, encrypted = f"{folder}/{files[1].name}", f"{folder}/{files[2].name}"
    patch_member(path, deflate64, method=9)
    patch_member(path, encrypted, flag=0x1)
    with zipfile.ZipFile(path) as archive:  # the faults are real: zipfile itself refuses both
        assert archive.getinfo(deflate64).compress_type == 9
        assert archive.getinfo(encrypted).flag_bits & 0x1
        with pytest.raises(NotImplementedError):
            archive.read(deflate64)
        with pytest.raises(RuntimeError, match="encrypted"):
            archive.read(encrypted)
    return path, deflate64, encrypted


def test_deflate64_and_encrypted_zip_members_are_skipped_and_counted(photos, tmp_path):
    files = sorted(photos.glob("*.jpg"))[:8]
    archive, deflate64, encrypted = damaged_zip(files, tmp_path / "photos.zip", "photos")
    images = load_images(archive, 32, cache_dir=tmp_path / "cache")
    assert len(images.names) == 6 and deflate64 not in images.names and encrypted not in images.names
    skipped = dict(images.report.skipped)
    assert set(skipped) == {deflate64, encrypted}
    assert "deflate64" in skipped[deflate64] and "zip method 9" in skipped[deflate64]
    assert "encrypted" in skipped[encrypted] and "without a password" in skipped[encrypted]
    expected = load_images(photos, 32, cache_dir=tmp_path / "cache")  # the same photos read from the folder
    keep = [expected.names.index(Path(n).name) for n in images.names]
    assert torch.equal(images.images, expected.images[keep])

    report = inspect_dataset(archive, cache_dir=tmp_path / "cache2")
    assert report.total == 6 and len(report.skipped) == 2


def test_inspect_command_reports_unreadable_zip_members(photos, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(tmp_path / "cache"))
    archive, deflate64, encrypted = damaged_zip(sorted(photos.glob("*.jpg"))[:4], tmp_path / "p.zip", "p")
    assert main(["inspect", str(archive)]) == 0
    out = capsys.readouterr().out
    assert "usable images: 2" in out and f"{deflate64}: unreadable file: compressed with deflate64" in out
    assert f"{encrypted}: unreadable file: encrypted" in out


# --- scoring with unreadable images --------------------------------------------------------------

@pytest.mark.inception
@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")
def test_junk_image_in_a_scoring_folder_is_skipped_and_counted(photos, monet_dir, tmp_path, scoring_cache, capsys):
    generated = tmp_path / "generated"
    generated.mkdir()
    for path in sorted(photos.glob("*.jpg"))[:5]:
        shutil.copy(path, generated / path.name)
    (generated / "junk.jpg").write_bytes(b"this is not a JPEG, whatever its name says\n" * 20)
    monet = sorted(monet_dir.glob("*.jpg"))[:8]
    reference, deflate64, encrypted = damaged_zip(monet, tmp_path / "monet.zip", "monet_jpg")

    result = evaluate(generated, reference, device="cpu")
    assert [s["name"] for s in result["skipped"]["images"]] == ["junk.jpg"]
    assert result["skipped"]["images"] == [{"name": "junk.jpg", "reason": "not an image"}]
    reasons = {s["name"]: s["reason"] for s in result["skipped"]["reference"]}
    assert set(reasons) == {deflate64, encrypted}
    assert reasons[deflate64].startswith("unreadable file: compressed with deflate64 (zip method 9)")
    assert reasons[encrypted].startswith("unreadable file: encrypted")
    assert (result["n_generated"], result["n_reference"]) == (5, 6) and np.isfinite(result["fid"])
    named = {p["generated"] for p in result["memorisation"]} | {p["reference"] for p in result["memorisation"]}
    assert not named & {"junk.jpg", deflate64, encrypted}  # the pairs name only images that were scored

    again = evaluate(generated, reference, device="cpu")  # the reference's features and skips come from the cache
    assert again["reference_cached"] and again["skipped"] == result["skipped"]
    assert again["fid"] == pytest.approx(result["fid"], rel=1e-6)

    assert main(["evaluate", "--images", str(generated), "--reference", str(reference), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "skipped                1 unreadable images file(s), left out of the score; first: junk.jpg: not an image" in out
    assert "skipped                2 unreadable reference file(s)" in out

    for name in ("junk2.jpg", "junk3.jpg"):
        (generated / name).write_bytes(b"\xff\xd8\xff\xe0 truncated")
    for path in sorted(generated.glob("*.jpg"))[1:]:
        if not path.name.startswith("junk"):
            path.unlink()
    with pytest.raises(ValueError, match=r"only 1 of 4 image\(s\) could be read \(3 unreadable; first: junk.jpg"):
        evaluate(generated, reference, device="cpu")
    next(p for p in generated.glob("*.jpg") if not p.name.startswith("junk")).unlink()
    with pytest.raises(ValueError, match=r"only 0 of 3 image\(s\) could be read"):
        evaluate(generated, reference, device="cpu")  # not one batch to extract: still the same message


# --- one definition each -------------------------------------------------------------------------

def test_data_and_scoring_share_one_list_of_image_extensions(tmp_path):
    assert layout.IMAGE_EXTENSIONS is sources.IMAGE_EXTENSIONS is image_files.IMAGE_EXTENSIONS
    folder = tmp_path / "odd-formats"
    folder.mkdir()
    colours = {"a.gif": (255, 0, 0), "b.TIFF": (0, 255, 0), "c.ppm": (0, 0, 255), "d.WebP": (9, 9, 9)}
    for name, colour in colours.items():
        Image.new("RGB", (16, 16), colour).save(folder / name)
    (folder / "notes.txt").write_text("not an image name")
    with find_dataset(folder) as dataset:
        trained = sorted(m.name for m in dataset.members)
    scored = open_images(folder)
    assert trained == list(scored.names) == sorted(colours)
    assert all(image_files.is_image_name(n) for n in colours) and not image_files.is_image_name("notes.txt")
    assert sum(len(batch) for batch in scored.batches(8)) == 4 and scored.skipped == []


def test_cache_folder_default_comes_from_platformdirs_and_the_variable_still_wins(tmp_path, monkeypatch):
    monkeypatch.delenv("GAN_STUDIO_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    default = Path(platformdirs.user_cache_dir("monet-gan-studio", appauthor=False))
    if sys.platform.startswith("linux"):
        assert default == tmp_path / "xdg" / "monet-gan-studio"
    assert cache.cache_root() == inception.cache_root() == locations.cache_root() == default
    monkeypatch.delenv("XDG_CACHE_HOME")
    if sys.platform.startswith("linux"):
        assert cache.cache_root() == Path.home() / ".cache" / "monet-gan-studio"  # the old default, unchanged
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(tmp_path / "mine"))
    assert cache.cache_root() == inception.cache_root() == tmp_path / "mine"
    assert cache.cache_root(tmp_path / "explicit") == tmp_path / "explicit"
    monkeypatch.setenv("GAN_STUDIO_CACHE", "")  # empty means unset, as before
    assert cache.cache_root() == Path.home() / ".cache" / "monet-gan-studio" or not sys.platform.startswith("linux")


@pytest.mark.inception
@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")
def test_the_competition_zip_or_folder_as_reference_means_its_paintings(photos, monet_dir, competition_data,
                                                                         tmp_path, scoring_cache):
    from gan_core.metrics.sources import open_images

    folder = open_images(competition_data, "reference", paintings_only=True)
    assert len(folder) == 300 and all(name.startswith("monet_jpg/") for name in folder.names)
    assert len(open_images(competition_data)) == 300 + 7038  # generated images are never filtered
    monet = sorted(monet_dir.glob("*.jpg"))[:6]
    competition_zip = tmp_path / "gan-getting-started.zip"
    with zipfile.ZipFile(competition_zip, "w") as archive:
        for f in monet:
            archive.write(f, f"monet_jpg/{f.name}")
        for f in sorted(photos.glob("*.jpg"))[:10]:
            archive.write(f, f"photo_jpg/{f.name}")
    generated = tmp_path / "generated"
    generated.mkdir()
    for path in sorted(photos.glob("*.jpg"))[10:14]:
        shutil.copy(path, generated / path.name)
    result = evaluate(generated, competition_zip, device="cpu")
    assert result["n_reference"] == 6 and result["n_generated"] == 4
