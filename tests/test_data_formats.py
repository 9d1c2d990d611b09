"""Container formats read without their usual libraries: TFRecord (framing, CRC-32C, tf.train.Example),
zip archives read in place, and MNIST IDX files."""
from __future__ import annotations

import gzip
import io
import os
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_core.data import CorruptDatasetError, load_images
from gan_core.data.crc32c import crc32c, crc32c_many
from gan_core.data.tfrecord import masked_crc, parse_example

RED, BLUE = (220, 30, 30), (30, 30, 220)


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def jpeg(colour, size=(40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


# --- a minimal TFRecord writer, as TensorFlow frames records ---

def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def encode_example(features: dict) -> bytes:
    entries = b""
    for key, value in features.items():
        if isinstance(value, bytes):
            feature = _field(1, _field(1, value))                                     # bytes_list
        elif isinstance(value, int):
            feature = _field(3, _field(1, _varint(value % 2**64)))                    # packed int64_list
        else:
            feature = _field(2, _field(1, struct.pack("<f", value)))                  # packed float_list
        entries += _field(1, _field(1, key.encode()) + _field(2, feature))
    return _field(1, entries)


def frame(data: bytes) -> bytes:
    length = struct.pack("<Q", len(data))
    return (length + struct.pack("<I", masked_crc(crc32c(length))) + data
            + struct.pack("<I", masked_crc(crc32c(data))))


def kaggle_tfrecord(colour, names, domain) -> bytes:
    return b"".join(frame(encode_example({"image": jpeg(colour), "image_name": name.encode(),
                                          "target": domain.encode()})) for name in names)


def channel_means(images) -> list[float]:
    return images.float().mean(dim=(0, 2, 3)).tolist()


# --- CRC-32C and protobuf ---

def bitwise_crc32c(data: bytes) -> int:
    """The textbook bit-at-a-time CRC-32C (reflected polynomial 0x82F63B78): an independent oracle."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def test_crc32c_matches_the_standard_check_value_and_an_independent_implementation():
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value (RFC 3720, B.4)
    assert crc32c(bytes(32)) == 0x8A9136AA and crc32c(b"\xff" * 32) == 0x62A8AB43  # RFC 3720's test vectors
    payloads = [os.urandom(n) for n in (0, 1, 3, 4, 5, 255, 256, 257, 1000, 5000)]
    expected = [bitwise_crc32c(p) for p in payloads]
    assert [crc32c(p) for p in payloads] == expected
    assert crc32c_many(payloads).tolist() == expected and crc32c_many(payloads).dtype == np.uint32
    # TFRecord readers hand in memoryview slices of the file, not bytes
    blob = b"".join(payloads)
    offsets = np.cumsum([0] + [len(p) for p in payloads]).tolist()
    views = [memoryview(blob)[a:b] for a, b in zip(offsets, offsets[1:])]
    assert crc32c_many(views).tolist() == expected and crc32c(views[-1]) == expected[-1]
    assert crc32c_many([]).tolist() == []


def test_parse_example_reads_bytes_int64_and_float_features():
    record = encode_example({"image": b"\xff\xd8jpeg", "image_name": b"abc", "label": 7, "debt": -3, "score": 0.5})
    assert parse_example(memoryview(record)) == {"image": [b"\xff\xd8jpeg"], "image_name": [b"abc"], "label": [7],
                                                 "debt": [-3], "score": [0.5]}
    with pytest.raises(ValueError):
        parse_example(memoryview(record[:-3]))


# --- TFRecord datasets ---

def test_competition_tfrec_folders_are_used_when_there_are_no_jpgs(tmp_path):
    (tmp_path / "monet_tfrec").mkdir()
    (tmp_path / "photo_tfrec").mkdir()
    (tmp_path / "monet_tfrec" / "monet00-2.tfrec").write_bytes(kaggle_tfrecord(RED, ["m0", "m1"], "monet"))
    (tmp_path / "photo_tfrec" / "photo00-3.tfrec").write_bytes(kaggle_tfrecord(BLUE, ["p0", "p1", "p2"], "photo"))
    images = load_images(tmp_path, 32)
    assert images.images.shape == (5, 3, 32, 32)
    assert images.report.kind == "competition"
    assert images.report.counts == {"monet": 2, "photo": 3}
    assert images.names[:3] == ["monet_tfrec/monet00-2.tfrec/m0", "monet_tfrec/monet00-2.tfrec/m1",
                                "photo_tfrec/photo00-3.tfrec/p0"]
    red, _, blue = channel_means(images.select("monet").images)
    assert red > 200 and blue < 50
    red, _, blue = channel_means(images.select("photo").images)
    assert blue > 200 and red < 50


def test_jpg_folder_wins_over_tfrec_for_the_same_domain(tmp_path):
    for folder in ("monet_jpg", "monet_tfrec", "photo_tfrec"):
        (tmp_path / folder).mkdir()
    (tmp_path / "monet_jpg" / "a.jpg").write_bytes(jpeg(RED))
    (tmp_path / "monet_tfrec" / "monet00-1.tfrec").write_bytes(kaggle_tfrecord(RED, ["m0"], "monet"))
    (tmp_path / "photo_tfrec" / "photo00-1.tfrec").write_bytes(kaggle_tfrecord(BLUE, ["p0"], "photo"))
    images = load_images(tmp_path, 32)
    assert images.names == ["monet_jpg/a.jpg", "photo_tfrec/photo00-1.tfrec/p0"]
    assert images.domains == ["monet", "photo"]


def test_damaged_tfrecords_are_reported_and_the_rest_is_read(tmp_path):
    good = [frame(encode_example({"image": jpeg(RED), "image_name": f"r{i}".encode()})) for i in range(3)]
    bad_crc = bytearray(good[1])
    bad_crc[-10] ^= 0xFF  # a byte of the data: the data CRC no longer matches
    no_image = frame(encode_example({"image_name": b"empty"}))
    malformed = frame(b"\x0a\x50\x01")  # declares 80 bytes, holds 1
    not_jpeg = frame(encode_example({"image": b"not a jpeg", "image_name": b"text"}))
    data = good[0] + bytes(bad_crc) + no_image + malformed + not_jpeg + good[2] + good[2][:30]
    path = tmp_path / "monet00-9.tfrec"
    path.write_bytes(data)

    images = load_images(path, 32)
    assert images.report.kind == "tfrec"
    assert images.names == ["monet00-9.tfrec/r0", "monet00-9.tfrec/r2"]
    assert images.domains == ["monet", "monet"]
    assert [(name, reason.split(" (")[0]) for name, reason in images.report.skipped] == [
        ("monet00-9.tfrec/#1", "corrupt record"),
        ("monet00-9.tfrec/empty", "no 'image' bytes feature"),
        ("monet00-9.tfrec/#3", "truncated protobuf message"),
        ("monet00-9.tfrec/text", "not an image"),
        ("monet00-9.tfrec/#6", "truncated TFRecord file"),
    ]


# --- zip archives ---

def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_competition_zip_is_read_in_place(tmp_path):
    (tmp_path / "download").mkdir()
    archive = _zip(tmp_path / "download" / "gan-getting-started.zip", {
        "monet_jpg/a.jpg": jpeg(RED), "photo_jpg/b.jpg": jpeg(BLUE), "photo_jpg/c.jpg": jpeg(BLUE),
        "__MACOSX/monet_jpg/._a.jpg": b"resource fork", "monet_tfrec/monet00-1.tfrec": b"ignored: jpgs exist"})
    images = load_images(archive, 32)
    assert images.report.kind == "zip"
    assert images.names == ["monet_jpg/a.jpg", "photo_jpg/b.jpg", "photo_jpg/c.jpg"]
    assert images.report.counts == {"monet": 1, "photo": 2}
    assert images.report.skipped == []
    assert list(archive.parent.iterdir()) == [archive]  # nothing unpacked beside it


def test_zip_with_tfrec_folders_only(tmp_path):
    archive = _zip(tmp_path / "gan.zip", {"monet_tfrec/monet00-2.tfrec": kaggle_tfrecord(RED, ["m0", "m1"], "monet"),
                                          "photo_tfrec/photo00-1.tfrec": kaggle_tfrecord(BLUE, ["p0"], "photo")})
    images = load_images(archive, 32)
    assert images.report.counts == {"monet": 2, "photo": 1}
    assert images.names[-1] == "photo_tfrec/photo00-1.tfrec/p0"


# --- MNIST IDX ---

def idx_images(images: np.ndarray) -> bytes:
    return b"\x00\x00\x08\x03" + struct.pack(">III", *images.shape) + images.tobytes()


def test_mnist_idx_plain_and_gzip_from_the_mnist_or_raw_folder(tmp_path):
    digits = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_images(digits)))
    (raw / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_images(digits[:2])))
    from_raw = load_images(raw, 28)
    assert from_raw.report.kind == "mnist"
    assert from_raw.images.shape == (7, 1, 28, 28)
    assert from_raw.names[0] == "train-images-idx3-ubyte.gz/00000"
    assert from_raw.domains == ["digits"] * 7
    assert np.array_equal(from_raw.images[2:, 0].numpy(), digits)

    (raw / "t10k-images-idx3-ubyte").write_bytes(idx_images(digits))  # extracted copy beside the .gz
    from_parent = load_images(tmp_path / "MNIST", 28)
    assert from_parent.names[2] == "raw/t10k-images-idx3-ubyte/00000"
    assert np.array_equal(from_parent.images.numpy(), from_raw.images.numpy())
    assert load_images(raw, 32).images.shape == (7, 1, 32, 32)
    assert load_images(raw, 28, channels=3).images.shape == (7, 3, 28, 28)


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_idx_file_names_the_file_and_sizes(tmp_path, compress):
    data = idx_images(np.zeros((5, 28, 28), dtype=np.uint8))[:2000]
    name = "t10k-images-idx3-ubyte" + (".gz" if compress else "")
    (tmp_path / name).write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(CorruptDatasetError, match=rf"{name}: truncated IDX file: expected 3936 bytes, .* is 2000"):
        load_images(tmp_path, 28)


def test_damaged_zip_member_is_skipped(tmp_path):
    archive = _zip(tmp_path / "photos.zip", {"a.jpg": jpeg(RED), "b.jpg": jpeg(BLUE)})
    data = bytearray(archive.read_bytes())
    data[data.index(jpeg(BLUE)) + 100] ^= 0xFF  # stored uncompressed: flip a byte of b.jpg
    archive.write_bytes(bytes(data))
    images = load_images(archive, 32)
    assert images.names == ["a.jpg"]
    assert images.report.skipped == [("b.jpg", "unreadable file: Bad CRC-32 for file 'b.jpg'")]
