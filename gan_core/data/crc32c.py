"""CRC-32C (Castagnoli), the checksum of TFRecord framing, without a compiled extension.

`crc32c` is a plain table loop for short inputs (record headers). `crc32c_many` checks whole
records at numpy speed: each payload is cut into CHUNK-byte rows whose raw CRCs are computed for
all rows at once, then each payload's row CRCs are folded together (CRC is linear over GF(2), so
crc(A + B) = advance(crc(A), len(B)) ^ crc(B)).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

POLY = 0x82F63B78  # reflected Castagnoli polynomial
CHUNK = 256
BLOCK = 4096  # rows transposed at a time: small enough to stay in cache


def _byte_table() -> np.ndarray:
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(POLY), table >> 1).astype(np.uint32)
    return table


TABLE = _byte_table()
_TABLE_LIST = TABLE.tolist()


def _advance_tables() -> np.ndarray:
    """ADVANCE[i][b]: the register (b << 8i) after CHUNK zero bytes; the advance is linear, so any
    register is advanced by xoring the entries of its four bytes."""
    states = np.arange(256, dtype=np.uint32)[None, :] << (8 * np.arange(4, dtype=np.uint32))[:, None]
    for _ in range(CHUNK):
        states = TABLE[states & 0xFF] ^ (states >> 8)
    return states


ADVANCE = _advance_tables()


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE_LIST[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def crc32c_many(payloads: Sequence[bytes | memoryview]) -> np.ndarray:
    lengths = np.array([len(p) for p in payloads], dtype=np.int64)
    pieces = []
    for payload, length in zip(payloads, lengths.tolist()):
        # Leading zeros leave a zero register unchanged, so padding goes in front. The initial
        # register 0xFFFFFFFF is equivalent to inverting the first four bytes.
        pieces += [bytes(-length % CHUNK), bytes(b ^ 0xFF for b in payload[:4]), payload[4:]]
    rows = np.frombuffer(b"".join(pieces), dtype=np.uint8).reshape(-1, CHUNK)
    row_crcs = np.zeros(len(rows), dtype=np.uint32)
    for start in range(0, len(rows), BLOCK):
        row_crcs[start:start + BLOCK] = _row_crcs(rows[start:start + BLOCK])

    n_rows = -(-lengths // CHUNK)
    ends = np.cumsum(n_rows)
    crcs = np.zeros(len(payloads), dtype=np.uint32)
    for remaining in range(int(n_rows.max(initial=0)), 0, -1):
        advanced = (ADVANCE[0][crcs & 0xFF] ^ ADVANCE[1][(crcs >> 8) & 0xFF]
                    ^ ADVANCE[2][(crcs >> 16) & 0xFF] ^ ADVANCE[3][crcs >> 24])
        active = n_rows >= remaining
        crcs = advanced ^ np.where(active, row_crcs[np.where(active, ends - remaining, 0)], 0).astype(np.uint32)
    # Payloads shorter than 4 bytes leave part of the initial register unconsumed.
    leftover = np.where(lengths < 4, 0xFFFFFFFF >> (8 * np.minimum(lengths, 3)), 0).astype(np.uint32)
    return crcs ^ leftover ^ np.uint32(0xFFFFFFFF)


def _row_crcs(rows: np.ndarray) -> np.ndarray:
    """Raw CRC (zero register, no final inversion) of each row, all rows at once."""
    crcs = np.zeros(len(rows), dtype=np.uint32)
    for column in np.ascontiguousarray(rows.T):
        crcs = TABLE[crcs.astype(np.uint8) ^ column] ^ (crcs >> 8)
    return crcs
