"""The real datasets: the competition's 300 Monet paintings (small sizes only) and MNIST t10k."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from gan_core.data import CorruptDatasetError, cache, load_images
from gan_core.data.layout import find_dataset
from gan_core.data.mnist import read_images


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def monet_competition(tmp_path, monet_dir) -> Path:
    """The competition layout holding only the Monet folder (linked, not copied)."""
    root = tmp_path / "competition"
    root.mkdir()
    (root / "monet_jpg").symlink_to(monet_dir, target_is_directory=True)
    return root


def test_competition_layout_lists_both_domains(competition_data):
    with find_dataset(competition_data) as dataset:
        assert dataset.kind == "competition"
        domains = [member.domain for member in dataset.members]
    assert domains.count("monet") == 300 and domains.count("photo") == 7038


def test_monet_paintings_load_once_then_come_from_the_cache(monet_competition, cache_dir, monkeypatch):
    images = load_images(monet_competition, 64)
    assert images.images.shape == (300, 3, 64, 64)
    assert images.domains == ["monet"] * 300 and images.names[0].startswith("monet_jpg/")
    report = images.report
    assert (report.kind, report.counts, report.resized, report.skipped, report.converted) == (
        "competition", {"monet": 300}, 300, [], [])
    assert 60 < images.images.float().mean() < 200
    (array_file,) = cache_dir.glob("*.npy")
    written = array_file.stat().st_mtime_ns

    decodes = []
    monkeypatch.setattr(cache, "decode_image", lambda *args: decodes.append(args))
    again = load_images(monet_competition, 64)
    assert decodes == [] and array_file.stat().st_mtime_ns == written
    assert again.images[:5].equal(images.images[:5])
    with pytest.raises(ValueError, match="no 'photo' images"):
        again.select("photo")


def test_monet_paintings_at_32_px(monet_dir):
    images = load_images(monet_dir, 32)
    assert images.images.shape == (300, 3, 32, 32) and images.domain_names == ["images"]


def test_mnist_t10k(mnist_raw):
    digits = load_images(mnist_raw, 28)
    assert digits.images.shape == (10000, 1, 28, 28) and digits.channels == 1
    pixels = digits.images.float()
    assert 30 < pixels.mean() < 37 and pixels.max() == 255 and (pixels == 0).float().mean() > 0.7
    assert digits.report.counts == {"digits": 10000} and digits.report.kind == "mnist"
    assert digits.select("monet") is digits

    resized = load_images(mnist_raw, 32)
    assert resized.images.shape == (10000, 1, 32, 32) and resized.report.resized == 10000


def test_mnist_plain_and_truncated_idx(mnist_raw, tmp_path):
    compressed = (mnist_raw / "t10k-images-idx3-ubyte.gz").read_bytes()
    plain = gzip.decompress(compressed)
    assert np.array_equal(read_images(plain, "t10k-images-idx3-ubyte"),
                          read_images(compressed, "t10k-images-idx3-ubyte.gz"))
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "t10k-images-idx3-ubyte").write_bytes(plain[:len(plain) // 2])
    with pytest.raises(CorruptDatasetError, match="t10k-images-idx3-ubyte: truncated IDX file: expected 7840016 bytes"):
        load_images(tmp_path / "raw", 28)
