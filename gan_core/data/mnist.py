"""MNIST image files in the IDX format, as torchvision leaves them in MNIST/raw/: magic 0x00000803
(unsigned bytes, 3 dimensions), three big-endian uint32 sizes (count, rows, columns), the pixels."""
from __future__ import annotations

import gzip
import struct
import zlib
from typing import BinaryIO

import numpy as np

from gan_core.data.errors import CorruptDatasetError

IMAGE_FILES = ("train-images-idx3-ubyte", "t10k-images-idx3-ubyte")
MAGIC = b"\x00\x00\x08\x03"
HEADER_SIZE = 16


def _sizes(header: bytes, name: str) -> tuple[int, int, int]:
    if len(header) < HEADER_SIZE or header[:4] != MAGIC:
        raise CorruptDatasetError(f"{name}: not an IDX image file (bad header)")
    return struct.unpack(">III", header[4:HEADER_SIZE])


def count_images(file: BinaryIO, name: str) -> int:
    try:
        header = (gzip.GzipFile(fileobj=file) if name.endswith(".gz") else file).read(HEADER_SIZE)
    except (EOFError, OSError) as e:
        raise CorruptDatasetError(f"{name}: cannot read the IDX header ({e})") from None
    return _sizes(header, name)[0]


def read_images(data: bytes, name: str) -> np.ndarray:
    """uint8 [N, rows, columns]. A truncated file raises CorruptDatasetError naming it and the
    expected and actual sizes."""
    if name.endswith(".gz"):
        try:
            # A decompressor object returns what a truncated stream holds instead of raising.
            data = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)
        except zlib.error as e:
            raise CorruptDatasetError(f"{name}: corrupt gzip data ({e})") from None
    count, rows, columns = _sizes(data, name)
    expected = HEADER_SIZE + count * rows * columns
    if len(data) < expected:
        what = "decompressed size" if name.endswith(".gz") else "size"
        raise CorruptDatasetError(f"{name}: truncated IDX file: expected {expected} bytes, {what} is {len(data)}")
    return np.frombuffer(data, dtype=np.uint8, count=count * rows * columns,
                         offset=HEADER_SIZE).reshape(count, rows, columns)
