"""The competition-zip check on zips built by hand, and the conversion of model output to export pixels."""
from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core.export import to_export_pixels
from gan_core.export_validate import entry_name, validate_zip


def jpeg(size=256, mode="RGB", seed=0, fmt="JPEG") -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(buffer, fmt)
    return buffer.getvalue()


def make_zip(path, entries: list[tuple[str, bytes]]):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return path


def good_entries(n=3):
    return [(entry_name(i), jpeg(seed=i)) for i in range(n)]


def test_a_good_zip_passes(tmp_path):
    report = validate_zip(make_zip(tmp_path / "ok.zip", good_entries()), expected_count=3)
    assert report.ok and report.count == 3 and report.problems == []
    assert report.summary().startswith("valid: 3 entries")


def test_wrong_size_mode_and_format_are_named(tmp_path):
    entries = good_entries(4)
    entries[1] = (entry_name(1), jpeg(size=128))
    entries[2] = (entry_name(2), jpeg(mode="L"))
    entries[3] = (entry_name(3), jpeg(fmt="PNG"))
    report = validate_zip(make_zip(tmp_path / "bad.zip", entries))
    assert not report.ok and report.count == 4
    assert report.problems == ["image_00001.jpg is 128x128, not 256x256", "image_00002.jpg is L, not RGB",
                               "image_00003.jpg is PNG, not JPEG"]
    assert report.summary().startswith("INVALID (3 problems in 4 entries)")


def test_corrupt_entries_are_named(tmp_path):
    entries = good_entries(3)
    entries[1] = (entry_name(1), entries[1][1][: len(entries[1][1]) // 2])  # truncated JPEG
    entries[2] = (entry_name(2), b"not an image at all")
    report = validate_zip(make_zip(tmp_path / "corrupt.zip", entries))
    assert [p.split(" ")[0] for p in report.problems] == ["image_00001.jpg", "image_00002.jpg"]
    assert all("does not decode" in p for p in report.problems)


def test_damaged_bytes_inside_the_zip_fail_the_crc(tmp_path):
    path = make_zip(tmp_path / "flipped.zip", good_entries(2))
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        second = archive.getinfo(entry_name(1))
    middle = second.header_offset + 30 + len(second.filename) + second.file_size // 2
    raw[middle] ^= 0xFF
    path.write_bytes(bytes(raw))
    report = validate_zip(path)
    assert len(report.problems) == 1 and report.problems[0].startswith("image_00001.jpg does not decode")
    assert "CRC" in report.problems[0]


def test_wrong_count_names_and_duplicates(tmp_path):
    report = validate_zip(make_zip(tmp_path / "short.zip", good_entries(3)), expected_count=5)
    assert report.problems == ["3 entries, expected 5"]

    a, b = jpeg(seed=1), jpeg(seed=2)
    entries = [(entry_name(0), a), (entry_name(0), b), ("pics/image_00002.jpg", jpeg(seed=3)), (entry_name(3), a)]
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = make_zip(tmp_path / "names.zip", entries)
    problems = validate_zip(path).problems
    assert "image_00000.jpg appears 2 times" in problems
    assert any(p.startswith("unexpected entry name 'pics/image_00002.jpg'") for p in problems)
    assert "image_00001.jpg is missing" in problems and "image_00002.jpg is missing" in problems
    assert "image_00003.jpg has the same bytes as image_00000.jpg" in problems


def test_unreadable_files_are_reported_not_raised(tmp_path):
    (tmp_path / "fake.zip").write_bytes(b"PK but not really")
    for path in (tmp_path / "fake.zip", tmp_path / "missing.zip"):
        report = validate_zip(path)
        assert not report.ok and report.count == 0 and "not a readable zip" in report.problems[0]
    report = validate_zip(make_zip(tmp_path / "empty.zip", []))
    assert report.problems == ["0 entries: a submission holds 1 to 10,000"]


def test_export_pixels_upsample_and_replicate_grey():
    grey = torch.linspace(-1, 1, 28 * 28).view(1, 1, 28, 28).repeat(2, 1, 1, 1)
    pixels = to_export_pixels(grey)
    assert pixels.shape == (2, 256, 256, 3) and pixels.dtype == np.uint8
    assert (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 0] == pixels[..., 2]).all()
    assert pixels[0, 0, 0, 0] == 0 and pixels[0, -1, -1, 0] == 255  # corners keep the range's ends

    full = torch.full((1, 3, 256, 256), 2.0)  # out of range: clamped
    assert (to_export_pixels(full) == 255).all()
