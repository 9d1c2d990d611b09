"""CRC-32C (Castagnoli), the checksum of TFRecord framing, computed by google-crc32c (the C
implementation, hardware-accelerated where the CPU has CRC instructions).

`crc32c` checks one buffer (a record header); `crc32c_many` the data of many records at once.
Both accept bytes, bytearray or memoryview slices of a file (google-crc32c takes only bytes, so a
slice is copied first: a memcpy, far cheaper than the JPEG decode that follows).
"""
from __future__ import annotations

from typing import Sequence

import google_crc32c
import numpy as np


def crc32c(data: bytes | bytearray | memoryview) -> int:
    return google_crc32c.value(bytes(data))


def crc32c_many(payloads: Sequence[bytes | bytearray | memoryview]) -> np.ndarray:
    """uint32 CRC-32C of each payload, in order."""
    value = google_crc32c.value
    return np.fromiter((value(bytes(p)) for p in payloads), dtype=np.uint32, count=len(payloads))
