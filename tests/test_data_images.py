"""Image folders: odd and broken files, domains, the on-disk cache, and the `inspect` command."""
from __future__ import annotations

import io
import json
import os
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core.cli import main
from gan_core.data import (DatasetNotFoundError, EmptyDatasetError, ImageSet, InspectionReport, cache, inspect_dataset,
                           load_images, load_pixels)


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def save(image: Image.Image, path: Path, **options) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **options)


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.fixture
def odd_folder(tmp_path, monkeypatch) -> Path:
    """Eight usable images in awkward formats, five unusable files, and files that are no images."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 2000)  # PIL warns above this, raises above twice this
    root = tmp_path / "odd"
    noise = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    save(Image.fromarray(noise), root / "rgb.jpg")
    save(Image.new("L", (32, 32), 100), root / "gray.png")
    save(Image.new("RGBA", (32, 32), (255, 0, 0, 0)), root / "rgba.png")
    save(Image.new("RGB", (32, 32), (0, 200, 0)).convert("P"), root / "palette.png")
    save(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), root / "cmyk.jpg")
    save(Image.fromarray(np.full((32, 32), 65535, dtype=np.uint16)), root / "deep.png")
    save(Image.new("RGB", (48, 40), (10, 20, 30)), root / "wide.png")
    save(Image.fromarray(noise), root / "sub" / "nested.jpg")
    (root / "empty.jpg").write_bytes(b"")
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "JPEG")
    (root / "truncated.jpg").write_bytes(buffer.getvalue()[:len(buffer.getvalue()) // 2])
    (root / "notes.jpg").write_text("this is not a picture")
    save(Image.new("RGB", (50, 50)), root / "bomb_warning.png")   # 2500 pixels: PIL only warns
    (root / "bomb.png").write_bytes(png_declaring(100_000, 100_000))
    (root / "readme.txt").write_text("not an image file name: ignored")
    save(Image.fromarray(noise), root / ".hidden.jpg")
    return root


SKIPPED = {"bomb.png": "decompression bomb", "bomb_warning.png": "decompression bomb", "empty.jpg": "empty file",
           "notes.jpg": "not an image", "truncated.jpg": "corrupt or truncated image"}


def test_odd_images_are_converted_resized_or_skipped(odd_folder):
    images = load_images(odd_folder, 32)
    report = images.report
    assert isinstance(images, ImageSet) and isinstance(report, InspectionReport)
    assert images.names == ["cmyk.jpg", "deep.png", "gray.png", "palette.png", "rgb.jpg", "rgba.png",
                            "sub/nested.jpg", "wide.png"]
    assert images.images.shape == (8, 3, 32, 32) and images.images.dtype == torch.uint8
    assert report.kind == "folder" and report.counts == {"images": 8} and report.total == 8
    assert report.converted == [("cmyk.jpg", "CMYK -> RGB"), ("deep.png", "I;16 -> RGB (16-bit scaled to 8-bit)"),
                                ("gray.png", "L -> RGB"), ("palette.png", "P -> RGB"),
                                ("rgba.png", "RGBA -> RGB (alpha composited on white)")]
    assert {name: reason.split(":")[0] for name, reason in report.skipped} == SKIPPED
    assert report.resized == 1  # wide.png
    assert report.original_sizes == {"32x32": 7, "48x40": 1}

    pixels = dict(zip(images.names, images.images.numpy()))
    assert (pixels["rgba.png"] == 255).all()           # fully transparent -> white
    assert (pixels["deep.png"] == 255).all()           # 65535 -> 255
    assert (pixels["gray.png"] == 100).all()
    assert pixels["wide.png"][:, 16, 16].tolist() == [10, 20, 30]


def test_one_channel_target(odd_folder):
    images = load_images(odd_folder, 16, channels=1)
    assert images.images.shape == (8, 1, 16, 16) and images.channels == 1
    converted = dict(images.report.converted)
    assert "gray.png" not in converted
    assert converted["rgba.png"] == "RGBA -> L (alpha composited on white)"
    assert images.report.resized == 8


def _competition(root: Path, monet: int, photo: int) -> Path:
    for domain, count in (("monet", monet), ("photo", photo)):
        for i in range(count):
            save(Image.new("RGB", (32, 32), (i * 40, 0, 0)), root / f"{domain}_jpg" / f"{i}.jpg")
    return root


def test_select_by_domain(tmp_path):
    images = load_images(_competition(tmp_path / "comp", monet=2, photo=3), 32)
    assert images.domain_names == ["monet", "photo"]
    assert images.select("all") is images
    photos = images.select("photo")
    assert len(photos) == 3 and photos.names == ["photo_jpg/0.jpg", "photo_jpg/1.jpg", "photo_jpg/2.jpg"]
    assert photos.images.data_ptr() == images.images[2].data_ptr()  # a view, not a copy
    assert photos.report is images.report

    monet_only = load_images(_competition(tmp_path / "monet_only", monet=2, photo=0), 32)
    with pytest.raises(ValueError, match=rf"no 'photo' images in {tmp_path / 'monet_only'}"):
        monet_only.select("photo")

    folder = load_images(tmp_path / "comp" / "photo_jpg", 32)
    assert folder.domain_names == ["images"]
    assert folder.select("monet") is folder


def test_missing_or_empty_dataset_errors(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="does not exist") as missing:
        load_images(tmp_path / "nowhere", 32)
    assert isinstance(missing.value, FileNotFoundError)

    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no images here")
    with pytest.raises(EmptyDatasetError, match=r"no images found in .*empty: looked for monet_jpg/ and photo_jpg/"):
        inspect_dataset(tmp_path / "empty")

    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.jpg").write_bytes(b"")
    with pytest.raises(ValueError, match="no usable images in .*bad: 1 skipped; first: a.jpg: empty file"):
        load_images(tmp_path / "bad", 32)
    assert inspect_dataset(tmp_path / "bad").total == 0


class CountingDecoder:
    def __init__(self, monkeypatch, fail_on: int | None = None):
        self.calls, self.fail_on, self.decode = 0, fail_on, cache.decode_image
        monkeypatch.setattr(cache, "decode_image", self)

    def __call__(self, *args):
        self.calls += 1
        if self.calls == self.fail_on:
            raise KeyboardInterrupt
        return self.decode(*args)


def test_load_pixels_is_load_images_as_numpy(tmp_path, monkeypatch):
    root = _competition(tmp_path / "comp", monet=2, photo=3)
    images = load_images(root, 32)
    decoder = CountingDecoder(monkeypatch)
    data = load_pixels(root, 32)
    assert decoder.calls == 0  # the same cache
    assert isinstance(data.pixels, np.ndarray) and data.pixels.dtype == np.uint8 and data.pixels.shape == (5, 3, 32, 32)
    assert np.array_equal(data.pixels, images.images.numpy()) and data.names == images.names
    assert data.domains == images.domains and data.report == images.report and data.report.source == str(root)
    assert load_pixels(root, 16, channels=1).pixels.shape == (5, 1, 16, 16)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.jpg").write_bytes(b"")
    with pytest.raises(EmptyDatasetError, match="no usable images in .*bad: 1 skipped; first: a.jpg: empty file"):
        load_pixels(tmp_path / "bad", 32)


def test_cache_is_reused_and_invalidated(tmp_path, cache_dir, monkeypatch):
    root = _competition(tmp_path / "comp", monet=2, photo=3)
    decoder = CountingDecoder(monkeypatch)
    events = []
    first = load_images(root, 32, callbacks=[events.append])
    assert decoder.calls == 5
    assert [e.data["done"] for e in events] == [0, 1, 2, 3, 4, 5]
    assert events[-1].kind == "progress" and events[-1].data == {"task": "decode", "done": 5, "total": 5}
    files = sorted(p.name for p in cache_dir.iterdir() if not p.name.endswith(".lock"))  # the build's filelock stays
    assert len(files) == 2 and files[0].endswith("-32px-3ch.json") and files[1].endswith("-32px-3ch.npy")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = load_images(root, 32, callbacks=[events.append])
    assert decoder.calls == 5 and len(events) == 6  # no decoding, no progress
    assert torch.equal(first.images, second.images) and second.names == first.names
    assert second.images[torch.tensor([4, 0])].shape == (2, 3, 32, 32)

    load_images(root, 16)
    assert decoder.calls == 10  # another size, another cache
    os.utime(root / "photo_jpg" / "1.jpg", ns=(1, 1))
    load_images(root, 32)
    assert decoder.calls == 15  # a changed file invalidates


def test_interrupted_build_leaves_no_cache(tmp_path, cache_dir, monkeypatch):
    root = _competition(tmp_path / "comp", monet=2, photo=3)
    CountingDecoder(monkeypatch, fail_on=3)
    with pytest.raises(KeyboardInterrupt):
        load_images(root, 32)
    assert [p.name for p in cache_dir.iterdir() if not p.name.endswith(".lock")] == []  # no temporaries left

    monkeypatch.undo()
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(cache_dir))
    images = load_images(root, 32)
    stem = next(cache_dir.glob("*.json")).stem
    abandoned = cache_dir / f".{stem}.999999999.tmp.npy"  # left by a process that no longer exists
    abandoned.write_bytes(b"partial")
    (cache_dir / f"{stem}.json").unlink()  # without its sidecar the array is not trusted
    assert torch.equal(load_images(root, 32).images, images.images)
    assert not abandoned.exists()


def test_cache_array_holds_exactly_the_usable_images(odd_folder, cache_dir):
    load_images(odd_folder, 32)
    (array_file,) = cache_dir.glob("*.npy")
    assert np.load(array_file, mmap_mode="r").shape == (8, 3, 32, 32)


def test_inspect_command(odd_folder, tmp_path, capsys):
    assert main(["inspect", str(odd_folder)]) == 0
    out = capsys.readouterr().out
    assert "usable images: 8" in out and "bomb.png: decompression bomb" in out and "gray.png: L -> RGB" in out

    assert main(["inspect", str(odd_folder), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["total"] == 8 and report["image_size"] == 256 and len(report["skipped"]) == 5

    assert main(["inspect", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: dataset not found") and err.count("\n") == 1

    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.png").write_bytes(b"")
    assert main(["inspect", str(tmp_path / "bad")]) == 2
    assert "a.png: empty file" in capsys.readouterr().out
